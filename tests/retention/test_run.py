"""The retention run: dry run, idempotency, person sweep, audit, query count (R14, R31)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personvern.core.audit import pseudonym, seal_pending, verify_chain
from personvern.core.models import AuditEntry, EmailIdentity, HoldScope, Membership, Person
from personvern.core.policy import current_policy
from personvern.core.registry import holders
from personvern.core.services import hold_place
from personvern.courses.models import HotelTransfer, HotelTransferEntry, Registration
from personvern.retention.engine import retention_forecast, retention_run
from personvern.retention.targets import cascade_conflicts

from .factories import (
    ACTOR,
    at,
    course_ending,
    hotel_course_ending,
    member,
    person,
    register,
    register_overnight,
)

pytestmark = pytest.mark.django_db

AS_OF = at(date(2030, 1, 1))


def _three_due_registrations() -> list[Registration]:
    course = course_ending(at(date(2020, 6, 1), 15))
    return [register(course, f"deltaker{i}@example.no") for i in range(3)]


@pytest.mark.req("R31")
def test_every_declared_holder_is_a_sound_target() -> None:
    forecast = retention_forecast(as_of=AS_OF)
    assert forecast.refused == []
    # And no activity's deletion cascades into another activity's rows (an activity
    # that only anonymises, the hotel stay, deletes nothing).
    deleting = {
        a.id for a in current_policy().activities if any(r.action == "delete" for r in a.retention)
    }
    for holder in holders():
        if holder.activity in deleting:
            assert cascade_conflicts(holder.model, holder.activity) == [], holder.label


@pytest.mark.req("R31")
def test_dry_run_counts_and_changes_nothing() -> None:
    _three_due_registrations()
    entries_before = AuditEntry.objects.count()

    report = retention_run(as_of=AS_OF, dry_run=True)

    assert report.dry_run
    assert sum(line.count for line in report.lines if line.holder == "courses.Registration") == 3
    assert Registration.objects.count() == 3
    assert Person.objects.count() == 3
    assert AuditEntry.objects.count() == entries_before


@pytest.mark.req("R14")
@pytest.mark.req("R31")
def test_run_is_idempotent() -> None:
    _three_due_registrations()
    register(course_ending(at(date(2029, 6, 1), 15)), "ny@example.no")

    first = retention_run(as_of=AS_OF, batch_size=2)
    second = retention_run(as_of=AS_OF, batch_size=2)

    assert first.rows == 3 and first.persons_removed == 3
    assert sum(line.batches for line in first.lines) == 2  # 3 rows in batches of 2
    assert second.rows == 0 and second.persons_removed == 0
    assert Registration.objects.count() == 1


@pytest.mark.req("R14")
def test_deleting_a_registration_takes_its_hotel_transfer_entries_along() -> None:
    # Same activity, same anchors: the record of a hand-over lives as long as the registration.
    registration = register_overnight(hotel_course_ending(at(date(2020, 6, 2), 15)),
                                      "hotell@example.no")
    assert HotelTransferEntry.objects.filter(registration=registration).count() == 1

    retention_run(as_of=AS_OF)

    assert not Registration.objects.filter(pk=registration.pk).exists()
    assert not HotelTransferEntry.objects.exists()
    assert HotelTransfer.objects.count() == 1  # the transfer itself names no one


@pytest.mark.req("R31")
def test_persons_without_any_remaining_record_are_removed() -> None:
    # Identity records (e-mail, membership) do not keep a person.
    member("bare.medlem@example.no", since=date(2001, 1, 1))
    kept_by_course = register(course_ending(at(date(2029, 6, 1), 15)), "aktiv@example.no")
    held = person("holdt@example.no")
    hold_place(scope=HoldScope.PERSON, person=held, reason="Rettstvist", actor=ACTOR)

    forecast = retention_forecast(as_of=AS_OF)
    assert forecast.orphan_persons == 1
    report = retention_run(as_of=AS_OF)

    assert report.persons_removed == 1
    assert not EmailIdentity.objects.filter(address="bare.medlem@example.no").exists()
    assert not Membership.objects.exists()
    assert Person.objects.filter(pk=kept_by_course.person_id).exists()
    assert Person.objects.filter(pk=held.pk).exists()


@pytest.mark.req("R31")
def test_sweep_rechecks_each_batch_so_what_arrives_meanwhile_keeps_a_person() -> None:
    # The sweep finds its candidates once, then works in batches. A hold placed, or a
    # record created, after the candidates were found must still keep the person.
    from personvern.newsletter.services import newsletter_subscribe

    for i in range(6):
        person(f"kandidat{i}@example.no")
    late_hold = Person.objects.get(emails__address="kandidat1@example.no")
    late_record = Person.objects.get(emails__address="kandidat4@example.no")
    seen: list[int | None] = []

    def progress(step: str, done: int, total: int | None) -> None:
        if step == "persons" and done == 0:
            seen.append(total)
            hold_place(scope=HoldScope.PERSON, person=late_hold, reason="Tvist", actor=ACTOR)
            newsletter_subscribe(person=late_record, source="form", text_version="v1",
                                 actor=ACTOR)

    report = retention_run(as_of=AS_OF, batch_size=2, progress=progress)

    assert seen == [6]  # both were candidates when the sweep began
    assert report.persons_removed == 4
    assert report.person_batches == 3
    assert Person.objects.filter(pk=late_hold.pk).exists()
    assert Person.objects.filter(pk=late_record.pk).exists()


@pytest.mark.req("R31")
def test_audit_records_counts_without_personal_data() -> None:
    registrations = _three_due_registrations()
    people = list(Person.objects.filter(registrations__in=registrations))
    id_before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    retention_run(as_of=AS_OF, batch_size=2)

    entries = list(AuditEntry.objects.filter(id__gt=id_before))
    batches = [e for e in entries if e.action == "retention.batch"]
    sweeps = [e for e in entries if e.action == "retention.persons"]
    assert [e.data["count"] for e in batches] == [2, 1]
    assert {e.data["rule"] for e in batches} == {"other-participants"}
    assert {e.data["holder"] for e in batches} == {"courses.Registration"}
    assert {e.activity for e in batches} == {"course-participation"}
    assert sum(e.data["count"] for e in sweeps) == 3
    # Exactly these keys: counts and names of rules and models, nothing that points at a person.
    for entry in batches:
        assert set(entry.data) == {
            "rule", "holder", "action", "count", "cascaded", "admin_log_entries", "as_of"
        }
    for entry in sweeps:
        assert set(entry.data) == {
            "count", "cascaded", "audit_payloads_cleared", "admin_log_entries", "as_of"
        }
    ours = batches + sweeps
    assert all(e.subject == "" and e.personal is None for e in ours)
    text = json.dumps([e.data for e in ours])
    for p in people:
        for value in (p.given_name, p.family_name, str(p.public_id), pseudonym(p)):
            assert value not in text
    assert "@example.no" not in text
    seal_pending()
    assert verify_chain().problem is None


@pytest.mark.req("R31")
def test_query_count_does_not_grow_with_the_rows_due() -> None:
    def run_with(n: int) -> int:
        course = course_ending(at(date(2020, 6, 1), 15))
        for i in range(n):
            register(course, f"n{n}-{i}@example.no")
        with CaptureQueriesContext(connection) as queries:
            report = retention_run(as_of=AS_OF, batch_size=1000)
        assert report.rows == n and report.persons_removed == n
        return len(queries)

    assert run_with(3) == run_with(30)


@pytest.mark.req("R31")
def test_anonymising_rule_overwrites_fields_once_and_keeps_the_row() -> None:
    from personvern.courses.evaluations import evaluation_submit
    from personvern.courses.models import Evaluation

    registration = register(course_ending(at(date(2020, 6, 1), 15)), "vurdering@example.no")
    evaluation = evaluation_submit(course=registration.course, person=registration.person,
                                   rating=4, comment="Flott kurs, Kari", actor=ACTOR,
                                   now=at(date(2020, 6, 2), 10))

    first = retention_run(as_of=at(date(2021, 6, 3)))  # a year after 2 June, from the day after
    evaluation.refresh_from_db()
    assert (evaluation.person_id, evaluation.comment, evaluation.rating) == (None, "", 4)
    assert sum(line.count for line in first.lines if line.holder == "courses.Evaluation") == 1
    assert Registration.objects.filter(pk=registration.pk).exists()  # its own 5-year clock

    second = retention_run(as_of=at(date(2021, 6, 3)))
    assert second.rows == 0
    assert Evaluation.objects.filter(pk=evaluation.pk).exists()


@pytest.mark.req("R14")
def test_only_targets_reading_changed_tables_get_another_pass() -> None:
    from personvern.retention.engine import _split_targets, depends_on

    targets = {t.key: t for t, _ in _split_targets(AS_OF)[0]}
    prefix = "course-participation/"
    member = depends_on(targets[prefix + "advokatforeningen-member/courses.Registration"], AS_OF)
    other = depends_on(targets[prefix + "other-participants/courses.Registration"], AS_OF)
    hotel = depends_on(targets[prefix + "other-participants/courses.HotelTransferEntry"], AS_OF)
    # A registration's anchors are its own columns (the course end, the stored end of the
    # customer relationship): deleting other registrations moves neither. Protection
    # (holds, restrictions) never depends on what a run deletes, so it does not count.
    assert "courses_registration" not in member | other
    assert "core_membership" in member and "core_membership" in other
    assert not {"core_hold", "core_restriction"} & (member | other)
    # A hotel entry reads its registration, which the run deletes.
    assert "courses_registration" in hotel

    _three_due_registrations()
    # A hotel hand-over not yet due, so the hotel entries' table has a row to walk.
    register_overnight(hotel_course_ending(at(date(2029, 6, 1), 15)), "hotell@example.no")
    started: list[str] = []

    def progress(step: str, done: int, total: int | None) -> None:
        if done == 0:
            started.append(step)

    report = retention_run(as_of=AS_OF, progress=progress)
    assert report.passes == 2
    assert started.count(prefix + "other-participants/courses.Registration") == 1
    assert started.count(prefix + "other-participants/courses.HotelTransferEntry") == 2
    # A table without rows has nothing due, in any pass: it is not walked at all.
    assert started.count(prefix + "other-participants/courses.CleReportEntry") == 0
    assert retention_run(as_of=AS_OF).rows == 0


@pytest.mark.req("R31")
def test_lifted_row_holds_go_once_their_row_is_gone_and_no_sooner() -> None:
    from personvern.core.models import Hold
    from personvern.core.services import hold_lift

    course = course_ending(at(date(2020, 6, 1), 15))
    lifted_gone = register(course, "a@example.no")
    lifted_kept_row = register(course_ending(at(date(2029, 6, 1), 15)), "b@example.no")
    in_force = register(course, "c@example.no")
    stale = hold_place(scope=HoldScope.ROW, row=lifted_gone, reason="Klage fra Kari",
                       actor=ACTOR)
    history = hold_place(scope=HoldScope.ROW, row=lifted_kept_row, reason="Sjekk faktura",
                         actor=ACTOR)
    keeping = hold_place(scope=HoldScope.ROW, row=in_force, reason="Rettstvist", actor=ACTOR)
    hold_lift(hold=stale, actor=ACTOR)
    hold_lift(hold=history, actor=ACTOR)

    # The dry run foresees it: the run deletes the row, then forgets the hold.
    assert retention_run(as_of=AS_OF, dry_run=True).stale_holds == 1
    assert Hold.objects.filter(pk=stale.pk).exists()
    report = retention_run(as_of=AS_OF)

    assert not Registration.objects.filter(pk=lifted_gone.pk).exists()
    assert report.stale_holds == 1
    assert set(Hold.objects.values_list("pk", flat=True)) == {history.pk, keeping.pk}
    assert not Hold.objects.filter(reason__contains="Kari").exists()
    entry = AuditEntry.objects.get(action="retention.stale_holds")
    assert entry.data["count"] == 1 and "Kari" not in json.dumps(entry.data)
    assert retention_run(as_of=AS_OF).stale_holds == 0
