"""Participant lists for the participants (R13) and hotel lists for the hotel (R11)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from personvern.core.models import AuditEntry, RestrictionGround
from personvern.core.registry import holder_of
from personvern.core.services import restriction_lift, restriction_place
from personvern.courses import services
from personvern.courses.models import (
    HotelTransfer,
    HotelTransferEntry,
    Registration,
)
from personvern.courses.selectors import participant_rows

from .factories import ACTOR, NOW, make_course, register


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def full_course(db):
    """Two seats: Aas and Berg confirmed, Dahl wait-listed, Cato cancelled."""
    course = make_course(capacity=3)
    aas = register(course, given_name="Åse", family_name="Aas", employer="Advokatfirma Øst AS",
                   invoice_reference="PO-1")
    berg = register(course, given_name="Bjørn", family_name="Berg", employer="")
    cato = register(course, given_name="Cato", family_name="Cappelen")
    services.registration_cancel(registration=cato, actor=ACTOR, now=NOW)
    services.course_update(course=course, changes={"capacity": 2}, actor=ACTOR, now=NOW)
    dahl = register(course, given_name="Dag", family_name="Dahl")
    assert dahl.status == "waitlisted"
    return course, aas, berg


@pytest.mark.req("R13")
def test_participant_list_csv_has_allowed_fields_of_confirmed_only(full_course):
    course, _aas, _berg = full_course
    rows = read_csv(services.participant_list_export(course=course, fmt="csv", actor=ACTOR))
    assert rows == [
        ["Given name", "Family name", "Employer"],
        ["Åse", "Aas", "Advokatfirma Øst AS"],
        ["Bjørn", "Berg", ""],
    ]
    entry = AuditEntry.objects.get(action="participant_list.exported")
    assert entry.data == {"course": course.pk, "rows": 2, "format": "csv"}


@pytest.mark.req("R13")
def test_participant_list_xlsx(full_course):
    course, _aas, _berg = full_course
    rows = read_xlsx(services.participant_list_export(course=course, fmt="xlsx", actor=ACTOR))
    assert rows == [
        ["Given name", "Family name", "Employer"],
        ["Åse", "Aas", "Advokatfirma Øst AS"],
        ["Bjørn", "Berg", None],
    ]


@pytest.mark.req("R13")
def test_participant_list_defuses_spreadsheet_formulas(db):
    course = make_course()
    register(course, given_name="=HYPERLINK(1)", family_name="X", employer="+47")
    rows = read_xlsx(services.participant_list_export(course=course, fmt="xlsx", actor=ACTOR))
    assert rows[1] == ["'=HYPERLINK(1)", "X", "'+47"]
    text = services.participant_list_export(course=course, fmt="csv", actor=ACTOR)
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[1] == "'=HYPERLINK(1),X,'+47"


@pytest.mark.req("R13")
@pytest.mark.req("R36")
def test_restricted_person_left_out_of_participant_list(full_course):
    course, aas, _berg = full_course
    restriction = restriction_place(person=aas.person, ground=RestrictionGround.ACCURACY,
                                    actor=ACTOR, now=NOW)
    names = [r["person__family_name"] for r in participant_rows(course, now=NOW)]
    assert names == ["Berg"]
    restriction_lift(restriction=restriction, actor=ACTOR, now=NOW + timedelta(days=1))
    names = [r["person__family_name"] for r in
             participant_rows(course, now=NOW + timedelta(days=2))]
    assert names == ["Aas", "Berg"]


@pytest.mark.req("R13")
def test_participant_list_is_one_query_however_many_participants(db, django_assert_num_queries):
    course = make_course(capacity=30)
    for _ in range(25):
        register(course)
    with django_assert_num_queries(1):
        rows = participant_rows(course, now=NOW)
    assert len(rows) == 25


@pytest.fixture
def hotel_setup(hotel_course):
    course = hotel_course
    stay = {"overnight_stay": True, "arrival_date": date(2025, 4, 9),
                "departure_date": date(2025, 4, 11)}
    guest = register(course, given_name="Gro", family_name="Gjest", dietary_needs="vegan",
                     employer="Hemmelig AS", invoice_reference="PO-9", **stay)
    day_only = register(course, given_name="Dag", family_name="Dagsgjest",
                        dietary_needs="glutenfri")
    restricted = register(course, given_name="Rita", family_name="Restrikt", **stay)
    restriction_place(person=restricted.person, ground=RestrictionGround.UNLAWFUL,
                      actor=ACTOR, now=NOW)
    return course, guest, day_only, restricted


@pytest.mark.req("R11")
def test_hotel_list_only_overnight_guests_and_hotel_fields(hotel_setup):
    course, guest, _day_only, _restricted = hotel_setup
    content, transfer = services.hotel_list_export(course=course, fmt="csv", actor="staff:eva",
                                                   now=NOW)
    assert read_csv(content) == [
        ["Given name", "Family name", "Arrival", "Departure"],
        ["Gro", "Gjest", "2025-04-09", "2025-04-11"],
    ]
    rows = read_xlsx(services.hotel_list_export(course=course, fmt="xlsx", actor=ACTOR,
                                                now=NOW)[0])
    assert rows[1][:2] == ["Gro", "Gjest"] and len(rows) == 2
    assert transfer.hotel_name == course.venue.hotel_name
    assert (transfer.row_count, transfer.actor) == (1, "staff:eva")


@pytest.mark.req("R11")
def test_hotel_transfer_recorded_per_person_and_shown_as_recipient(hotel_setup):
    course, guest, day_only, restricted = hotel_setup
    _content, transfer = services.hotel_list_export(course=course, actor=ACTOR, now=NOW)

    assert list(transfer.registrations.all()) == [guest]
    assert transfer.fields_sent == ["person__given_name", "person__family_name",
                                    "arrival_date", "departure_date"]
    audit = AuditEntry.objects.get(action="hotel_transfer.recorded")
    assert audit.data["transfer"] == transfer.pk and audit.data["rows"] == 1
    assert "Gjest" not in repr(audit.data)

    # What the guest's access report reads: the holder's rows for the person.
    holder = holder_of(HotelTransferEntry)
    assert holder is not None
    rows = list(holder.for_person(guest.person_id).values(*[f for f, _l in holder.fields]))
    assert rows == [{"recipient": course.venue.hotel_name, "sent_at": NOW,
                     "fields_sent": "Given name, Family name, Arrival, Departure"}]
    assert not holder.for_person(day_only.person_id).exists()
    assert not holder.for_person(restricted.person_id).exists()


@pytest.mark.req("R11")
def test_no_hotel_list_for_course_without_hotel_stay(physical_course):
    register(physical_course)
    with pytest.raises(ValidationError, match="offers no hotel stay"):
        services.hotel_list_export(course=physical_course, actor=ACTOR, now=NOW)
    assert not HotelTransfer.objects.exists()
    assert Registration.objects.count() == 1
