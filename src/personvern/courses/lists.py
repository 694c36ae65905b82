"""Participant and hotel lists, and the record of each hand-over to a hotel (R11, R9).

Lists are rendered as CSV or XLSX with every cell neutralised against formula
injection (``core.exports``). A hotel list is a disclosure: each export is a
``HotelTransfer`` with one entry per guest, so the hotel appears in each
person's access report, and ``delete_by`` is when the hotel must have deleted it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.exports import spreadsheet_row, xlsx_row
from personvern.courses.models import Course, HotelTransfer, HotelTransferEntry
from personvern.courses.selectors import (
    HOTEL_LIST_FIELDS,
    LEGAL_TZ,
    PARTICIPANT_LIST_FIELDS,
    ListField,
    checkin_rows,
    dietary_rows,
    hotel_rows,
    list_headers,
    participant_rows,
)
from personvern.worker.outbox import queue_mail

ACTIVITY = "course-participation"
ExportFormat = Literal["csv", "xlsx"]
EXPORT_FORMATS: tuple[str, ...] = ("csv", "xlsx")
UNKNOWN_FORMAT = _("Unknown format '%(format)s'; use one of: csv, xlsx.")
NO_HOTEL_STAY = _("The course %(course)s offers no hotel stay.")
COURSE_OVER = _(
    "The course %(course)s is over: its check-in and dietary lists are no longer shown."
)
HOTEL_LIST_COURSE_OVER = _(
    "The course %(course)s is over: the hotel no longer needs its list, so it is not sent."
)
NO_DIETARY_DIGITAL_COURSE = _("The course %(course)s is digital: it has no dietary list.")
NO_HOTEL_EMAIL = _("The hotel of %(course)s has no e-mail address to send the list to.")
NO_HOTEL_GUESTS = _("No participant of %(course)s stays overnight: there is no list to send.")
SUBJECT_HOTEL_LIST = _("Room list: %(title)s")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def render_rows(
    rows: Sequence[Mapping[str, Any]], fields: Sequence[ListField], fmt: ExportFormat | str
) -> bytes:
    """Render rows as CSV (UTF-8 with BOM, so spreadsheet programs read æøå) or XLSX.

    Every cell goes through :mod:`personvern.core.exports`: a name typed as a
    formula stays text in the spreadsheet of whoever opens the list.
    """
    names = [name for name, _label in fields]
    headers = list_headers(fields)
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(spreadsheet_row(headers))
        for row in rows:
            writer.writerow(spreadsheet_row("" if row[n] is None else row[n] for n in names))
        return ("\ufeff" + text.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(xlsx_row(headers))
        for row in rows:
            sheet.append(xlsx_row(row[n] for n in names))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise ValidationError({"format": ValidationError(UNKNOWN_FORMAT, params={"format": fmt})})


def participant_list_export(
    *, course: Course, fmt: ExportFormat | str, actor: str, now: datetime | None = None
) -> bytes:
    """The participant list for the participants (R13) as a file; the export is audited."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError({"format": ValidationError(UNKNOWN_FORMAT, params={"format": fmt})})
    now = now or timezone.now()
    rows = participant_rows(course, now=now)
    content = render_rows(rows, PARTICIPANT_LIST_FIELDS, fmt)
    with transaction.atomic():
        audit_log(
            actor=actor, action="participant_list.exported", activity=ACTIVITY,
            data={"course": course.pk, "rows": len(rows), "format": fmt}, now=now,
        )
    return content


def hotel_deletion_date(course: Course, rows: Sequence[Mapping[str, Any]]) -> date:
    """The day after the last guest leaves (or after the course ends, if later): by
    then the hotel has no use for the list and must have deleted it (R9)."""
    course_end = timezone.localtime(course.ends_at, LEGAL_TZ).date()
    departures = [row["departure_date"] for row in rows if row.get("departure_date")]
    return max([course_end, *departures]) + timedelta(days=1)


def hotel_transfer_confirm_deletion(
    *, transfer: HotelTransfer, actor: str, now: datetime | None = None
) -> HotelTransfer:
    """Record the hotel's confirmation that it deleted the list it received (R9)."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = HotelTransfer.objects.filter(
            pk=transfer.pk, deletion_confirmed_at__isnull=True
        ).update(deletion_confirmed_at=now)
        if not updated:
            raise ValidationError(_("The hotel's deletion is already confirmed."))
        transfer.deletion_confirmed_at = now
        audit_log(
            actor=actor, action="hotel_transfer.deletion_confirmed", activity=ACTIVITY,
            data={"course": transfer.course_id, "transfer": transfer.pk}, now=now,
        )
    return transfer


def hotel_list_export(
    *, course: Course, fmt: ExportFormat | str = "csv", actor: str, now: datetime | None = None
) -> tuple[bytes, HotelTransfer]:
    """Produce the hotel list (R11) and record the hand-over to the course's hotel.

    Only overnight participants, only :data:`HOTEL_LIST_FIELDS`. The transfer,
    one entry per person included, and the audit entry are written in one
    transaction, from the same rows the file is rendered from.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValidationError({"format": ValidationError(UNKNOWN_FORMAT, params={"format": fmt})})
    if not course.hotel_stay_offered or course.venue is None or not course.venue.hotel_name:
        raise ValidationError(
            {"course": ValidationError(NO_HOTEL_STAY, params={"course": course.slug})}
        )
    now = now or timezone.now()
    field_names = [name for name, _label in HOTEL_LIST_FIELDS]
    with transaction.atomic():
        rows = hotel_rows(course, now=now)
        content = render_rows(rows, HOTEL_LIST_FIELDS, fmt)
        transfer = HotelTransfer.objects.create(
            course=course,
            delete_by=hotel_deletion_date(course, rows),
            hotel_name=course.venue.hotel_name,
            hotel_email=course.venue.hotel_email,
            sent_at=now,
            actor=actor,
            row_count=len(rows),
            fields_sent=field_names,
        )
        disclosed = ", ".join(str(label) for _name, label in HOTEL_LIST_FIELDS)
        HotelTransferEntry.objects.bulk_create(
            [
                HotelTransferEntry(
                    transfer=transfer,
                    registration_id=row["id"],
                    person_id=row["person_id"],
                    recipient=transfer.hotel_name,
                    sent_at=now,
                    fields_sent=disclosed[:300],
                )
                for row in rows
            ]
        )
        audit_log(
            actor=actor, action="hotel_transfer.recorded", activity=ACTIVITY,
            data={"course": course.pk, "transfer": transfer.pk, "rows": len(rows),
                  "fields": field_names},
            now=now,
        )
    return content, transfer


# -- lists for running the course (check-in, dietary needs) -------------------------


def _not_over(course: Course, now: datetime) -> None:
    """Refuse once the course has ended: the lists serve the course days only."""
    if now >= course.ends_at:
        raise ValidationError(
            {"course": ValidationError(COURSE_OVER, params={"course": course.slug})}
        )


def checkin_list_view(
    *, course: Course, actor: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The check-in list of a course not yet over; the view is audited (R12)."""
    now = now or timezone.now()
    _not_over(course, now)
    rows = checkin_rows(course, now=now)
    with transaction.atomic():
        audit_log(
            actor=actor, action="checkin_list.viewed", activity=ACTIVITY,
            data={"course": course.pk, "rows": len(rows)}, now=now,
        )
    return rows


def dietary_list_view(
    *, course: Course, actor: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The internal dietary list for the venue, of a physical course not yet over.

    Refused once the course has ended (data minimisation: the meals are served),
    and for a digital course (it asks for no dietary needs). The view is audited.
    """
    now = now or timezone.now()
    if not course.is_physical:
        raise ValidationError(
            {"course": ValidationError(NO_DIETARY_DIGITAL_COURSE, params={"course": course.slug})}
        )
    _not_over(course, now)
    rows = dietary_rows(course, now=now)
    with transaction.atomic():
        audit_log(
            actor=actor, action="dietary_list.viewed", activity="hotel-stay",
            data={"course": course.pk, "rows": len(rows)}, now=now,
        )
    return rows


# -- sending the hotel list to the hotel ---------------------------------------------


def hotel_list_preview(
    course: Course, *, actor: str = "", now: datetime | None = None
) -> list[dict[str, Any]]:
    """What :func:`hotel_list_send` would send now: the hotel's rows, nothing sent.

    With ``actor`` (a staff member looking at the list) the view is audited like
    the check-in and dietary lists: it shows the guests' names and stay dates.
    """
    _hotel_ready(course)
    now = now or timezone.now()
    _hotel_stay_not_over(course, now)
    rows = hotel_rows(course, now=now)
    if actor:
        with transaction.atomic():
            audit_log(
                actor=actor, action="hotel_list.viewed", activity="hotel-stay",
                data={"course": course.pk, "rows": len(rows)}, now=now,
            )
    return rows


def _hotel_stay_not_over(course: Course, now: datetime) -> None:
    """Refuse once the course has ended: the stay is over, the hotel needs no list (R11)."""
    if now >= course.ends_at:
        raise ValidationError(
            {"course": ValidationError(HOTEL_LIST_COURSE_OVER, params={"course": course.slug})}
        )


def _hotel_ready(course: Course) -> None:
    if not course.hotel_stay_offered or course.venue is None or not course.venue.hotel_name:
        raise ValidationError(
            {"course": ValidationError(NO_HOTEL_STAY, params={"course": course.slug})}
        )
    if not course.venue.hotel_email:
        raise ValidationError(
            {"course": ValidationError(NO_HOTEL_EMAIL, params={"course": course.slug})}
        )


def hotel_list_send(
    *, course: Course, actor: str, now: datetime | None = None
) -> HotelTransfer:
    """Mail the hotel list to the course's hotel and record the hand-over (R11, R9).

    The hand-over is recorded as :func:`hotel_list_export` records it (a
    ``HotelTransfer`` with one entry per guest), and the mail with the list
    attached (XLSX) is queued through the outbox in the same transaction; the
    outbox scans the attachment before sending. Refused when the course's hotel
    has no address or no participant stays overnight. Written in the site's
    language: the hotel is a Norwegian business, not a participant.
    """
    _hotel_ready(course)
    assert course.venue is not None
    now = now or timezone.now()
    _hotel_stay_not_over(course, now)
    with transaction.atomic():
        if not hotel_rows(course, now=now):
            raise ValidationError(
                {"course": ValidationError(NO_HOTEL_GUESTS, params={"course": course.slug})}
            )
        with translation.override(settings.LANGUAGE_CODE):
            content, transfer = hotel_list_export(course=course, fmt="xlsx", actor=actor, now=now)
            body = render_to_string("courses/email/hotel_list.txt", {
                "course": course, "venue": course.venue, "transfer": transfer,
            }).strip() + "\n"
            subject = str(SUBJECT_HOTEL_LIST) % {"title": course.title}
        queue_mail(
            to=course.venue.hotel_email, subject=subject, body=body, kind="hotel-list",
            attachments=[(f"hotel-{course.slug}.xlsx", content, XLSX)], now=now,
        )
        audit_log(
            actor=actor, action="hotel_list.mailed", activity=ACTIVITY,
            data={"course": course.pk, "transfer": transfer.pk, "rows": transfer.row_count},
            now=now,
        )
    return transfer
