"""Access (Art. 15): the bundle, the report's Art. 15 content, and its query cost."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.core.policy import current_policy
from personvern.core.registry import Holder
from personvern.core.registry import person_holders as holders
from personvern.core.services import consent_record, membership_add
from personvern.courses import services as courses
from personvern.courses.models import Course
from personvern.customers import services as customers
from personvern.rights import engine, services
from personvern.rights.engine import access_bundle, access_report, rows
from personvern.rights.engine.portability import portability_export
from personvern.rights.engine.rows import holder_report_section
from personvern.rights.models import Request
from tests.rights.conftest import ACTOR, COURSE_NOW, OSLO, oslo, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def kari(make_person, hotel_course):  # type: ignore[no-untyped-def]
    person = make_person(
        email="kari@example.org", given_name="Kari", family_name="Nordmann", phone="+47 99 88 77 66"
    )
    register(
        hotel_course,
        person,
        overnight_stay=True,
        arrival_date=date(2025, 4, 9),
        departure_date=date(2025, 4, 11),
        dietary_needs="Vegetar",
    )
    courses.hotel_list_export(course=hotel_course, actor=ACTOR, now=COURSE_NOW)
    consent_record(
        person=person,
        scope="newsletter",
        action="given",
        channel="web",
        text_version="2025-01",
        actor=ACTOR,
        now=COURSE_NOW,
    )
    return person


def _bundle(person, lang="nb"):  # type: ignore[no-untyped-def]
    return zipfile.ZipFile(io.BytesIO(access_bundle(person, lang=lang)))


@pytest.mark.req("R33")
def test_bundle_has_data_json_grouped_by_activity_csv_per_holder_and_report(kari) -> None:  # type: ignore[no-untyped-def]
    bundle = _bundle(kari)
    names = set(bundle.namelist())
    assert {"data.json", "report.html"} <= names
    data = json.loads(bundle.read("data.json"))
    assert data["person"] == str(kari.public_id)
    assert data["data"]["identity"]["core.Person"][0]["family_name"] == "Nordmann"
    assert data["data"]["identity"]["core.EmailIdentity"][0]["address"] == "kari@example.org"
    registration = data["data"]["course-participation"]["courses.Registration"][0]
    assert registration["course"].startswith("Personvernrett")
    # The stay is reported once, under its own activity (kept only until it is over).
    assert "dietary_needs" not in registration
    stay = data["data"]["hotel-stay"]["courses.HotelStay"][0]
    assert (stay["dietary_needs"], stay["arrival_date"]) == ("Vegetar", "2025-04-09")
    # One CSV per holder that has rows, with the holder's declared columns.
    for label in (
        "core.Person",
        "core.EmailIdentity",
        "core.ConsentEvent",
        "courses.Registration",
        "courses.HotelTransferEntry",
    ):
        assert f"{label}.csv" in names
    rows = list(
        csv.reader(io.StringIO(bundle.read("courses.Registration.csv").decode("utf-8-sig")))
    )
    assert rows[0][0] == "course" and len(rows) == 2


@pytest.mark.req("R33")
def test_every_holder_with_rows_is_in_the_report(kari) -> None:  # type: ignore[no-untyped-def]
    report = access_report(kari)
    labels = {s.label for s in report.sections}
    expected = {h.label for h in holders() if h.for_person(kari.pk).exists()}
    assert labels == expected


@pytest.mark.req("R33")
@pytest.mark.req("R11")
def test_recorded_hotel_transfer_is_a_recipient(kari) -> None:  # type: ignore[no-untyped-def]
    report = access_report(kari, lang="en")
    participation = next(a for a in report.activities if a.id == "course-participation")
    assert [d["recipient"] for d in participation.disclosures] == ["Hotell Fjordgløtt"]
    html = engine.access_report_html(report)
    assert "Recorded disclosures of your data" in html
    assert "Hotell Fjordgløtt" in html.split('class="disclosures"')[1]
    data = report.as_json()
    processing = next(p for p in data["processing"] if p["activity"] == "course-participation")
    assert processing["recorded_disclosures"][0]["recipient"] == "Hotell Fjordgløtt"


@pytest.mark.req("R33")
@pytest.mark.req("R39")
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_report_carries_everything_article_15_lists(kari, lang) -> None:  # type: ignore[no-untyped-def]
    policy = current_policy()
    html = _bundle(kari, lang).read("report.html").decode()
    activity = policy.activity("course-participation")
    for purpose in activity.purposes:
        assert purpose.get(lang) in html
    for category in activity.data_categories:
        assert policy.data_category(category).name.get(lang) in html
    for recipient in activity.recipients:
        assert recipient.name.get(lang) in html
    for rule in activity.retention:
        assert rule.keep.describe(lang) in html
    if activity.source is not None:
        assert activity.source.get(lang) in html
    for right_id in ("rectification", "erasure", "restriction", "objection"):
        right = next(r for r in policy.rights.rights if r.id == right_id)
        assert right.title.get(lang) in html
    authority = policy.supervisory_authority
    assert authority.name.get(lang) in html
    for line in authority.postal_address:
        assert line in html
    automated = html.split('id="automated-decisions"')[1]
    assert "art. 22" in automated.lower()
    assert f'lang="{lang}"' in html


@pytest.mark.req("R33")
def test_report_source_is_shown_where_data_came_from_elsewhere(kari) -> None:  # type: ignore[no-untyped-def]
    policy = current_policy()
    with_source = [a for a in policy.activities if a.source is not None]
    assert with_source, "the policy names no source; the test cannot show one"
    report = access_report(kari, lang="en")
    for info in report.activities:
        if info.id != "identity":
            expected = policy.activity(info.id).source
            assert info.source == (expected.en if expected else "")


@pytest.mark.req("R33")
def test_report_for_person_without_data_beyond_identity(make_person) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    report = access_report(person, lang="en")
    assert [a.id for a in report.activities] == ["identity"]


def _person_with_registrations(make_person, make_course, n: int):  # type: ignore[no-untyped-def]
    person = make_person()
    membership_add(
        person=person, organisation="advokatforeningen", valid_from=date(2020, 1, 1), actor=ACTOR
    )
    for _ in range(n):
        register(make_course(), person)
        audit_log(actor=ACTOR, action="test.touched", person=person)
    return person


@pytest.mark.req("R33")
def test_access_report_query_count_does_not_grow_with_rows(make_person, make_course) -> None:  # type: ignore[no-untyped-def]
    one = _person_with_registrations(make_person, make_course, 1)
    twenty = _person_with_registrations(make_person, make_course, 20)
    with CaptureQueriesContext(connection) as small:
        access_report(one)
    with CaptureQueriesContext(connection) as big:
        report = access_report(twenty)
    assert len(report.data["course-participation"]["courses.Registration"]) == 20
    assert len(big.captured_queries) == len(small.captured_queries)
    # At most one query per holder.
    assert len(big.captured_queries) <= len(holders())


@pytest.mark.req("R33")
@pytest.mark.req("R32")
def test_fulfilled_access_request_writes_bundle_to_exports(
    make_request, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    request = make_request(type="access", verified=True)
    request = services.request_fulfil(request=request, actor=ACTOR, lang="en")
    path = engine.export_path(request)
    assert path is not None and path.parent == tmp_path / "exports" / str(request.person.public_id)
    assert zipfile.ZipFile(path).read("data.json")
    assert request.status == "completed" and request.result["bundle"] == path.name
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.req("R33")
def test_report_language_follows_the_request(kari) -> None:  # type: ignore[no-untyped-def]
    nb = engine.access_report_html(access_report(kari, lang="nb"))
    en = engine.access_report_html(access_report(kari, lang="en"))
    assert "Dine rettigheter" in nb and "Your rights" not in nb
    assert "Your rights" in en and "Dine rettigheter" not in en


@pytest.mark.req("R33")
def test_bundle_csv_cells_cannot_run_as_spreadsheet_formulas(make_person, hotel_course) -> None:  # type: ignore[no-untyped-def]
    person = make_person(given_name='=HYPERLINK("http://evil.example","x")', family_name="@SUM(A1)")
    register(hotel_course, person, employer="+47 kontor", dietary_needs="-2+3 laktosefri")
    bundle = _bundle(person)

    people = list(csv.DictReader(io.StringIO(bundle.read("core.Person.csv").decode("utf-8-sig"))))
    assert people[0]["given_name"] == "'" + '=HYPERLINK("http://evil.example","x")'
    assert people[0]["family_name"] == "'@SUM(A1)"
    registrations = list(
        csv.DictReader(io.StringIO(bundle.read("courses.Registration.csv").decode("utf-8-sig")))
    )
    assert registrations[0]["employer"] == "'+47 kontor"
    stays = list(
        csv.DictReader(io.StringIO(bundle.read("courses.HotelStay.csv").decode("utf-8-sig")))
    )
    assert stays[0]["dietary_needs"] == "'-2+3 laktosefri"
    # The machine-readable data keeps the values as they are.
    data = json.loads(bundle.read("data.json"))
    rows = data["data"]["course-participation"]["courses.Registration"]
    assert rows[0]["employer"] == "+47 kontor"


@pytest.fixture
def ola(make_person, hotel_course, make_request):  # type: ignore[no-untyped-def]
    """A person with a value of every kind in the report: text, choices, dates, aware
    datetimes, booleans (true, false, unknown), decimals, ids, nulls, a related row
    (the course) and a field read through a relation (the customer's name)."""
    person = make_person(
        email="ola@example.org", given_name="Ola", family_name="Nordmann", phone="+47 22 33 44 55"
    )
    registration = register(
        hotel_course,
        person,
        overnight_stay=True,
        arrival_date=date(2025, 4, 9),
        departure_date=date(2025, 4, 11),
        dietary_needs="Vegetar",
        employer="Advokatfirma AS",
    )
    courses.attendance_record(
        course=hotel_course,
        registration_ids=[registration.pk],
        attended=False,
        actor=ACTOR,
        now=oslo(2025, 4, 12, 9, 0),
    )
    courses.hotel_list_export(course=hotel_course, actor=ACTOR, now=COURSE_NOW)
    membership_add(
        person=person, organisation="advokatforeningen", valid_from=date(2020, 1, 1), actor=ACTOR
    )
    customer = customers.customer_create(name="Kunde AS", kind="customer", actor=ACTOR)
    customers.contact_add(
        customer=customer, person=person, actor=ACTOR, role="innkjøper", now=COURSE_NOW
    )
    customers.invoice_record(
        customer=customer,
        number="F-1",
        issued_on=date(2025, 2, 3),
        amount=Decimal("1250.50"),
        actor=ACTOR,
        person=person,
    )
    make_request(type="access", person=person, verified=True)
    return person


@pytest.mark.req("R33")
def test_report_values_of_every_kind_as_data_and_as_shown(ola) -> None:  # type: ignore[no-untyped-def]
    """The report reads its rows without model instances; each value must still come
    out as the model's value would: ISO 8601 in data.json, local and labelled in the
    readable report."""
    report = access_report(ola, lang="nb")
    sections = {s.label: s for s in report.sections}
    created = Person.objects.get(pk=ola.pk).created_at.astimezone(OSLO)
    request = Request.objects.get(person=ola)
    expected = {
        "core.Person": (
            {
                "given_name": "Ola",
                "family_name": "Nordmann",
                "phone": "+47 22 33 44 55",
                "created_at": created.isoformat(),
            },
            ["Ola", "Nordmann", "+47 22 33 44 55", created.strftime("%Y-%m-%d %H:%M")],
        ),
        "core.EmailIdentity": (
            {"address": "ola@example.org", "verified_at": None},
            ["ola@example.org", ""],
        ),
        "core.Membership": (
            {
                "organisation": "advokatforeningen",
                "member_id": "",
                "valid_from": "2020-01-01",
                "valid_to": None,
            },
            ["Advokatforeningen", "", "2020-01-01", ""],
        ),
        "courses.Registration": (
            {
                "course": "Personvernrett (2025-04-10)",
                "status": "confirmed",
                "registered_at": "2025-03-01T10:00:00+01:00",
                "employer": "Advokatfirma AS",
                "invoice_reference": "",
                "attended": False,
                "cancelled_at": None,
                "language": "",
            },
            [
                "Personvernrett (2025-04-10)",
                "bekreftet",
                "2025-03-01 10:00",
                "Advokatfirma AS",
                "",
                "nei",
                "",
                "",
            ],
        ),
        "courses.HotelStay": (
            {
                "course": "Personvernrett (2025-04-10)",
                "dietary_needs": "Vegetar",
                "overnight_stay": True,
                "arrival_date": "2025-04-09",
                "departure_date": "2025-04-11",
            },
            ["Personvernrett (2025-04-10)", "Vegetar", "ja", "2025-04-09", "2025-04-11"],
        ),
        "customers.CustomerContact": (
            {
                "customer__name": "Kunde AS",
                "role": "innkjøper",
                "added_at": "2025-03-01T10:00:00+01:00",
            },
            ["Kunde AS", "innkjøper", "2025-03-01 10:00"],
        ),
        "customers.Invoice": (
            {
                "customer__name": "Kunde AS",
                "number": "F-1",
                "issued_on": "2025-02-03",
                "amount": "1250.50",
            },
            ["Kunde AS", "F-1", "2025-02-03", "1250.50"],
        ),
        "rights.Request": (
            {
                "public_id": str(request.public_id),
                "type": "access",
                "status": "in_progress",
                "channel": "email",
                "received_at": "2025-03-05T10:00:00+01:00",
                "verified_at": "2025-03-06T09:30:00+01:00",
                "due_legal": "2025-04-07",
                "extended_by_months": 0,
                "extension_reason": "",
                "completed_at": None,
            },
            [
                str(request.public_id),
                "innsyn (art. 15)",
                "under behandling",
                "e-post",
                "2025-03-05 10:00",
                "2025-03-06 09:30",
                "2025-04-07",
                "0",
                "",
                "",
            ],
        ),
    }
    for label, (data, shown) in expected.items():
        section = sections[label]
        assert [name for name, _label in section.fields] == list(data), label
        assert section.rows == [data], label
        # Same types too: an int stays an int, False stays False (not "0" or None).
        assert [type(v) for v in section.rows[0].values()] == [type(v) for v in data.values()]
        assert section.display_rows == [shown], label
    assert report.data["hotel-stay"]["courses.HotelStay"] == [expected["courses.HotelStay"][0]]


@pytest.mark.req("R33")
@pytest.mark.req("R38")
def test_report_rows_are_the_portability_exports_rows(ola) -> None:  # type: ignore[no-untyped-def]
    """The report reads rows from the cursor; the portability export (Art. 20) reads them
    through model instances. A portable holder's rows are the same in both."""
    report = access_report(ola)
    exported = portability_export(ola)["data"]
    compared = 0
    for activity, by_holder in exported.items():
        for label, exported_rows in by_holder.items():
            assert report.data[activity][label] == exported_rows, label
            compared += 1
    assert compared >= 4


@pytest.mark.req("R33")
def test_report_section_of_a_field_that_is_not_a_column(ola) -> None:  # type: ignore[no-untyped-def]
    """A holder showing something that is no plain column (here ``pk``) keeps the
    model-instance path, with the same result."""
    holder = Holder(
        model=Person,
        activity=None,
        person="pk",
        fields=[("given_name", "given name"), ("pk", "number")],
    )
    with connection.cursor() as cursor:
        section = holder_report_section(holder, ola.pk, cursor)
    assert section is not None
    assert section.rows == [{"given_name": "Ola", "pk": ola.pk}]
    assert section.display_rows == [["Ola", str(ola.pk)]]


@pytest.mark.req("R33")
def test_report_shows_a_related_row_as_it_is_now(ola, hotel_course) -> None:  # type: ignore[no-untyped-def]
    """A related row's text is kept between reports by its values: a renamed course is
    shown by its new name in the next report."""
    before = access_report(ola).data["course-participation"]["courses.Registration"][0]
    assert before["course"] == "Personvernrett (2025-04-10)"
    Course.objects.filter(pk=hotel_course.pk).update(title="Personvernrett II")
    after = access_report(ola).data["course-participation"]["courses.Registration"][0]
    assert after["course"] == "Personvernrett II (2025-04-10)"


@pytest.mark.req("R33")
def test_report_text_of_a_related_row_that_reads_the_database_is_not_kept(
    ola, hotel_course, make_course, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Where a related model's text reads other rows, it is made anew for every report,
    so a change in those rows shows."""
    monkeypatch.setattr(rows, "_RELATED_TEXTS", {})
    monkeypatch.setattr(rows, "_QUERYING_STR", set())
    monkeypatch.setattr(Course, "__str__", lambda c: f"{c.title} of {Course.objects.count()}")
    first = access_report(ola).data["course-participation"]["courses.Registration"][0]
    assert first["course"] == "Personvernrett of 1"
    make_course()
    second = access_report(ola).data["course-participation"]["courses.Registration"][0]
    assert second["course"] == "Personvernrett of 2"


def test_named_parameters_give_the_statement_the_sqlite_cursor_would_send() -> None:
    """On SQLite the report sends its statements with named parameters; the statement
    Django's cursor makes of them is the one it makes of the ``%s`` form."""
    sql = "SELECT a FROM t WHERE b = %s AND c LIKE '%%x' AND d = %s"
    named, params, person_at = rows._named(sql, [1, -5], 1)
    assert (params, person_at) == ({"p0": 1, "p1": -5}, "p1")
    assert named % {"p0": ":p0", "p1": ":p1"} == (
        "SELECT a FROM t WHERE b = :p0 AND c LIKE '%x' AND d = :p1"
    )
    # Where the placeholders and the parameters do not agree, nothing is changed.
    assert rows._named("SELECT a WHERE b = %s", [1, 2], 0) == ("SELECT a WHERE b = %s", [1, 2], 0)
