"""The report of a course's attended hours to Advokatforeningen (R3, R14; ADR 0026).

After a course, the hours that members of Advokatforeningen attended, by the
three kinds the Bar Association counts (legal, non-legal, legal ethics), are
reported to it as a CSV file: the back office's course action or
``personvern courses cle-report``. We keep the members' course record on the
association's behalf (activity ``advokatforeningen-course-data``, processor);
the report hands the association what it needs for its own record.

- Who: confirmed registrations of the course recorded as attended, of persons
  who were members of Advokatforeningen on the day the course ended (judged at
  course time, ADR 0004), and not under an active restriction (Art. 18).
- What: :data:`CLE_REPORT_FIELDS` only.
- Refused before the course has ended and while a member's attendance is not
  recorded (a report without it would leave hours out).
- Each report is a :class:`~personvern.courses.models.CleReport` with one entry
  per member, a recorded disclosure shown in the member's access report.
- Reporting a course twice is refused unless ``again=True`` (``--again``):
  then the whole report is made and recorded once more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import EmailIdentity
from personvern.core.selectors import restricted_person_ids
from personvern.courses.lists import ACTIVITY, render_rows
from personvern.courses.models import (
    CleReport,
    CleReportEntry,
    Course,
    Registration,
    RegistrationStatus,
)
from personvern.courses.selectors import (
    LEGAL_TZ,
    ListField,
    advokatforeningen_member_at_course_end,
)

#: Who receives the report: the name recorded on each disclosure.
RECIPIENT = "Advokatforeningen"

#: The columns of the report, under fixed names the association's system reads.
CLE_REPORT_FIELDS: tuple[ListField, ...] = (
    ("given_name", "given_name"),
    ("family_name", "family_name"),
    ("email", "email"),
    ("course_code", "course_code"),
    ("course_title", "course_title"),
    ("course_ended", "course_ended"),
    ("legal_hours", "legal_hours"),
    ("non_legal_hours", "non_legal_hours"),
    ("ethics_hours", "ethics_hours"),
)
#: What the member's access report says was disclosed.
DISCLOSED = _(
    "name, e-mail address, course, date and attended hours (legal, non-legal, legal ethics)"
)

NOT_OVER = _("The course %(course)s has not ended yet; its hours are reported afterwards.")
ATTENDANCE_MISSING = _(
    "Attendance is not recorded for %(count)s member(s) of Advokatforeningen on %(course)s: "
    "record it first, so that no hours are left out."
)
ALREADY_REPORTED = _(
    "The hours of %(course)s were already reported to Advokatforeningen on %(date)s. "
    "Report again only to send a corrected report."
)


def _members(course: Course, now: datetime) -> QuerySet[Registration]:
    """The course's confirmed registrations of Advokatforeningen members at course end."""
    return (
        Registration.objects.filter(course=course, status=RegistrationStatus.CONFIRMED)
        .filter(advokatforeningen_member_at_course_end("person", "course__ends_at"))
        .exclude(person_id__in=restricted_person_ids(now=now))
    )


def cle_report_rows(course: Course, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The report's rows: attended members, their hours by kind (one query)."""
    now = now or timezone.now()
    first_email = (
        EmailIdentity.objects.filter(person_id=OuterRef("person_id"))
        .order_by("pk").values("address")[:1]
    )
    rows: list[dict[str, Any]] = list(
        _members(course, now).filter(attended=True)
        .annotate(
            given_name=F("person__given_name"),
            family_name=F("person__family_name"),
            email=Subquery(first_email),
        )
        .order_by("person__family_name", "person__given_name", "pk")
        .values("id", "person_id", "given_name", "family_name", "email")  # type: ignore[arg-type]
    )
    ended = timezone.localtime(course.ends_at, LEGAL_TZ).date()
    for row in rows:
        row |= {
            "course_code": course.slug,
            "course_title": course.title,
            "course_ended": ended.isoformat(),
            "legal_hours": course.legal_hours,
            "non_legal_hours": course.non_legal_hours,
            "ethics_hours": course.ethics_hours,
        }
    return rows


def cle_report_check(course: Course, *, now: datetime | None = None, again: bool = False) -> None:
    """Refuse (``ValidationError``) a report that may not be made now; see the module."""
    now = now or timezone.now()
    if now < course.ends_at:
        raise ValidationError({"course": ValidationError(NOT_OVER, params={"course": course.slug})})
    missing = _members(course, now).filter(attended__isnull=True).count()
    if missing:
        raise ValidationError({"attended": ValidationError(
            ATTENDANCE_MISSING, params={"count": missing, "course": course.slug})})
    last = CleReport.objects.filter(course=course).order_by("-reported_at").first()
    if last is not None and not again:
        when = formats.date_format(
            timezone.localtime(last.reported_at, LEGAL_TZ), "SHORT_DATE_FORMAT"
        )
        raise ValidationError({"again": ValidationError(
            ALREADY_REPORTED, params={"course": course.slug, "date": when})})


def cle_report_export(
    *, course: Course, actor: str, again: bool = False, now: datetime | None = None
) -> tuple[bytes, CleReport]:
    """Produce the CSV report of ``course`` and record it as a disclosure per member.

    The report, one entry per member included and the audit entry are written
    in one transaction, from the same rows the file is rendered from.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the course: two reports of it at once would both pass the check.
        course = Course.objects.select_for_update().get(pk=course.pk)
        cle_report_check(course, now=now, again=again)
        rows = cle_report_rows(course, now=now)
        content = render_rows(rows, CLE_REPORT_FIELDS, "csv")
        report = CleReport.objects.create(
            course=course, recipient=RECIPIENT, reported_at=now, actor=actor,
            row_count=len(rows), fields_sent=[name for name, _label in CLE_REPORT_FIELDS],
        )
        disclosed = str(DISCLOSED)[:300]
        CleReportEntry.objects.bulk_create([
            CleReportEntry(
                report=report, registration_id=row["id"], person_id=row["person_id"],
                recipient=RECIPIENT, sent_at=now, fields_sent=disclosed,
            )
            for row in rows
        ])
        audit_log(
            actor=actor, action="cle_report.recorded", activity=ACTIVITY,
            data={"course": course.pk, "report": report.pk, "rows": len(rows), "again": again},
            now=now,
        )
    return content, report

