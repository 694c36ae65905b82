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

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.exports import spreadsheet_row, xlsx_row
from personvern.courses.models import Course, HotelTransfer, HotelTransferEntry
from personvern.courses.selectors import (
    HOTEL_LIST_FIELDS,
    LEGAL_TZ,
    PARTICIPANT_LIST_FIELDS,
    ListField,
    hotel_rows,
    list_headers,
    participant_rows,
)

ACTIVITY = "course-participation"
ExportFormat = Literal["csv", "xlsx"]
EXPORT_FORMATS: tuple[str, ...] = ("csv", "xlsx")
UNKNOWN_FORMAT = _("Unknown format '%(format)s'; use one of: csv, xlsx.")
NO_HOTEL_STAY = _("The course %(course)s offers no hotel stay.")


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
