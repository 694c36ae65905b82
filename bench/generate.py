"""Build a large, migrated Personvern database fast, for the retention benchmark.

    python bench/generate.py --persons 100000 --database-url sqlite:////abs/path.sqlite3

The database must exist and be migrated (``bench/retention.py`` does both).
Rows go in with raw SQL in bulk: ``executemany`` on SQLite, ``COPY`` on
PostgreSQL (psycopg 3). Nothing here goes through the services: this is
synthetic load, not test data, and no audit entries are written.

Shape, for N persons (seeded, so two runs give the same data):

- N persons, each with one e-mail identity;
- 30 % members of Advokatforeningen (since 2000, still members), 10 % of
  Juristforbundet;
- about N/250 courses (at least 40) ending between 2012 and 2029, 16:00 Oslo;
- three registrations per person. 14 % are *lapsed* customers whose courses all
  ended before mid-2024; the others took a course in 2027-2029.

At the benchmark's as-of date (``AS_OF``, 2031-01-01) the lapsed non-members'
registrations are due (5 years after their last course) and those persons are
removed: about a tenth of all persons. Members' registrations for courses
that ended by 2021-01-01 are due as well (10 years), their persons stay.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
AS_OF = date(2031, 1, 1)
LAPSED_SHARE = 0.14
MEMBER_SHARE = 0.30
JURIST_SHARE = 0.10
FIRST_YEAR, LAST_YEAR = 2012, 2029
LAPSED_BEFORE = datetime(2024, 6, 1, tzinfo=OSLO)
RECENT_FROM = datetime(2027, 1, 1, tzinfo=OSLO)
CHUNK = 50_000

Row = tuple[Any, ...]


def _setup(database_url: str) -> None:
    os.environ["PERSONVERN_DATABASE_URL"] = database_url
    os.environ.setdefault("PERSONVERN_DEBUG", "false")  # DEBUG keeps every query in memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personvern.settings")
    import django

    django.setup()


class Writer:
    """Bulk insertion with each database's fast path."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor

    def value(self, value: Any) -> Any:
        """A Python value in the form the database's bulk path takes."""
        if isinstance(value, datetime):
            text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            return text if self.vendor == "sqlite" else text + "+00"
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return value.hex if self.vendor == "sqlite" else str(value)
        if isinstance(value, bool):
            if self.vendor == "sqlite":
                return int(value)
            return "t" if value else "f"
        return value

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        count = 0
        batch: list[Row] = []
        for row in rows:
            batch.append(tuple(self.value(v) for v in row))
            if len(batch) >= CHUNK:
                count += self._flush(table, columns, batch)
                batch = []
        if batch:
            count += self._flush(table, columns, batch)
        return count

    def _flush(self, table: str, columns: Sequence[str], rows: list[Row]) -> int:
        cols = ", ".join(columns)
        if self.vendor == "sqlite":
            marks = ", ".join("?" for _ in columns)
            raw = self.connection.connection
            raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608
        else:
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(r"\N" if v is None else str(v) for v in row) + "\n")
            raw = self.connection.connection
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        return len(rows)


def _course_rows(count: int) -> list[tuple[int, datetime]]:
    """(id, end) of ``count`` courses spread evenly over FIRST_YEAR..LAST_YEAR."""
    first = datetime(FIRST_YEAR, 1, 10, 16, 0, tzinfo=OSLO)
    last = datetime(LAST_YEAR, 12, 10, 16, 0, tzinfo=OSLO)
    step = (last - first) / max(count - 1, 1)
    rows = []
    for i in range(count):
        day = (first + step * i).astimezone(OSLO).date()
        rows.append((i + 1, datetime(day.year, day.month, day.day, 16, 0, tzinfo=OSLO)))
    return rows


def generate(persons: int, seed: int = 2031) -> dict[str, int]:
    """Fill the (empty, migrated) database; returns rows per table."""
    from django.db import connection, transaction

    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    writer = Writer()
    courses = _course_rows(max(40, persons // 250))
    lapsed_courses = [c for c in courses if c[1] < LAPSED_BEFORE]
    older_courses = [c for c in courses if c[1] < RECENT_FROM]
    recent_courses = [c for c in courses if c[1] >= RECENT_FROM]
    created = datetime(2011, 1, 1, 12, tzinfo=UTC)
    counts: dict[str, int] = {}

    with transaction.atomic():
        counts["courses_course"] = writer.insert(
            "courses_course",
            ["id", "title", "slug", "kind", "starts_at", "ends_at", "capacity", "venue_id",
             "legal_hours", "ethics_hours", "hotel_stay_offered", "registration_open",
             "created_at"],
            (
                (cid, f"Kurs {cid}", f"bench-{cid}", "digital", end - timedelta(hours=7), end,
                 1_000_000, None, "6", "1", False, False, created)
                for cid, end in courses
            ),
        )
        counts["core_person"] = writer.insert(
            "core_person",
            ["id", "public_id", "given_name", "family_name", "phone", "created_at"],
            (
                (pid, uuid.UUID(int=rng.getrandbits(128), version=4), f"Given{pid}",
                 f"Family{pid}", "", created)
                for pid in range(1, persons + 1)
            ),
        )
        counts["core_emailidentity"] = writer.insert(
            "core_emailidentity",
            ["id", "person_id", "address", "verified_at", "created_at"],
            ((pid, pid, f"p{pid}@bench.example", created, created)
             for pid in range(1, persons + 1)),
        )

        memberships: list[Row] = []
        registrations: list[Row] = []
        for pid in range(1, persons + 1):
            draw = rng.random()
            if draw < MEMBER_SHARE:
                memberships.append((
                    len(memberships) + 1, pid, "advokatforeningen", f"A{pid}",
                    date(2000, 1, 1), None,
                ))
            elif draw < MEMBER_SHARE + JURIST_SHARE:
                memberships.append((
                    len(memberships) + 1, pid, "juristforbundet", f"J{pid}", date(2000, 1, 1), None
                ))
            if rng.random() < LAPSED_SHARE:
                chosen = rng.sample(lapsed_courses, 3)
            else:
                chosen = rng.sample(older_courses, 2) + [rng.choice(recent_courses)]
            # What the course services store: the end of the person's last course.
            relationship_end = max(end for _, end in chosen)
            for cid, end in chosen:
                starts = end - timedelta(hours=7)
                registrations.append(
                    (len(registrations) + 1, cid, pid, "confirmed", starts - timedelta(days=10),
                     "Firma AS", "", "", False, None, None, True, None, relationship_end)
                )
        counts["core_membership"] = writer.insert(
            "core_membership",
            ["id", "person_id", "organisation", "member_id", "valid_from", "valid_to"],
            memberships,
        )
        # Registrations in id order are course-random, as in real life.
        counts["courses_registration"] = writer.insert(
            "courses_registration",
            ["id", "course_id", "person_id", "status", "registered_at", "employer",
             "invoice_reference", "dietary_needs", "overnight_stay", "arrival_date",
             "departure_date", "attended", "cancelled_at", "relationship_ends_at"],
            registrations,
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in counts:
                cursor.execute(  # identity columns must continue after the bulk ids
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table}))"
                )
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=2031)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    _setup(args.database_url)
    started = time.perf_counter()
    counts = generate(args.persons, args.seed)
    elapsed = time.perf_counter() - started
    print(" ".join(f"{t}={n}" for t, n in counts.items()), f"in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
