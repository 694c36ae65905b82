"""The stored relationship end under concurrent writers (PostgreSQL, real threads; ADR 0009).

A hook pauses one writer where its registration's audit entry is made (after
the insert, before the person's lock); the other writer then runs and commits
in between. Without the
ordering (audit entry, then person lock, then recomputation) these tests saw a
stale end date on one row, and a deadlock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, connections

from personvern.courses import services
from personvern.courses.models import Course, Registration
from tests.retention.factories import ACTOR, at, course_ending, person

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no two writers interleave")


def _register(course: Course, email: str, now: Any) -> Registration:
    return services.registration_create(course=course, email=email, given_name="Kari",
                                        family_name="Nordmann", actor=ACTOR, now=now)


def _in_thread(name: str, work: Callable[[], Any], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def _pause_before_audit(monkeypatch: pytest.MonkeyPatch, thread_name: str, action: str
                        ) -> tuple[threading.Event, threading.Event]:
    """Pause ``thread_name`` where the registration's audit entry is made: after its
    row is inserted, before the person's lock and the recomputation (the entry is
    built there with ``new_entry`` and inserted with the others at the end, ADR 0031)."""
    real = services.new_entry
    paused, resume = threading.Event(), threading.Event()

    def new_entry(**kwargs: Any) -> Any:
        if threading.current_thread().name == thread_name and kwargs.get("action") == action:
            paused.set()
            resume.wait(20)
        return real(**kwargs)

    monkeypatch.setattr(services, "new_entry", new_entry)
    return paused, resume


@pytest.mark.req("R14")
def test_one_person_registering_for_two_courses_at_once(monkeypatch) -> None:
    late = course_ending(at(date(2031, 6, 1), 15))
    early = course_ending(at(date(2030, 6, 1), 15))
    person("kari@example.no")
    now = at(date(2030, 1, 1))
    paused, resume = _pause_before_audit(monkeypatch, "first", "registration.created")
    errors: list[BaseException] = []

    first = _in_thread("first", lambda: _register(late, "kari@example.no", now), errors)
    assert paused.wait(20)
    second = _in_thread("second", lambda: _register(early, "kari@example.no", now), errors)
    second.join(2)  # waits for the first's locks, or finishes: either is fine
    resume.set()
    first.join(20)
    second.join(20)

    assert errors == []
    ends = set(Registration.objects.values_list("relationship_ends_at", flat=True))
    assert ends == {late.ends_at}


@pytest.mark.req("R14")
def test_a_course_moved_while_a_participant_registers_for_another(monkeypatch) -> None:
    a = course_ending(at(date(2029, 6, 1), 15))
    b = course_ending(at(date(2030, 6, 1), 15))
    _register(a, "ola@example.no", at(date(2029, 1, 1)))
    moved = at(date(2033, 6, 1), 15)
    paused, resume = _pause_before_audit(monkeypatch, "registering", "registration.created")
    errors: list[BaseException] = []

    registering = _in_thread(
        "registering", lambda: _register(b, "ola@example.no", at(date(2029, 1, 2))), errors
    )
    assert paused.wait(20)
    moving = _in_thread("moving", lambda: services.course_update(
        course=a, changes={"starts_at": moved - timedelta(hours=7), "ends_at": moved},
        actor=ACTOR,
    ), errors)
    moving.join(2)
    resume.set()
    registering.join(20)
    moving.join(20)

    assert errors == []  # no deadlock
    ends = set(Registration.objects.values_list("relationship_ends_at", flat=True))
    assert ends == {moved}
