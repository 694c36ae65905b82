"""Writes of e-mail correspondence: file a message, keep it for a reason, release it.

Keeping is done with a core row hold, not by moving the retention anchor: the
"received" anchor stays the true receipt date, the retention forecast shows the
held message with its reason, and the hold expires by itself on ``keep_until``.

A hold on a correspondent (``mail_correspondents_keep``) is a row hold on the
person's own row, reason ``CORRESPONDENT_PREFIX`` and a code: it protects nothing
by itself (the retention engine and erasure keep messages by their own row
holds), but while it is active every message of that person filed later gets a
row hold with the same reason as it is recorded (``mail_message_record`` and
the mailbox sweep, :func:`keep_under_correspondent_holds`). Releasing a message
kept that way ends the hold on the correspondent too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
from personvern.mailbox.apps import CORRESPONDENT_PREFIX, KEPT_PREFIX
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
        # Whether a hold on the correspondent covers it is a question of now, not of
        # when the message was received (a hold placed since covers it).
        keep_under_correspondent_holds([message], actor=actor, now=timezone.now())
    return message


def correspondent_holds(person_ids: Iterable[int], now: datetime) -> QuerySet[Hold]:
    """The active holds on correspondents among ``person_ids`` (on their person rows)."""
    return active_holds(now).filter(
        scope=HoldScope.ROW,
        content_type=ContentType.objects.get_for_model(Person),
        object_id__in=list(person_ids),
        reason__startswith=CORRESPONDENT_PREFIX,
    )


def keep_under_correspondent_holds(
    messages: Sequence[MailMessage], *, actor: str, now: datetime
) -> int:
    """Keep each of ``messages`` (just filed) whose correspondent is held; how many.

    One query for the holds; a message of a held correspondent gets the row hold
    and the keep reason :func:`mail_message_keep` gives, under the same reason.
    """
    if not messages:
        return 0
    codes = {
        hold.object_id: hold.reason[len(CORRESPONDENT_PREFIX):]
        for hold in correspondent_holds({m.person_id for m in messages}, now).order_by("pk")
    }
    kept = 0
    for message in messages:
        code = codes.get(message.person_id)
        if code:
            _keep(message=message, reason=code, actor=actor, keep_until=None, now=now,
                  prefix=CORRESPONDENT_PREFIX)
            kept += 1
    return kept


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
    return _keep(message=message, reason=reason, actor=actor, keep_until=keep_until,
                 now=now or timezone.now(), prefix=KEPT_PREFIX)


def _keep(
    *,
    message: MailMessage,
    reason: KeepReason | str,
    actor: str,
    keep_until: date | None,
    now: datetime,
    prefix: str,
) -> MailMessage:
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
            reason=f"{prefix}{reason}",
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
    """End a keep: the message falls back under the normal retention rule.

    A message kept under a hold on its correspondent ends that hold as well: mail
    filed from then on is no longer kept (the other messages it kept stay kept
    until released one by one).
    """
    now = now or timezone.now()
    with transaction.atomic():
        for hold in _row_holds(message, now):
            if hold.reason.startswith(CORRESPONDENT_PREFIX):
                for held in correspondent_holds([message.person_id], now):
                    hold_lift(hold=held, actor=actor, now=now)
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
    correspondent is a hold on each of their messages (one row hold each), and
    on the correspondent (a row hold on the person), so that messages filed
    later are kept too while it is active. It ends message by message or all at
    once with the release action; releasing one of these messages ends the
    hold on the correspondent.
    """
    now = now or timezone.now()
    if reason not in KeepReason.values or not reason:
        raise ValidationError({"reason": f"{reason!r} is not a reason to keep e-mail."})
    kept = 0
    with transaction.atomic():
        persons = Person.objects.filter(pk__in=messages.values("person_id"))
        held = set(correspondent_holds(persons.values_list("pk", flat=True), now)
                   .values_list("object_id", flat=True))
        for person in persons:
            if person.pk not in held:
                hold_place(
                    scope=HoldScope.ROW, row=person, person=person, activity=ACTIVITY,
                    reason=f"{CORRESPONDENT_PREFIX}{reason}", actor=actor, now=now,
                )
        for message in messages.filter(keep_reason="").select_related("person"):
            _keep(message=message, reason=reason, actor=actor, keep_until=None, now=now,
                  prefix=CORRESPONDENT_PREFIX)
            kept += 1
    return kept
