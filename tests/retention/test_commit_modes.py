"""How retention batches commit on each database (ADR 0010)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection, transaction

from personvern.retention.engine import retention_run
from personvern.retention.traces import batch_commit_mode

from .factories import at, course_ending, register


def _pragma(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return int(cursor.fetchone()[0])


@pytest.mark.req("R31")
@pytest.mark.django_db(transaction=True)
def test_postgresql_batches_commit_without_waiting_for_the_disk_and_nothing_else_does():
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's; SQLite's WAL commit never waits")

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    server_default = setting()
    with transaction.atomic():
        batch_commit_mode()
        assert setting() == "off"
    assert setting() == server_default  # SET LOCAL: only that transaction


@pytest.mark.req("R31")
@pytest.mark.django_db(transaction=True)
def test_sqlite_defers_checkpoints_during_a_run_and_restores_the_setting(settings):
    if connection.vendor != "sqlite":
        pytest.skip("wal_autocheckpoint is SQLite's")
    settings.PERSONVERN_SQLITE_RETENTION_WAL_PAGES = 12345
    register(course_ending(at(date(2020, 6, 1), 15)), "wal@example.no")
    before = _pragma("wal_autocheckpoint")
    during: list[int] = []

    def progress(step: str, done: int, total: int | None) -> None:
        during.append(_pragma("wal_autocheckpoint"))

    report = retention_run(as_of=at(date(2030, 1, 1)), progress=progress)

    assert report.rows == 1 and report.persons_removed == 1
    assert during and set(during) == {12345}
    assert _pragma("wal_autocheckpoint") == before

    settings.PERSONVERN_SQLITE_RETENTION_WAL_PAGES = 0  # 0: SQLite's own setting throughout
    during.clear()
    retention_run(as_of=at(date(2030, 1, 1)), progress=progress)
    assert during and set(during) == {before}
