"""The stored end of each participant's customer relationship (R14, ADR 0009).

Retention counts the 5-year rule for non-members from the end of the person's
last course. The course services store that date on every registration of the
person; these tests pin down that it is always the end of their latest course.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Max, OuterRef, Subquery

from personvern.core.models import AuditEntry, Person
from personvern.core.services import person_create
from personvern.courses import demo, services
from personvern.courses.models import Registration

from .factories import ACTOR, make_course, register
from .test_cli import run

OSLO = ZoneInfo("Europe/Oslo")


def _stored(email: str) -> set[datetime | None]:
    return set(
        Registration.objects.filter(person__emails__address=email)
        .values_list("relationship_ends_at", flat=True)
    )


def _mismatches() -> int:
    """Rows whose stored value differs from the end of their person's last course."""
    latest = (
        Registration.objects.filter(person_id=OuterRef("person_id"))
        .order_by().values("person_id").annotate(m=Max("course__ends_at")).values("m")[:1]
    )
    rows = Registration.objects.annotate(expected=Subquery(latest))
    return sum(1 for stored, expected in rows.values_list("relationship_ends_at", "expected")
               if stored != expected)


@pytest.mark.req("R14")
def test_every_registration_of_a_person_carries_the_end_of_their_last_course(db):
    early = make_course(starts_at=datetime(2025, 4, 10, 9, tzinfo=OSLO))
    late = make_course(starts_at=datetime(2025, 9, 1, 9, tzinfo=OSLO))
    other = make_course(starts_at=datetime(2025, 5, 1, 9, tzinfo=OSLO))

    # The later course first, then the earlier one: the value never goes back.
    register(late, email="kari@example.no")
    first = register(early, email="kari@example.no")
    register(other, email="ola@example.no")

    assert first.relationship_ends_at == late.ends_at
    assert _stored("kari@example.no") == {late.ends_at}
    assert _stored("ola@example.no") == {other.ends_at}


@pytest.mark.req("R14")
def test_a_cancelled_registration_still_counts_towards_the_relationship(db):
    course = make_course(starts_at=datetime(2025, 9, 1, 9, tzinfo=OSLO))
    registration = register(course, email="kari@example.no")
    services.registration_cancel(registration=registration, actor=ACTOR,
                                 now=datetime(2025, 3, 2, tzinfo=OSLO))
    assert _stored("kari@example.no") == {course.ends_at}


@pytest.mark.req("R14")
def test_moving_a_course_end_moves_the_relationship_of_its_participants(db):
    first = make_course(starts_at=datetime(2025, 4, 10, 9, tzinfo=OSLO))
    second = make_course(starts_at=datetime(2025, 6, 10, 9, tzinfo=OSLO))
    register(first, email="kari@example.no")
    register(second, email="kari@example.no")
    register(first, email="ola@example.no")

    later = datetime(2025, 12, 1, 16, tzinfo=OSLO)
    services.course_update(course=first, changes={"starts_at": later - timedelta(hours=7),
                                                  "ends_at": later}, actor=ACTOR)
    assert _stored("kari@example.no") == {later}
    assert _stored("ola@example.no") == {later}

    # Moved back before the second course: Kari's relationship ends with that one again.
    earlier = datetime(2025, 5, 1, 16, tzinfo=OSLO)
    services.course_update(course=first, changes={"starts_at": earlier - timedelta(hours=7),
                                                  "ends_at": earlier}, actor=ACTOR)
    assert _stored("kari@example.no") == {second.ends_at}
    assert _stored("ola@example.no") == {earlier}
    assert _mismatches() == 0


@pytest.mark.req("R14")
def test_refresh_repairs_rows_written_around_the_services(db, capsys):
    courses = [make_course(starts_at=datetime(2025, 4 + i, 10, 9, tzinfo=OSLO)) for i in range(3)]
    for n in range(7):
        for course in courses[: 1 + n % 3]:
            register(course, email=f"p{n}@example.no")
    # A bulk import or an old backup: the column is empty or stale.
    Registration.objects.filter(person__emails__address__in=["p0@example.no", "p1@example.no"]
                                ).update(relationship_ends_at=None)
    Registration.objects.filter(person__emails__address="p2@example.no").update(
        relationship_ends_at=datetime(2000, 1, 1, tzinfo=OSLO))
    assert _mismatches() > 0
    before = AuditEntry.objects.count()

    assert run("courses", "refresh-relationships", "--batch-size", "2") == 0

    assert _mismatches() == 0
    assert f"Registrations updated: {Registration.objects.count()}." in capsys.readouterr().out
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry is not None and entry.action == "courses.relationships_refreshed"
    assert entry.data == {"persons": 7, "registrations": Registration.objects.count()}


def test_refresh_refuses_a_batch_size_below_one(db, capsys):
    assert run("courses", "refresh-relationships", "--batch-size", "0") == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err


@pytest.mark.req("R14")
def test_demo_data_carries_the_relationship_end(db):
    for n in range(30):
        person_create(email=f"demo{n}@example.no", actor="test")
    demo.generate(Person.objects.all(), random.Random(3),
                  datetime(2025, 1, 1, 12, tzinfo=OSLO), courses=5, batch_size=7)
    assert Registration.objects.exists()
    assert not Registration.objects.filter(relationship_ends_at__isnull=True).exists()
    assert _mismatches() == 0
