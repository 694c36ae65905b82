"""Writes of e-mail correspondence: file a message, keep it for a reason, release it.

Keeping is done with a core row hold, not by moving the retention anchor: the
"received" anchor stays the true receipt date, the retention forecast shows the
held message with its reason, and the hold expires by itself on ``keep_until``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import Hold, HoldScope, Person
from personvern.core.selectors import active_holds
from personvern.core.services import hold_lift, hold_place
from personvern.mailbox.apps import KEPT_PREFIX
from personvern.mailbox.models import Direction, KeepReason, MailMessage

ACTIVITY = "email-correspondence"


def mail_message_record(
    *,
    person: Person,
    direction: Direction | str,
    mailbox: str,
    subject: str,
    actor: str,
    received_at: datetime | None = None,
) -> MailMessage:
    """File an e-mail to or from ``person`` in a staff mailbox."""
    received_at = received_at or timezone.now()
    if direction not in Direction.values:
        raise ValidationError({"direction": f"{direction!r} is not a direction (in or out)."})
    if not mailbox.strip():
        raise ValidationError({"mailbox": "The message must name the mailbox it is filed in."})
    with transaction.atomic():
        message = MailMessage.objects.create(
            person=person,
            direction=direction,
            mailbox=mailbox.strip(),
            subject=subject.strip()[:300],
            received_at=received_at,
        )
        audit_log(
            actor=actor,
            action="mail.recorded",
            person=person,
            activity=ACTIVITY,
            data={"message": message.pk, "direction": str(direction)},
            now=received_at,
        )
    return message


def _row_holds(message: MailMessage, now: datetime) -> list[Hold]:
    content_type = ContentType.objects.get_for_model(MailMessage)
    return list(
        active_holds(now).filter(
            scope=HoldScope.ROW, content_type=content_type, object_id=message.pk
        )
    )

#: Keep-until dates are legal dates, counted in Norway whatever TIME_ZONE says.
LEGAL_TZ = ZoneInfo("Europe/Oslo")


def _end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in the legal time zone (Europe/Oslo)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=LEGAL_TZ)


def mail_message_keep(
    *,
    message: MailMessage,
    reason: KeepReason | str,
    actor: str,
    keep_until: date | None = None,
    now: datetime | None = None,
) -> MailMessage:
    """Keep a message beyond the normal period for a ground R19 names.

    Places a row hold with the reason (expiring after ``keep_until``, or open
    until released); an earlier keep on the same message is replaced.
    """
    now = now or timezone.now()
    if reason not in KeepReason.values or not reason:
        raise ValidationError({"reason": f"{reason!r} is not a reason to keep e-mail."})
    if keep_until is not None and keep_until < now.astimezone(LEGAL_TZ).date():
        raise ValidationError({"keep_until": "The keep date is in the past."})
    with transaction.atomic():
        for hold in _row_holds(message, now):
            hold_lift(hold=hold, actor=actor, now=now)
        hold_place(
            scope=HoldScope.ROW,
            row=message,
            person=message.person,
            activity=ACTIVITY,
            reason=f"{KEPT_PREFIX}{reason}",
            expires_at=_end_of_day(keep_until) if keep_until else None,
            actor=actor,
            now=now,
        )
        MailMessage.objects.filter(pk=message.pk).update(keep_reason=reason, keep_until=keep_until)
        message.keep_reason = str(reason)
        message.keep_until = keep_until
        audit_log(
            actor=actor,
            action="mail.kept",
            person=message.person,
            activity=ACTIVITY,
            data={"message": message.pk, "reason": str(reason)},
            now=now,
        )
    return message


def mail_message_release(
    *, message: MailMessage, actor: str, now: datetime | None = None
) -> MailMessage:
    """End a keep: the message falls back under the normal retention rule."""
    now = now or timezone.now()
    with transaction.atomic():
        for hold in _row_holds(message, now):
            hold_lift(hold=hold, actor=actor, now=now)
        MailMessage.objects.filter(pk=message.pk).update(keep_reason="", keep_until=None)
        message.keep_reason = ""
        message.keep_until = None
        audit_log(
            actor=actor,
            action="mail.released",
            person=message.person,
            activity=ACTIVITY,
            data={"message": message.pk},
            now=now,
        )
    return message


def mail_correspondents_keep(
    *,
    messages: QuerySet[MailMessage],
    reason: KeepReason | str,
    actor: str,
    now: datetime | None = None,
) -> int:
    """Keep every message in ``messages`` not kept yet, until released; how many.

    The back office passes all mail of the chosen correspondents: a hold on a
    correspondent is a hold on each of their messages (one row hold each), so
    it ends message by message or all at once with the release action.
    """
    now = now or timezone.now()
    kept = 0
    with transaction.atomic():
        for message in messages.filter(keep_reason="").select_related("person"):
            mail_message_keep(message=message, reason=reason, actor=actor, now=now)
            kept += 1
    return kept
