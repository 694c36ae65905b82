"""What arrives for a person while the sweep is deleting them (PostgreSQL, real threads).

SQLite lets one writer at a time, so there the other writer simply waits for
the batch; on PostgreSQL the two transactions really overlap. Each test lets a
second connection commit between the batch's re-check and its delete.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection, connections

from personvern.core.models import Hold, HoldScope, Person
from personvern.core.services import hold_place
from personvern.courses.models import Registration
from personvern.retention import engine, persons

from .factories import ACTOR, at, course_ending, person, register

pytestmark = pytest.mark.django_db(transaction=True)
AS_OF = at(date(2030, 1, 1))


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the other write waits for the batch")


def _meanwhile(monkeypatch: pytest.MonkeyPatch, write: Callable[[], Any]) -> list[BaseException]:
    """Run ``write`` in another connection, committed, just before the first batch deletes."""
    real = persons._delete_persons
    errors: list[BaseException] = []
    done = threading.Event()

    def first_batch_deletes(rows: list[Any], **kwargs: Any) -> int:
        if not done.is_set():
            done.set()

            def other() -> None:
                try:
                    write()
                except BaseException as exc:  # noqa: BLE001 - reported to the test
                    errors.append(exc)
                finally:
                    connections.close_all()

            thread = threading.Thread(target=other)
            thread.start()
            thread.join(20)
            assert not thread.is_alive(), "the other write did not finish"
        return real(rows, **kwargs)

    monkeypatch.setattr(persons, "_delete_persons", first_batch_deletes)
    return errors


@pytest.mark.req("R31")
def test_a_hold_placed_while_the_batch_runs_keeps_the_person(monkeypatch) -> None:
    for i in range(4):
        person(f"h{i}@example.no")
    target = Person.objects.get(emails__address="h1@example.no")
    errors = _meanwhile(monkeypatch, lambda: hold_place(
        scope=HoldScope.PERSON, person=Person.objects.get(pk=target.pk), reason="Tvist",
        actor=ACTOR,
    ))

    report = engine.retention_run(as_of=AS_OF, batch_size=10)

    assert errors == []
    assert Person.objects.filter(pk=target.pk).exists()
    assert Hold.objects.filter(person_id=target.pk, reason="Tvist").exists()
    assert report.persons_removed == 3


@pytest.mark.req("R31")
def test_a_registration_made_while_the_batch_runs_keeps_the_person(monkeypatch) -> None:
    future = course_ending(at(date(2031, 6, 1), 15))
    for i in range(4):
        person(f"k{i}@example.no")
    errors = _meanwhile(monkeypatch, lambda: register(future, "k1@example.no"))

    report = engine.retention_run(as_of=AS_OF, batch_size=10)

    assert errors == []
    assert Person.objects.filter(emails__address="k1@example.no").exists()
    assert Registration.objects.count() == 1
    assert report.persons_removed == 3
