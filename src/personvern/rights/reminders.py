"""Deadline reminders for privacy requests: who must answer what, and by when.

Every morning the worker's ``rights-deadline-reminders`` job mails each person
responsible one message listing their open requests that are overdue, due
today or due within 7 days (:func:`personvern.rights.selectors.requests_to_remind`).
A request with an assignee who has an e-mail address goes to the assignee; the
rest go to the data protection officer (staff in that role, else
``PERSONVERN_DPO_EMAIL``, else the policy's controller address).

The mail names a request only by its reference, type and deadline: nothing
about the person it concerns, which staff look up in the back office.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from personvern.rights.models import Request, RequestType
from personvern.rights.selectors import DUE_SOON_DAYS, ReminderBucket, requests_to_remind

#: The kind of the queued mail (the outbox's back office shows it).
MAIL_KIND = "rights-reminder"

SUBJECT_REMINDER = _("Privacy requests with a deadline to meet")
INTRO_REMINDER = _(
    "These privacy requests that you are responsible for must be answered by their legal "
    "deadline. Open them in the back office under Privacy requests (search for the "
    "reference), or list them with: personvern rights list --due-within %(days)d"
)
HEADING_OVERDUE = _("Overdue:")
HEADING_DUE_TODAY = _("Due today:")
HEADING_DUE_SOON = _("Due within %(days)d days:")
LINE_REQUEST = _("%(reference)s, %(type)s, legal deadline %(date)s")

HEADINGS = {
    ReminderBucket.OVERDUE: HEADING_OVERDUE,
    ReminderBucket.DUE_TODAY: HEADING_DUE_TODAY,
    ReminderBucket.DUE_SOON: HEADING_DUE_SOON,
}


def reminder_recipients(
    buckets: dict[ReminderBucket, list[Request]], *, fallback: Callable[[], list[str]]
) -> dict[str, dict[ReminderBucket, list[Request]]]:
    """Per recipient address, the requests to remind them of, by bucket.

    A request goes to its assignee when the assignee is an active user with an
    address, else to every address ``fallback()`` gives (the data protection
    officer). A recipient who is both gets one list.
    """
    by_recipient: dict[str, dict[ReminderBucket, list[Request]]] = defaultdict(
        lambda: {bucket: [] for bucket in ReminderBucket}
    )
    dpo: list[str] | None = None
    for bucket, requests in buckets.items():
        for request in requests:
            assignee = request.assignee
            if assignee is not None and assignee.is_active and assignee.email:
                addresses = [assignee.email]
            else:
                if dpo is None:
                    dpo = fallback()
                addresses = dpo
            for address in addresses:
                by_recipient[address][bucket].append(request)
    return dict(by_recipient)


def reminder_body(by_bucket: dict[ReminderBucket, list[Request]], *, days: int) -> str:
    """The text of one recipient's reminder, in the active language."""
    labels = dict(RequestType.choices)
    parts = [str(INTRO_REMINDER) % {"days": days}]
    for bucket in ReminderBucket:
        requests = by_bucket.get(bucket) or []
        if not requests:
            continue
        lines = [
            "- "
            + str(LINE_REQUEST)
            % {
                "reference": request.public_id,
                "type": str(labels.get(request.type, request.type)),
                "date": formats.date_format(request.due_legal, "DATE_FORMAT"),
            }
            for request in requests
        ]
        heading = str(HEADINGS[bucket])
        if bucket == ReminderBucket.DUE_SOON:
            heading %= {"days": days}
        parts.append("\n".join([heading, *lines]))
    return "\n\n".join(parts) + "\n"


def send_deadline_reminders(
    *, today: date, days: int = DUE_SOON_DAYS, now: datetime | None = None
) -> dict[str, int]:
    """Queue one reminder per recipient for the open requests due by ``today + days``.

    The mail is queued in the caller's transaction (the worker sends it), in the
    site's language (``LANGUAGE_CODE``). Returns figures only: the requests per
    bucket and the mails queued.
    """
    from personvern.worker.outbox import queue_mail
    from personvern.worker.recipients import dpo_addresses

    buckets = requests_to_remind(today=today, within_days=days)
    counts = {bucket.value: len(requests) for bucket, requests in buckets.items()}
    recipients = reminder_recipients(buckets, fallback=dpo_addresses)
    # One transaction: every recipient's reminder is queued, or none is.
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        for address, by_bucket in sorted(recipients.items()):
            queue_mail(
                to=address,
                subject=str(SUBJECT_REMINDER),
                body=reminder_body(by_bucket, days=days),
                kind=MAIL_KIND,
                now=now,
            )
    counts["mails"] = len(recipients)
    return counts
