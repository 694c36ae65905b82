"""Reads on data-subject requests: the back office's work lists."""

from __future__ import annotations

import enum
import uuid
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from personvern.rights.deadlines import received_date
from personvern.rights.models import OPEN_STATUSES, Request, RequestStatus, RequestType

#: "Due soon" in the back office: the legal deadline is within this many days.
DUE_SOON_DAYS = 7


def today_oslo() -> date:
    """Today's date in Norway, the calendar legal deadlines are counted in."""
    return received_date(timezone.now())


def request_list(
    *,
    overdue: bool | None = None,
    due_within_days: int | None = None,
    status: RequestStatus | str | None = None,
    type: RequestType | str | None = None,  # noqa: A002 - the field's name
    today: date | None = None,
) -> QuerySet[Request]:
    """Requests ordered by legal deadline.

    ``overdue=True``: open requests whose legal deadline has passed (``False``:
    those not overdue); ``due_within_days=n``: open requests due from today to
    ``today + n`` (not yet overdue); ``status``: one status; ``type``: one type
    (``unclassified``: the requests staff must still classify).
    """
    today = today or today_oslo()
    qs = Request.objects.select_related("assignee").order_by("due_legal", "received_at", "pk")
    if status is not None:
        qs = qs.filter(status=status)
    if type is not None:
        qs = qs.filter(type=type)
    if overdue is True:
        qs = qs.filter(status__in=OPEN_STATUSES, due_legal__lt=today)
    elif overdue is False:
        qs = qs.exclude(status__in=OPEN_STATUSES, due_legal__lt=today)
    if due_within_days is not None:
        qs = qs.filter(
            status__in=OPEN_STATUSES,
            due_legal__gte=today,
            due_legal__lte=today + timedelta(days=due_within_days),
        )
    return qs


def request_get(public_id: uuid.UUID | str) -> Request:
    """The request with this public id (Request.DoesNotExist if none, ValidationError if
    the id is not a UUID)."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError as exc:
        raise ValidationError({"id": f"{public_id!r} is not a request id (a UUID)."}) from exc
    return Request.objects.select_related("person", "assignee").get(public_id=key)


def request_by_source_message(message_id: str) -> Request | None:
    """The request created from the e-mail with this Message-ID, if any."""
    from personvern.rights.services import message_id_digest

    return Request.objects.filter(source_message_id=message_id_digest(message_id)).first()


class ReminderBucket(enum.StrEnum):
    """How urgent an open request is, for the daily deadline reminders."""

    OVERDUE = "overdue"
    DUE_TODAY = "due-today"
    DUE_SOON = "due-soon"


def requests_to_remind(
    *, today: date, within_days: int = DUE_SOON_DAYS
) -> dict[ReminderBucket, list[Request]]:
    """Open requests whose legal deadline has passed, is today, or is within ``within_days``.

    One query, ordered by legal deadline; the assignee is joined (reminders go to them).
    """
    buckets: dict[ReminderBucket, list[Request]] = {bucket: [] for bucket in ReminderBucket}
    due = (
        Request.objects.filter(
            status__in=OPEN_STATUSES, due_legal__lte=today + timedelta(days=within_days)
        )
        .select_related("assignee")
        .order_by("due_legal", "received_at", "pk")
    )
    for request in due:
        if request.due_legal < today:
            buckets[ReminderBucket.OVERDUE].append(request)
        elif request.due_legal == today:
            buckets[ReminderBucket.DUE_TODAY].append(request)
        else:
            buckets[ReminderBucket.DUE_SOON].append(request)
    return buckets
