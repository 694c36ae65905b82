"""The report of attended hours to Advokatforeningen (R3, R14; ADR 0026).

Members judged at course time, attended hours by kind, recorded as a disclosure
per member and shown in the member's access report; refused before the course
ends, while attendance is missing, and a second time unless asked again.
"""

from __future__ import annotations

import argparse
import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client

from personvern.core.models import AuditEntry
from personvern.core.services import membership_add
from personvern.courses import cli, services
from personvern.courses.cle_report import cle_report_rows
from personvern.courses.models import CleReport, CleReportEntry
from personvern.rights.engine import access_report

from .factories import ACTOR, OSLO, make_course, register

pytestmark = pytest.mark.django_db

#: The course of these tests: 10 April 2025, 09:00–16:00 in Oslo.
STARTS = datetime(2025, 4, 10, 9, 0, tzinfo=OSLO)
AFTER = datetime(2025, 4, 11, 12, 0, tzinfo=OSLO)


def _member(registration, *, valid_from=date(2020, 1, 1), valid_to=None,
            organisation="advokatforeningen"):
    membership_add(person=registration.person, organisation=organisation,
                   valid_from=valid_from, valid_to=valid_to, actor=ACTOR)
    return registration


@pytest.fixture
def course():
    return make_course(starts_at=STARTS, legal_hours=Decimal("5"),
                       non_legal_hours=Decimal("1.5"), ethics_hours=Decimal("1"))


@pytest.fixture
def attended(course):
    """Four participants who all attended; only the first two count."""
    member = _member(register(course, given_name="Åse", family_name="Aas",
                              email="ase@example.no"))
    ended_before = _member(register(course, given_name="Bo", family_name="Berg"),
                           valid_from=date(2024, 1, 1), valid_to=date(2025, 4, 10))
    joined_after = _member(register(course), valid_from=date(2025, 4, 11))
    jurist = _member(register(course), organisation="juristforbundet")
    services.attendance_record(
        course=course, registration_ids=[r.pk for r in (member, ended_before, joined_after,
                                                        jurist)],
        attended=True, actor=ACTOR, now=AFTER,
    )
    return member, ended_before


@pytest.mark.req("R3", "R14")
def test_the_report_has_the_attended_hours_of_members_at_course_time(course, attended):
    member, ended_on_the_day = attended
    content, report = services.cle_report_export(course=course, actor=ACTOR, now=AFTER)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["given_name", "family_name", "email", "course_code", "course_title",
                       "course_ended", "legal_hours", "non_legal_hours", "ethics_hours"]
    assert rows[1:] == [
        ["Åse", "Aas", "ase@example.no", course.slug, course.title, "2025-04-10",
         "5.00", "1.50", "1.00"],
        ["Bo", "Berg", rows[2][2], course.slug, course.title, "2025-04-10",
         "5.00", "1.50", "1.00"],
    ]
    assert (report.recipient, report.row_count, report.actor) == ("Advokatforeningen", 2, ACTOR)
    assert set(CleReportEntry.objects.values_list("person_id", flat=True)) == {
        member.person_id, ended_on_the_day.person_id}
    audit = AuditEntry.objects.get(action="cle_report.recorded")
    assert audit.data["rows"] == 2


@pytest.mark.req("R3")
def test_a_member_who_did_not_attend_is_not_reported(course):
    came = _member(register(course))
    absent = _member(register(course))
    services.attendance_record(course=course, registration_ids=[came.pk], attended=True,
                               actor=ACTOR, now=AFTER)
    services.attendance_record(course=course, registration_ids=[absent.pk], attended=False,
                               actor=ACTOR, now=AFTER)
    assert [r["person_id"] for r in cle_report_rows(course, now=AFTER)] == [came.person_id]


@pytest.mark.req("R3", "R33")
def test_the_report_is_a_recorded_disclosure_in_the_members_access_report(course, attended):
    member, _ = attended
    services.cle_report_export(course=course, actor=ACTOR, now=AFTER)
    report = access_report(member.person, lang="en")
    participation = next(a for a in report.activities if a.id == "course-participation")
    assert "Advokatforeningen" in [d["recipient"] for d in participation.disclosures]
    # The policy declares the recipient for the activity.
    assert "Advokatforeningen" in str(participation.recipients)
    data = report.as_json()
    processing = next(p for p in data["processing"] if p["activity"] == "course-participation")
    assert "Advokatforeningen" in [d["recipient"] for d in processing["recorded_disclosures"]]


@pytest.mark.req("R3")
def test_a_report_before_the_course_ends_is_refused(course, attended):
    with pytest.raises(ValidationError, match="has not ended"):
        services.cle_report_export(course=course, actor=ACTOR, now=course.ends_at
                                   - timedelta(minutes=1))
    assert not CleReport.objects.exists()


@pytest.mark.req("R3")
def test_a_report_while_a_members_attendance_is_missing_is_refused(course):
    _member(register(course))
    with pytest.raises(ValidationError, match="Attendance is not recorded for 1"):
        services.cle_report_export(course=course, actor=ACTOR, now=AFTER)
    assert not CleReport.objects.exists()


@pytest.mark.req("R3")
def test_reporting_twice_is_refused_unless_again_and_then_recorded_again(course, attended):
    services.cle_report_export(course=course, actor=ACTOR, now=AFTER)
    with pytest.raises(ValidationError, match="already reported"):
        services.cle_report_export(course=course, actor=ACTOR, now=AFTER + timedelta(days=1))
    services.cle_report_export(course=course, actor=ACTOR, again=True,
                               now=AFTER + timedelta(days=1))
    assert CleReport.objects.count() == 2
    assert CleReportEntry.objects.count() == 4


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="personvern")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.mark.req("R3")
def test_the_cli_writes_the_report_and_refuses_a_second_one(course, attended, tmp_path, capsys):
    out = tmp_path / "cle.csv"
    assert _run("courses", "cle-report", course.slug, "--as-of", "2025-04-11",
                "--out", str(out)) == 0
    assert "Aas" in out.read_bytes().decode("utf-8-sig")
    assert CleReport.objects.get().reported_at == datetime(2025, 4, 11, 23, 59, 59, 999999,
                                                             tzinfo=OSLO)
    assert _run("courses", "cle-report", course.slug, "--as-of", "2025-04-12",
                "--out", str(out)) == 1
    assert "--again" in capsys.readouterr().err
    assert _run("courses", "cle-report", course.slug, "--as-of", "2025-04-12T10:00",
                "--again", "--out", str(out)) == 0
    assert CleReport.objects.count() == 2


@pytest.mark.req("R3")
def test_the_cli_refuses_a_course_not_yet_over(course, tmp_path, capsys):
    out = tmp_path / "cle.csv"
    assert _run("courses", "cle-report", course.slug, "--as-of", "2025-04-09",
                "--out", str(out)) == 1
    assert "has not ended" in capsys.readouterr().err


@pytest.mark.req("R3")
@pytest.mark.urls("personvern.urls")
def test_the_back_office_action_downloads_the_report(course, attended):
    user = User.objects.create_user("kursadmin", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="course administrator"))
    client = Client()
    client.force_login(user)
    response = client.post("/admin/courses/course/", {
        "action": "report_cle_hours", "_selected_action": [str(course.pk)]},
        headers={"Accept-Language": "en"})
    assert response["Content-Type"].startswith("text/csv")
    assert "Aas" in response.content.decode("utf-8-sig")
    assert CleReport.objects.get().actor == "staff:kursadmin"
    again = client.post("/admin/courses/course/", {
        "action": "report_cle_hours", "_selected_action": [str(course.pk)]},
        headers={"Accept-Language": "en"}, follow=True)
    assert "already reported" in again.content.decode()
    assert CleReport.objects.count() == 1
    assert client.get("/admin/courses/clereport/").status_code == 200
