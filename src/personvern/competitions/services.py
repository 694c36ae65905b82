"""Writes of competitions: create, close, enter, review and give feedback. Each is audited."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from personvern.competitions.models import Competition, Entry
from personvern.core.audit import audit_log
from personvern.core.ratelimits import allow
from personvern.core.services import normalise_email, person_get_or_create
from personvern.worker.outbox import queue_mail

ACTIVITY = "competitions"

TITLE_NEEDED = _("A competition needs a title.")
ENDED = _("The competition has ended.")
CONTRIBUTION_NEEDED = _("An entry needs a contribution.")
ALREADY_ENTERED = _("This person has already entered the competition.")
FEEDBACK_NEEDED = _("Feedback cannot be empty.")
SLUG_TAKEN = _("Another competition already has this address.")
SLUG_INVALID = _("Use only letters a–z, digits and hyphens in the address.")
SUBJECT_RECEIPT = _("Your entry in %(title)s")
ENTRY_GONE = _("The entry no longer exists.")
NOT_WITHDRAWN_ENDED = _("The competition has ended: the entry can no longer be withdrawn.")
ALREADY_CLOSED = _("The competition has already ended.")
NO_ADDRESS = _("The entrant has no e-mail address to send the feedback to.")
SUBJECT_FEEDBACK = _("Feedback on your entry in %(title)s")


def _unique_slug(title: str) -> str:
    base = slugify(title)[:60].strip("-") or "competition"
    slug, n = base, 2
    while Competition.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def competition_create(
    *, title: str, ends_at: datetime, actor: str, slug: str = "", description: str = ""
) -> Competition:
    """Create a competition that accepts entries until ``ends_at``.

    Its page is ``/competitions/<slug>/``; without ``slug`` one is made from the
    title. ``description`` is shown on the page: the task, the prize, the rules.
    """
    if not title.strip():
        raise ValidationError({"title": TITLE_NEEDED})
    if slug:
        if slugify(slug) != slug:
            raise ValidationError({"slug": SLUG_INVALID})
        if Competition.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": SLUG_TAKEN})
    with transaction.atomic():
        competition = Competition.objects.create(
            title=title.strip(), slug=slug or _unique_slug(title), ends_at=ends_at,
            description=description.strip(),
        )
        audit_log(
            actor=actor,
            action="competition.created",
            activity=ACTIVITY,
            data={"competition": competition.pk},
        )
    return competition


def competition_close(
    *, competition: Competition, actor: str, now: datetime | None = None
) -> Competition:
    """End a running competition now: it takes no more entries, and the retention
    period of its entries (counted from its end, R23) starts."""
    now = now or timezone.now()
    with transaction.atomic():
        current = Competition.objects.select_for_update().get(pk=competition.pk)
        if current.ends_at <= now:
            raise ValidationError({"ends_at": ALREADY_CLOSED})
        planned = current.ends_at
        Competition.objects.filter(pk=current.pk).update(ends_at=now)
        competition.ends_at = now
        audit_log(
            actor=actor,
            action="competition.closed",
            activity=ACTIVITY,
            data={"competition": competition.pk, "planned_end": planned.isoformat()},
            now=now,
        )
    return competition


def entry_submit(
    *,
    competition: Competition,
    email: str,
    contribution: str,
    actor: str,
    given_name: str = "",
    family_name: str = "",
    phone: str = "",
    workplace: str = "",
    now: datetime | None = None,
) -> Entry:
    """Enter ``competition`` (R23); one entry per person, only before it ends."""
    now = now or timezone.now()
    if now >= competition.ends_at:
        raise ValidationError({"competition": ENDED})
    if not contribution.strip():
        raise ValidationError({"contribution": CONTRIBUTION_NEEDED})
    try:
        with transaction.atomic():
            person, _created = person_get_or_create(
                email=email,
                given_name=given_name,
                family_name=family_name,
                phone=phone,
                actor=actor,
                now=now,
            )
            entry = Entry.objects.create(
                competition=competition,
                person=person,
                workplace=workplace.strip(),
                contribution=contribution.strip(),
                submitted_at=now,
            )
            audit_log(
                actor=actor,
                action="competition.entered",
                person=person,
                activity=ACTIVITY,
                data={"competition": competition.pk, "entry": entry.pk},
                now=now,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"email": ValidationError(ALREADY_ENTERED, code="already_entered")}
        ) from exc
    return entry


def entry_give_feedback(
    *, entry: Entry, feedback: str, actor: str, now: datetime | None = None
) -> Entry:
    """Record the feedback given to the entrant."""
    if not feedback.strip():
        raise ValidationError({"feedback": FEEDBACK_NEEDED})
    with transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(feedback=feedback.strip())
        entry.feedback = feedback.strip()
        audit_log(
            actor=actor,
            action="competition.feedback_given",
            person=entry.person,
            activity=ACTIVITY,
            data={"entry": entry.pk},
            now=now,
        )
    return entry


def entry_review(
    *,
    entry: Entry,
    actor: str,
    feedback: str = "",
    is_winner: bool = False,
    send_feedback: bool = False,
    lang: str | None = None,
    now: datetime | None = None,
) -> Entry:
    """Mark ``entry`` reviewed, as winner or not, with the feedback to its entrant (R23).

    With ``send_feedback`` the feedback is mailed to the entrant through the
    outbox (in ``lang``, default the site's language) and the time it was queued
    is kept. Audited with the person; the feedback's text is not in the audit entry.
    """
    now = now or timezone.now()
    feedback = feedback.strip()
    if send_feedback and not feedback:
        raise ValidationError({"feedback": FEEDBACK_NEEDED})
    with transaction.atomic():
        current = (
            Entry.objects.select_for_update()
            .select_related("competition", "person")
            .filter(pk=entry.pk)
            .first()
        )
        if current is None:
            raise ValidationError({"entry": ENTRY_GONE})
        current.feedback = feedback
        current.is_winner = is_winner
        current.reviewed_at = now
        fields = ["feedback", "is_winner", "reviewed_at"]
        audit_log(
            actor=actor,
            action="competition.entry_reviewed",
            person=current.person,
            activity=ACTIVITY,
            data={"entry": current.pk, "winner": is_winner},
            now=now,
        )
        if send_feedback:
            address = (
                current.person.emails.order_by("pk").values_list("address", flat=True).first()
            )
            if address is None:
                raise ValidationError({"feedback": NO_ADDRESS})
            with translation.override(lang or settings.LANGUAGE_CODE):
                subject = str(SUBJECT_FEEDBACK % {"title": current.competition.title})
                body = render_to_string(
                    "competitions/email/feedback.txt",
                    {"competition": current.competition, "entry": current},
                )
            queue_mail(
                to=address, subject=subject, body=body, kind="competition-feedback",
                person=current.person, now=now,
            )
            current.feedback_sent_at = now
            fields.append("feedback_sent_at")
            audit_log(
                actor=actor,
                action="competition.feedback_sent",
                person=current.person,
                activity=ACTIVITY,
                data={"entry": current.pk},
                now=now,
            )
        current.save(update_fields=fields)
    entry.feedback, entry.is_winner, entry.reviewed_at = (
        current.feedback, current.is_winner, current.reviewed_at
    )
    entry.feedback_sent_at = current.feedback_sent_at
    return entry


def entry_withdraw(
    *, entry: Entry, actor: str, now: datetime | None = None
) -> None:
    """Withdraw ``entry`` at its entrant's request: it is deleted, with its contribution.

    Only while the competition runs (``ValidationError`` on ``competition``
    after it has ended, when the entry may already be judged). Audited with the
    person; the entry's text is not kept in the audit entry.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = (
            Entry.objects.select_for_update()
            .select_related("competition", "person")
            .filter(pk=entry.pk)
            .first()
        )
        if current is None:
            raise ValidationError({"entry": ENTRY_GONE})
        if now >= current.competition.ends_at:
            raise ValidationError({"competition": NOT_WITHDRAWN_ENDED})
        data = {"competition": current.competition_id, "entry": current.pk}
        current.delete()
        audit_log(
            actor=actor, action="competition.entry_withdrawn", person=current.person,
            activity=ACTIVITY, data=data, now=now,
        )


def is_already_entered(exc: ValidationError) -> bool:
    """Whether ``exc`` is :func:`entry_submit` refusing a second entry of one person."""
    errors = getattr(exc, "error_dict", {}).get("email", [])
    return any(error.code == "already_entered" for error in errors)


def entry_receipt_send(
    *, entry: Entry, email: str, actor: str, now: datetime | None = None
) -> None:
    """Queue the receipt of a new entry to the address the entrant gave (with the entry)."""
    body = render_to_string(
        "competitions/email/receipt.txt", {"competition": entry.competition, "entry": entry}
    )
    queue_mail(
        to=normalise_email(email),
        subject=str(SUBJECT_RECEIPT % {"title": entry.competition.title}),
        body=body, kind="competition-entry-receipt", person=entry.person, now=now,
    )
    audit_log(
        actor=actor, action="competition.receipt_sent", person=entry.person,
        activity=ACTIVITY, data={"entry": entry.pk}, now=now,
    )


def entry_duplicate_notice_send(
    *, competition: Competition, email: str, actor: str, now: datetime | None = None
) -> bool:
    """Tell the owner of ``email`` that a second entry in ``competition`` was not taken.

    The public form answers a second entry like a first (docs/decisions/0022),
    so it cannot be used to learn who entered; the address's owner hears of it
    here. At most ``PERSONVERN_RATE_LIMIT_REPEAT_NOTICE`` notices go to one
    address. Nothing of the second entry is stored. Returns whether it was sent.
    """
    from personvern.core.selectors import person_by_email

    address = normalise_email(email)
    if not allow("repeat-notice", address):
        return False
    person = person_by_email(address)
    queue_mail(
        to=address, subject=str(SUBJECT_RECEIPT % {"title": competition.title}),
        body=render_to_string(
            "competitions/email/already_entered.txt", {"competition": competition}
        ),
        kind="competition-duplicate-notice", person=person, now=now,
    )
    audit_log(
        actor=actor, action="competition.duplicate_notice_sent", person=person,
        activity=ACTIVITY, data={"competition": competition.pk}, now=now,
    )
    return True
