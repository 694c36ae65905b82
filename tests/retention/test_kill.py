"""A retention run killed with SIGKILL leaves a consistent database; the next run finishes (R31).

The run is a real ``python -m personvern retention run`` process against the
test database, killed once it has committed some batches.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from personvern.core.audit import seal_pending, verify_chain
from personvern.core.models import AuditEntry, Person
from personvern.courses.models import Registration
from personvern.retention.engine import retention_run
from tests.processes import database_url

from .factories import at, course_ending, register

DUE = 200
NOT_DUE = 4
AS_OF = "2030-01-01"


def _start_run(batch_size: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        PERSONVERN_ENV="test",
        PERSONVERN_DATABASE_URL=database_url(),
        PERSONVERN_DATA_DIR=str(settings.DATA_DIR),
        PERSONVERN_SECRET_KEY=settings.SECRET_KEY,
        PERSONVERN_AUDIT_KEY=settings.PERSONVERN_AUDIT_KEY,
    )
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "personvern", "retention", "run", "--as-of", AS_OF,
         "--batch-size", str(batch_size)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )


def _audited(action: str) -> tuple[int, int]:
    """(entries, sum of their counts) of one retention audit action."""
    counts = [e.data["count"] for e in AuditEntry.objects.filter(action=action)]
    return len(counts), sum(counts)


def _kill_after(batches: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120  # start-up of Django in a busy CI; never a timing assertion
    while time.monotonic() < deadline:
        done = _audited("retention.batch")[0] + _audited("retention.persons")[0]
        if done >= batches:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended before it could be killed:\n{log.read_text()}")
        time.sleep(0.005)
    process.kill()
    pytest.fail(f"the run committed no batch in time:\n{log.read_text()}")


def _orphans(table: str, column: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} t LEFT JOIN core_person p ON p.id = t.{column} "  # noqa: S608
            "WHERE p.id IS NULL"
        )
        (n,) = cursor.fetchone()
    return int(n)


def _assert_consistent(initial_registrations: int, initial_persons: int) -> None:
    # Every committed batch is audited, and nothing is deleted unaudited.
    _, rows_audited = _audited("retention.batch")
    _, persons_audited = _audited("retention.persons")
    assert Registration.objects.count() == initial_registrations - rows_audited
    assert Person.objects.count() == initial_persons - persons_audited
    for table in ("core_emailidentity", "courses_registration", "core_membership"):
        assert _orphans(table, "person_id") == 0, table
    seal_pending()
    assert verify_chain().problem is None


@pytest.mark.req("R31")
@pytest.mark.django_db(transaction=True)
def test_killed_run_leaves_consistent_state_and_next_run_completes(tmp_path: Path) -> None:
    due_course = course_ending(at(date(2020, 6, 1), 15))
    fresh_course = course_ending(at(date(2029, 6, 1), 15))
    for i in range(DUE):
        register(due_course, f"gammel{i}@example.no")
    kept: set[Any] = {register(fresh_course, f"ny{i}@example.no").pk for i in range(NOT_DUE)}
    kept_persons = set(Registration.objects.filter(pk__in=kept).values_list("person_id", flat=True))
    initial = (Registration.objects.count(), Person.objects.count())

    # Killed twice: once among the registration batches, once further on.
    for kill_after in (2, 8):
        log = tmp_path / f"run-{kill_after}.log"
        _kill_after(kill_after, _start_run(batch_size=5, log=log), log)
        _assert_consistent(*initial)
    assert Registration.objects.count() > len(kept)  # work was left for the next run

    log = tmp_path / "final.log"
    final = _start_run(batch_size=5, log=log)
    assert final.wait(timeout=300) == 0, log.read_text()

    _assert_consistent(*initial)
    assert set(Registration.objects.values_list("pk", flat=True)) == kept
    assert set(Person.objects.values_list("pk", flat=True)) == kept_persons
    assert _audited("retention.batch")[1] == DUE
    assert _audited("retention.persons")[1] == DUE
    again = retention_run(as_of=at(date(2030, 1, 1)))
    assert again.rows == 0 and again.persons_removed == 0
