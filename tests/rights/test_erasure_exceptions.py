"""Erasure (Art. 17): holds (real clock, parent rows), fields cleared on kept rows,
cascade counts, the admin log of cascaded rows, the person's other open requests,
and the storage purge after commit."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.utils import translation

from personvern.core.models import AuditEntry, HoldScope, Person
from personvern.core.services import hold_lift, hold_place, membership_add
from personvern.courses import services as courses
from personvern.courses.models import HotelTransferEntry, Registration
from personvern.inquiries.models import Inquiry
from personvern.recruitment import services as recruitment
from personvern.recruitment.models import Application, ApplicationDocument, ApplicationNote
from personvern.rights import engine
from personvern.rights.models import Request, RequestStatus
from personvern.site.models import SecureUpload
from personvern.site.services import secure_message_send
from tests.rights.conftest import ACTOR, COURSE_NOW, oslo, register
from tests.rights.test_erasure import _erase, scan_database

PDF = b"%PDF-1.4 minimal test document"


def _email(person: Person) -> str:
    return str(person.emails.values_list("address", flat=True)[0])


def _apply(person: Person, *, documents: int = 1, notes: int = 1) -> Application:
    application = recruitment.application_receive(
        email=_email(person),
        source="direct",
        actor=ACTOR,
        letter="Jeg søker.",
        documents=[
            recruitment.DocumentUpload(
                kind="cv", filename=f"cv-{n}.pdf", content_type="application/pdf", content=PDF
            )
            for n in range(documents)
        ],
        received_at=COURSE_NOW,
    )
    for _n in range(notes):
        recruitment.application_note_add(
            application=application,
            kind="interview",
            text="Godt intervju.",
            actor=ACTOR,
            now=COURSE_NOW,
        )
    return application


def _kept(request: Request) -> dict[tuple[str, str], dict[str, Any]]:
    return {(k["holder"], k["reason_id"]): k for k in request.result["kept"]}


def _log(staff_id: int, rows: list[models.Model]) -> None:
    LogEntry.objects.log_actions(
        user_id=staff_id, queryset=rows, action_flag=CHANGE, change_message="changed"
    )


def _logged(row: models.Model) -> bool:
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(row)), object_id=str(row.pk)
    ).exists()


# --- Holds are those in force now, whatever date the request is fulfilled as of -------


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_hold_placed_after_the_as_of_date_protects_and_a_lifted_one_does_not(
    make_person, make_course
) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    held = register(make_course(), person)
    was_held = register(make_course(), person)
    # Placed at the real time: after the date the erasure is fulfilled as of (2025-03-04).
    hold_place(scope=HoldScope.ROW, row=held, reason="Tvist", actor=ACTOR)
    lifted = hold_place(
        scope=HoldScope.ROW, row=was_held, reason="Tvist", actor=ACTOR, now=COURSE_NOW
    )
    hold_lift(hold=lifted, actor=ACTOR)

    request = _erase(person)

    assert Registration.objects.filter(pk=held.pk).exists()
    assert not Registration.objects.filter(pk=was_held.pk).exists()
    assert _kept(request)[("courses.Registration", "hold")]["count"] == 1


# --- A hold on a parent row keeps its children (and a held child its parent) ------------


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_row_hold_on_an_application_keeps_its_documents_and_notes(make_person) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    held = _apply(person, documents=1, notes=1)
    other = _apply(person, documents=2, notes=1)
    hold_place(
        scope=HoldScope.ROW, row=held, reason="Diskrimineringssak", actor=ACTOR, now=COURSE_NOW
    )

    request = _erase(person)

    assert Application.objects.filter(pk=held.pk).exists()
    assert ApplicationDocument.objects.filter(application=held).count() == 1
    assert ApplicationNote.objects.filter(application=held).count() == 1
    assert not Application.objects.filter(pk=other.pk).exists()
    assert not ApplicationDocument.objects.filter(application_id=other.pk).exists()
    kept = _kept(request)
    assert kept[("recruitment.Application", "hold")]["count"] == 1
    for label in ("recruitment.ApplicationDocument", "recruitment.ApplicationNote"):
        assert kept[(label, "parent-hold")]["count"] == 1
        with translation.override("nb"):  # the request's language
            assert kept[(label, "parent-hold")]["reason"] == str(engine.PARENT_HOLD_REASON)
    assert ("core.Person", "identity-of-kept-records") in kept


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_row_hold_on_a_document_keeps_its_application_from_the_cascade(make_person) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    application = _apply(person, documents=1, notes=1)
    document = ApplicationDocument.objects.get(application=application)
    hold_place(scope=HoldScope.ROW, row=document, reason="Falsk vitnemål", actor=ACTOR)

    request = _erase(person)

    assert ApplicationDocument.objects.filter(pk=document.pk).exists()
    assert Application.objects.filter(pk=application.pk).exists()
    assert not ApplicationNote.objects.filter(application=application).exists()
    kept = _kept(request)
    assert kept[("recruitment.Application", "hold")]["count"] == 1
    assert kept[("recruitment.ApplicationDocument", "hold")]["count"] == 1


# --- Rows kept under an erasure exception lose what the exception does not cover -------


@pytest.mark.django_db
@pytest.mark.req("R35")
@pytest.mark.req("R14")
def test_kept_registration_of_a_lawyer_keeps_course_and_attendance_and_loses_the_rest(
    hotel_course, make_course, make_person
) -> None:  # type: ignore[no-untyped-def]
    lawyer = make_person()
    membership_add(
        person=lawyer, organisation="advokatforeningen", valid_from=date(2020, 1, 1), actor=ACTOR
    )
    registration = register(
        hotel_course,
        lawyer,
        employer="Advokatfirma Hansen AS",
        invoice_reference="PO-77812",
        dietary_needs="Glutenfri",
        overnight_stay=True,
        arrival_date=date(2025, 4, 9),
        departure_date=date(2025, 4, 11),
    )
    courses.hotel_list_export(course=hotel_course, actor=ACTOR, now=COURSE_NOW)
    courses.attendance_record(
        course=hotel_course,
        registration_ids=[registration.pk],
        attended=True,
        actor=ACTOR,
        now=hotel_course.ends_at,
    )
    # A registration under a hold for a legal claim stays whole.
    disputed = register(make_course(), lawyer, employer="Advokatfirma Hansen AS")
    hold_place(scope=HoldScope.ROW, row=disputed, reason="Fakturatvist", actor=ACTOR)
    before = Registration.objects.get(pk=registration.pk)

    request = _erase(lawyer)

    after = Registration.objects.get(pk=registration.pk)
    assert (after.course_id, after.status, after.registered_at, after.attended) == (
        before.course_id,
        before.status,
        before.registered_at,
        True,
    )
    assert (after.employer, after.invoice_reference, after.dietary_needs) == ("", "", "")
    assert (after.overnight_stay, after.arrival_date, after.departure_date) == (False, None, None)
    assert Registration.objects.get(pk=disputed.pk).employer == "Advokatfirma Hansen AS"
    assert not HotelTransferEntry.objects.filter(registration=registration).exists()
    kept = _kept(request)
    cle = kept[("courses.Registration", "mandatory-continuing-education")]
    assert cle["count"] == 1
    assert set(cle["cleared"]) == {
        "employer",
        "invoice_reference",
        "dietary_needs",
        "overnight_stay",
        "arrival_date",
        "departure_date",
        "language",
    }
    assert kept[("courses.Registration", "hold")]["count"] == 1
    assert "cleared" not in kept[("courses.Registration", "hold")]
    assert scan_database(("PO-77812", "Glutenfri")) == []


# --- Counts include cascades; the admin log of cascaded rows goes too ------------------


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_erasure_result_counts_rows_deleted_by_cascade(make_person, hotel_course) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    _apply(person, documents=2, notes=1)
    secure_message_send(
        email=_email(person),
        subject="Spørsmål",
        message="Se vedlegg.",
        actor=ACTOR,
        attachment=("vedlegg.pdf", PDF),
        now=COURSE_NOW,
    )
    register(
        hotel_course,
        person,
        overnight_stay=True,
        arrival_date=date(2025, 4, 9),
        departure_date=date(2025, 4, 11),
    )
    courses.hotel_list_export(course=hotel_course, actor=ACTOR, now=COURSE_NOW)

    erased = _erase(person).result["erased"]

    assert erased["recruitment.Application"] == 1
    assert erased["recruitment.ApplicationDocument"] == 2
    assert erased["recruitment.ApplicationNote"] == 1
    assert erased["inquiries.Inquiry"] == 1
    assert erased["site.SecureUpload"] == 1
    assert erased["courses.Registration"] == 1
    assert erased["courses.HotelTransferEntry"] == 1
    assert erased["core.Person"] == 1 and erased["core.EmailIdentity"] == 1
    assert not SecureUpload.objects.exists() and not Inquiry.objects.exists()


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_admin_log_rows_of_erased_and_cascaded_rows_are_deleted(
    make_person, make_course, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    staff = django_user_model.objects.create_user(username="dpo", password="unused-pw-72")
    person = make_person()
    registration = register(make_course(), person)
    document = ApplicationDocument.objects.get(application=_apply(person, documents=1))
    bystander = make_person()
    their_document = ApplicationDocument.objects.get(application=_apply(bystander, documents=1))
    _log(staff.pk, [Registration.objects.get(pk=registration.pk)])
    _log(staff.pk, [document, their_document])
    _log(staff.pk, [Person.objects.get(pk=person.pk)])

    _erase(person)

    assert not _logged(registration)
    assert not _logged(document)  # went with its application, by cascade
    assert not _logged(person)
    assert _logged(their_document)


# --- The person's other open requests -------------------------------------------------


@pytest.mark.django_db
@pytest.mark.req("R35")
@pytest.mark.req("R32")
def test_erasure_closes_the_persons_other_open_requests(make_person, make_request) -> None:  # type: ignore[no-untyped-def]
    person = make_person(given_name="Sigrunzq")
    access = make_request(type="access", person=person)
    rectification = make_request(type="rectification", person=person, verified=True)
    someone_else = make_request(type="access")
    Request.objects.filter(pk=access.pk).update(notes="Sigrunzq ringte")

    erasure = _erase(person)

    for open_request in (access, rectification):
        open_request.refresh_from_db()
        assert open_request.status == RequestStatus.CANCELLED
        assert open_request.cancelled_at == oslo(2025, 3, 4, 10, 0)
        assert open_request.person is None
        assert open_request.result == {
            "cancelled": True,
            "closed_by_erasure": str(erasure.public_id),
        }
        assert str(erasure.public_id) in open_request.notes
        assert "sigrunzq" not in open_request.notes.lower()
        assert AuditEntry.objects.filter(
            action="rights.request.cancelled", data__request=str(open_request.public_id)
        ).exists()
    assert sorted(erasure.result["requests_closed"]) == sorted(
        [str(access.public_id), str(rectification.public_id)]
    )
    someone_else.refresh_from_db()
    assert someone_else.status == RequestStatus.PENDING and someone_else.person is not None
    assert scan_database(("Sigrunzq",)) == []


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_person_hold_leaves_the_persons_other_requests_open(make_person, make_request) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    access = make_request(type="access", person=person)
    hold_place(scope=HoldScope.PERSON, person=person, reason="Søksmål", actor=ACTOR)
    erasure = _erase(person)
    access.refresh_from_db()
    assert access.status == RequestStatus.PENDING and access.person_id == person.pk
    assert erasure.result["requests_closed"] == []


# --- Storage purge after commit ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.req("R35")
def test_storage_purge_after_erasure_is_done(make_person, make_course) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    register(make_course(), person)
    report = engine.erase(person, actor=ACTOR)  # commits; the purge runs after commit
    assert report.storage_purge == engine.PURGE_DONE
    assert engine.purge_freed_storage([Registration._meta.db_table]) == engine.PURGE_DONE


@pytest.mark.django_db(transaction=True)
@pytest.mark.req("R35")
def test_busy_wal_checkpoint_is_retried_and_reported_pending(
    make_person, make_course, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        pytest.skip("the WAL checkpoint is SQLite's")
    monkeypatch.setattr(engine.purge, "CHECKPOINT_ATTEMPTS", 2)
    monkeypatch.setattr(engine.purge, "CHECKPOINT_FIRST_WAIT_SECONDS", 0)
    person = make_person()
    register(make_course(), person)
    # Another process reading an older snapshot keeps the WAL from being truncated.
    reader = sqlite3.connect(Path(connection.settings_dict["NAME"]), isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM core_person").fetchone()
        request = _erase(person)
        request.refresh_from_db()
        assert request.status == RequestStatus.COMPLETED
        assert request.result["storage_purge"] == engine.PURGE_PENDING
        assert AuditEntry.objects.filter(action="rights.request.storage_purge_pending").exists()
        assert "stayed busy after 2 tries" in caplog.text
    finally:
        reader.close()
    # Once the reader is gone the next checkpoint completes.
    assert engine.purge_freed_storage() == engine.PURGE_DONE
