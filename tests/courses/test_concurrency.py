"""Capacity holds when registrations and cancellations race (R12, R13).

Real threads run real transactions against the test database (a file on
SQLite, a server on PostgreSQL); a barrier releases them together so they
overlap. Each thread closes its own connection when done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from personvern.core.services import person_create
from personvern.courses import services
from personvern.courses.models import Registration, RegistrationStatus

from .factories import ACTOR, NOW, make_course, register

pytestmark = [pytest.mark.slow]


def race(jobs: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run the jobs in parallel threads released at once; collect results and errors."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            value = job()
            with lock:
                results.append(value)
        except BaseException as exc:  # noqa: BLE001  (reported to the test)
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results, errors


@pytest.mark.req("R12")
@pytest.mark.req("R13")
def test_parallel_registrations_confirm_exactly_the_seats(transactional_db):
    seats, people = 5, 16
    course = make_course(capacity=seats)
    # Known persons: creating one writes an audit entry, whose chain lock would
    # serialise the racers by accident and hide a missing course lock.
    for n in range(people):
        person_create(email=f"racer{n}@example.no", actor=ACTOR)

    def job(n: int) -> Callable[[], Registration]:
        return lambda: services.registration_create(
            course=course, email=f"racer{n}@example.no", given_name="Racer",
            family_name=str(n), actor=ACTOR, now=NOW,
        )

    results, errors = race([job(n) for n in range(people)])

    assert errors == []
    assert len(results) == people
    statuses = list(Registration.objects.filter(course=course).values_list("status", flat=True))
    assert statuses.count(RegistrationStatus.CONFIRMED) == seats
    assert statuses.count(RegistrationStatus.WAITLISTED) == people - seats


@pytest.mark.req("R12")
@pytest.mark.req("R13")
def test_parallel_cancellations_move_up_exactly_one_each(transactional_db):
    seats = 4
    course = make_course(capacity=seats)
    confirmed = [register(course) for _ in range(seats)]
    waiting = [register(course) for _ in range(6)]
    leaving = confirmed[:3]

    # Each leaving registration is cancelled twice at once: one of the pair must fail.
    jobs = [
        (lambda r=r: services.registration_cancel(registration=r, actor=ACTOR, now=NOW))
        for r in leaving for _twice in range(2)
    ]
    results, errors = race(jobs)

    assert len(results) == 3
    assert len(errors) == 3
    assert all(isinstance(e, ValidationError) for e in errors), errors
    promoted = [r.pk for result in results for r in result.promoted]
    assert sorted(promoted) == sorted(r.pk for r in waiting[:3])
    counts = {
        status: Registration.objects.filter(course=course, status=status).count()
        for status in RegistrationStatus.values
    }
    assert counts == {"confirmed": seats, "waitlisted": 3, "cancelled": 3}
