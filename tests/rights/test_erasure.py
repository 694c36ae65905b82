"""Erasure (Art. 17): everything the law allows goes, what must stay is reported, no trace left."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.utils import translation

from personvern.core.audit import pseudonym, seal_pending, verify_chain
from personvern.core.models import AuditEntry, EmailIdentity, HoldScope, Person
from personvern.core.services import consent_record, hold_place, membership_add, person_create
from personvern.courses import services as courses
from personvern.courses.models import HotelTransferEntry, Registration
from personvern.rights import engine, services
from personvern.rights.models import Request, RequestStatus
from tests.rights.conftest import ACTOR, COURSE_NOW, oslo, register

EMAIL = "kari.qzx-nordmann@example.org"
GIVEN = "Karizqx"
FAMILY = "Nordmannzqx"
PHONE = "+47 93 71 55 02"
IDENTIFIERS = (EMAIL, GIVEN, FAMILY, PHONE)


def scan_database(needles: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every (table, needle) where a needle appears in any column of any row, any table."""
    found = []
    lowered = [n.lower() for n in needles]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                text = " ".join(_text(v) for v in row).lower()
                found.extend((table, n) for n in lowered if n in text)
    return found


def _text(value: object) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _kari_with_everything(hotel_course, settings, tmp_path, django_user_model):  # type: ignore[no-untyped-def]
    """A person with data in many holders, the audit, the admin log and an export."""
    settings.DATA_DIR = tmp_path
    person = person_create(
        email=EMAIL, given_name=GIVEN, family_name=FAMILY, phone=PHONE, actor=ACTOR, now=COURSE_NOW
    )
    register(
        hotel_course,
        person,
        overnight_stay=True,
        arrival_date=date(2025, 4, 9),
        departure_date=date(2025, 4, 11),
        employer=f"{FAMILY} AS",
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
    # A rectification puts old and new values in the audit's personal payload.
    access = services.request_create(
        type="rectification",
        person=person,
        channel="email",
        received_at=oslo(2025, 3, 2, 9, 0),
        actor=ACTOR,
        notes=f"{GIVEN} {FAMILY} phoned about {EMAIL}",
        now=oslo(2025, 3, 2, 10, 0),
    )
    services.request_verify(
        request=access, staff_note=f"Knows {GIVEN}", actor=ACTOR, now=oslo(2025, 3, 2, 11, 0)
    )
    services.request_fulfil(
        request=access,
        actor=ACTOR,
        now=oslo(2025, 3, 2, 12, 0),
        changes={"core.Person": {"family_name": FAMILY + "x"}},
    )
    services.request_fulfil(
        request=services.request_verify(
            request=services.request_create(
                type="access",
                person=person,
                channel="email",
                received_at=oslo(2025, 3, 3, 9, 0),
                actor=ACTOR,
                now=oslo(2025, 3, 3, 9, 0),
            ),
            staff_note="ok",
            actor=ACTOR,
            now=oslo(2025, 3, 3, 9, 5),
        ),
        actor=ACTOR,
        now=oslo(2025, 3, 3, 9, 10),
    )
    # A request cancelled with a reason that names the person (R35: must not survive).
    services.request_cancel(
        request=services.request_create(
            type="access",
            person=person,
            channel="phone",
            received_at=oslo(2025, 3, 3, 8, 0),
            actor=ACTOR,
            now=oslo(2025, 3, 3, 8, 0),
        ),
        reason=f"{GIVEN} {FAMILY} ({EMAIL}) withdrew it by phone",
        actor=ACTOR,
        now=oslo(2025, 3, 3, 8, 30),
    )
    # Staff edited the person in the admin: the change log keeps str(person).
    staff = django_user_model.objects.create_user(username="dpo", password="unused-pw-71")
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[Person.objects.get(pk=person.pk)],
        action_flag=CHANGE,
        change_message="changed",
    )
    return Person.objects.get(pk=person.pk)


def _erase(person: Person) -> Request:
    request = services.request_create(
        type="erasure",
        person=person,
        channel="email",
        received_at=oslo(2025, 3, 4, 9, 0),
        actor=ACTOR,
        now=oslo(2025, 3, 4, 9, 0),
    )
    request = services.request_verify(
        request=request, staff_note="Known caller", actor=ACTOR, now=oslo(2025, 3, 4, 9, 30)
    )
    return services.request_fulfil(request=request, actor=ACTOR, now=oslo(2025, 3, 4, 10, 0))


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_erasure_leaves_no_identifier_anywhere_in_the_database(
    hotel_course, settings, tmp_path, django_user_model, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    kari = _kari_with_everything(hotel_course, settings, tmp_path, django_user_model)
    assert {n for _t, n in scan_database(IDENTIFIERS)} == {i.lower() for i in IDENTIFIERS}
    bundle_dir = engine.exports_dir(kari)
    assert any(bundle_dir.iterdir())
    subject = pseudonym(kari)

    with django_capture_on_commit_callbacks(execute=True):
        request = _erase(kari)

    assert scan_database(IDENTIFIERS) == []
    assert not Person.objects.filter(pk=kari.pk).exists()
    assert not Registration.objects.filter(person_id=kari.pk).exists()
    assert not HotelTransferEntry.objects.filter(person_id=kari.pk).exists()
    assert not bundle_dir.exists()
    # The cases survive, de-identified, under the pseudonym only.
    cases = Request.objects.filter(subject=subject)
    assert cases.count() == 4 and not cases.filter(person__isnull=False).exists()
    assert cases.get(status=RequestStatus.CANCELLED).result == {"cancelled": True}
    assert request.status == RequestStatus.COMPLETED
    assert request.result["person_deleted"] is True and request.result["kept"] == []
    assert request.result["erased"]["courses.Registration"] == 1
    # The audit chain still verifies; the personal payloads are gone.
    assert not AuditEntry.objects.filter(subject=subject, personal__isnull=False).exists()
    seal_pending()
    assert verify_chain().problem is None


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_erasure_keeps_what_the_law_requires_and_says_why(make_course, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    lawyer = person_create(
        email="advokat@example.org",
        given_name="Ada",
        family_name="Advokat",
        phone="+47 400 00 000",
        actor=ACTOR,
        now=COURSE_NOW,
    )
    membership_add(
        person=lawyer, organisation="advokatforeningen", valid_from=date(2020, 1, 1), actor=ACTOR
    )
    kept_registration = register(make_course(), lawyer)
    consent_record(
        person=lawyer,
        scope="newsletter",
        action="given",
        channel="web",
        text_version="2025-01",
        actor=ACTOR,
        now=COURSE_NOW,
    )

    request = _erase(lawyer)

    kept = {(k["holder"], k["reason_id"]): k for k in request.result["kept"]}
    assert kept[("courses.Registration", "mandatory-continuing-education")]["count"] == 1
    assert (
        "continuing education"
        in kept[("courses.Registration", "mandatory-continuing-education")]["reason"].lower()
        or "etterutdanning"
        in kept[("courses.Registration", "mandatory-continuing-education")]["reason"].lower()
    )
    assert ("core.Person", "identity-of-kept-records") in kept
    assert Registration.objects.filter(pk=kept_registration.pk).exists()
    # The person row stays to name the kept record, without contact details.
    person = Person.objects.get(pk=lawyer.pk)
    assert (person.given_name, person.family_name, person.phone) == ("Ada", "Advokat", "")
    assert not EmailIdentity.objects.filter(person=person).exists()
    assert not person.consents.exists()
    assert person.memberships.count() == 1
    assert scan_database(("advokat@example.org", "+47 400 00 000")) == []


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_erasure_keeps_rows_under_a_hold_for_a_legal_claim(make_person, make_course) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    held = register(make_course(), person)
    other = register(make_course(), person)
    hold_place(
        scope=HoldScope.ROW, row=held, reason="Dispute over invoice", actor=ACTOR, now=COURSE_NOW
    )
    request = _erase(person)
    assert Registration.objects.filter(pk=held.pk).exists()
    assert not Registration.objects.filter(pk=other.pk).exists()
    kept = [k for k in request.result["kept"] if k["holder"] == "courses.Registration"]
    assert kept == [
        {
            "activity": "course-participation",
            "holder": "courses.Registration",
            "count": 1,
            "reason_id": "hold",
            "reason": kept[0]["reason"],
        }
    ]
    with translation.override("nb"):  # the request's language
        assert kept[0]["reason"] == str(engine.HOLD_REASON)
    assert "17" in kept[0]["reason"]


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_person_hold_keeps_everything(make_person, make_course) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    registration = register(make_course(), person)
    hold_place(scope=HoldScope.PERSON, person=person, reason="Lawsuit", actor=ACTOR, now=COURSE_NOW)
    request = _erase(person)
    assert Registration.objects.filter(pk=registration.pk).exists()
    assert EmailIdentity.objects.filter(person=person).exists()
    assert {k["reason_id"] for k in request.result["kept"]} == {"hold"}


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_erasure_is_all_or_nothing(make_person, make_course, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    registration = register(make_course(), person)

    def broken(subject: str) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine.erasure, "forget_subject", broken)
    with pytest.raises(RuntimeError):
        _erase(person)
    assert Registration.objects.filter(pk=registration.pk).exists()
    assert Person.objects.filter(pk=person.pk).exists()
    assert Request.objects.get(type="erasure").status == RequestStatus.IN_PROGRESS


def _on_disk(path: Path) -> bytes:
    """The file's bytes, read by another process.

    Opening and closing the database file in this process would release every
    POSIX lock this process's SQLite connections hold on it (fcntl locks are per
    process). Other processes would then take the database for unused and delete
    its WAL and shared-memory files under our connections: later tests that start
    workers or servers saw "disk I/O error" or missed their commits.
    """
    if not path.exists():
        return b""
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c",
         "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())", str(path)],
        capture_output=True, check=True, timeout=60,
    ).stdout


@pytest.mark.django_db(transaction=True)
@pytest.mark.req("R35")
def test_sqlite_file_and_wal_hold_no_bytes_of_the_erased_person(
    hotel_course, settings, tmp_path, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        pytest.skip("the on-disk scan is SQLite's; PostgreSQL is covered by the VACUUM test")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
    kari = _kari_with_everything(hotel_course, settings, tmp_path, django_user_model)
    db_file = Path(connection.settings_dict["NAME"])
    wal_file = Path(f"{db_file}-wal")
    needles = [i.encode("utf-8") for i in IDENTIFIERS]
    before = _on_disk(db_file) + _on_disk(wal_file)
    assert all(n in before for n in needles)  # the scan can see them while they exist

    _erase(kari)  # commits; the erasure checkpoints and truncates the WAL

    content = _on_disk(db_file) + _on_disk(wal_file)
    assert [n for n in needles if n in content] == []
    assert not wal_file.exists() or wal_file.stat().st_size == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.req("R35")
def test_postgresql_tables_are_vacuumed_after_erasure(make_person, make_course) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's")
    person = make_person()
    register(make_course(), person)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_reset()")
    _erase(person)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = %s",
            [EmailIdentity._meta.db_table],
        )
        (count,) = cursor.fetchone()
    assert count >= 1


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_exports_of_the_person_are_deleted(
    make_request, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    access = make_request(type="access", verified=True)
    access = services.request_fulfil(request=access, actor=ACTOR)
    path = engine.export_path(access)
    assert path is not None and zipfile.is_zipfile(path)
    with django_capture_on_commit_callbacks(execute=True):
        _erase(access.person)
    assert not path.exists()


@pytest.mark.django_db
@pytest.mark.req("R35")
def test_erasure_clears_every_free_text_field_of_a_request(make_request) -> None:  # type: ignore[no-untyped-def]
    from django.db import models

    from personvern.core.registry import holder_of

    free_text = {
        f.name
        for f in Request._meta.get_fields()
        if isinstance(f, models.TextField) or getattr(f, "personal", False)
    }
    assert free_text <= set(holder_of(Request).anonymise)  # type: ignore[union-attr]

    request = make_request(verified=True)
    Request.objects.filter(pk=request.pk).update(notes="Kari Zq ringte")
    request = services.request_extend(
        request=request,
        months=1,
        reason="Kari Zq sine e-poster",
        actor=ACTOR,
        now=oslo(2025, 3, 10, 9, 0),
    )
    _erase(request.person)
    request.refresh_from_db()
    # Still open when the person was erased: closed with a note naming only the erasure.
    assert "kari" not in request.notes.lower()
    assert (request.verification_note, request.extension_reason) == ("", "")
    assert request.person is None
