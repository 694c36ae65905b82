"""Benchmark: the access report of one person on a big database (issue #3, part 4).

    python bench/access.py --persons 1000000 --samples 1000 \
        [--database-url postgres://postgres@127.0.0.1:5432/bench_access]

Generates (once; reused when the database already holds enough persons)
persons with e-mail identities, memberships, consents, course registrations and
audit entries, then times, for ``--samples`` random persons:

- ``report``: ``personvern.rights.engine.access_report(person)`` (one query per
  holder, SQL compiled once, rows read from the cursor, JSON-safe values, policy
  texts);
- ``raw``: the same rows selected with raw SQL (the SQL the engine's querysets
  compile to, run with ``cursor.execute`` and ``fetchall``), in the same run;
- ``raw_named``: the same, in the form the report sends its statements (on SQLite
  with named parameters, which Django's SQLite cursor substitutes by string
  formatting where it rewrites ``%s`` with a regular expression; on PostgreSQL
  the same statements as ``raw``): the stricter baseline.

Writes p50/p99 of each to ``bench/results/access-<vendor>-<persons>.json``.
The database defaults to ``var/bench/access.sqlite3``; never point it at a
database with real data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH = 5_000


def _setup(database_url: str) -> None:
    os.environ["PERSONVERN_DATABASE_URL"] = database_url
    os.environ.setdefault("PERSONVERN_DATA_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personvern.settings")
    # DEBUG would wrap every cursor to log queries, slowing both sides alike.
    os.environ.setdefault("PERSONVERN_DEBUG", "false")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)


def _generate(persons: int, seed: int) -> None:
    """Add persons until there are ``persons``; set-based, in batches."""
    from django.db import transaction

    from personvern.core.audit import entry_key, new_entry, seal_pending
    from personvern.core.models import (
        AuditEntry,
        ConsentEvent,
        EmailIdentity,
        Membership,
        Person,
    )
    from personvern.courses.models import Course, Registration
    from personvern.courses.services import refresh_relationship_ends

    rng = random.Random(seed)
    have = Person.objects.count()
    if have >= persons:
        print(f"reusing {have} persons", file=sys.stderr)
        return
    courses = list(Course.objects.values_list("pk", flat=True))
    if len(courses) < 200:
        start = datetime(2020, 1, 6, 9, 0, tzinfo=UTC)
        Course.objects.bulk_create(
            [
                Course(
                    title=f"Benchkurs {i}",
                    slug=f"benchkurs-{i}",
                    kind="digital",
                    starts_at=start + timedelta(days=7 * i),
                    ends_at=start + timedelta(days=7 * i, hours=6),
                    capacity=100_000,
                    legal_hours=6,
                )
                for i in range(len(courses), 200)
            ]
        )
        courses = list(Course.objects.values_list("pk", flat=True))
    key = entry_key()
    created = datetime(2024, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    for offset in range(have, persons, BATCH):
        n = min(BATCH, persons - offset)
        with transaction.atomic():
            people = Person.objects.bulk_create(
                [
                    Person(
                        given_name=f"Given{offset + i}",
                        family_name=f"Family{offset + i}",
                        phone=f"+47 9{offset + i:07d}",
                        created_at=created,
                    )
                    for i in range(n)
                ]
            )
            EmailIdentity.objects.bulk_create(
                [
                    EmailIdentity(
                        person=p, address=f"p{offset + i}@bench.example", created_at=created
                    )
                    for i, p in enumerate(people)
                ]
            )
            Membership.objects.bulk_create(
                [
                    Membership(
                        person=p,
                        organisation="advokatforeningen",
                        valid_from=datetime(2015, 1, 1).date(),
                    )
                    for p in people
                    if rng.random() < 0.3
                ]
            )
            ConsentEvent.objects.bulk_create(
                [
                    ConsentEvent(
                        person=p,
                        scope="newsletter",
                        action="given",
                        channel="web",
                        text_version="bench",
                        at=created,
                    )
                    for p in people
                    if rng.random() < 0.5
                ]
            )
            Registration.objects.bulk_create(
                [
                    Registration(
                        course_id=c,
                        person=p,
                        status="confirmed",
                        registered_at=created,
                        employer="Bench AS",
                    )
                    for p in people
                    for c in rng.sample(courses, rng.randint(1, 5))
                ]
            )
            refresh_relationship_ends(Registration.objects.filter(person__in=people))
            AuditEntry.objects.bulk_create(
                [
                    new_entry(actor="bench", action=action, person=p, now=created, key=key)
                    for p in people
                    for action in ("person.created", "registration.created")
                ]
            )
        done = offset + n
        if done % 50_000 < BATCH:
            rate = (done - have) / (time.perf_counter() - t0)
            print(f"{done} persons ({rate:.0f}/s)", file=sys.stderr)
    # The worker's sealer, as in production (its anchor: DATA_DIR/audit-anchor).
    t0 = time.perf_counter()
    sealed = seal_pending()
    rate = sealed / max(time.perf_counter() - t0, 1e-9)
    print(f"sealed {sealed} audit entries ({rate:.0f}/s)", file=sys.stderr)


def _raw_statements(person_id: int) -> list[tuple[str, list[Any]]]:
    """The SQL of each holder's query for one person, compiled once."""
    from django.db import connection

    from personvern.core.registry import person_holders
    from personvern.rights.engine.rows import relation_paths

    statements = []
    for holder in person_holders():
        qs = holder.for_person(person_id)
        related = relation_paths(holder)
        if related:
            qs = qs.select_related(*related)
        sql, params = qs.order_by("pk").query.get_compiler(connection=connection).as_sql()
        statements.append((sql, list(params)))
    return statements


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _measure(samples: int, seed: int) -> dict[str, Any]:
    from django.db import connection

    from personvern.core.models import Person
    from personvern.core.registry import person_holders
    from personvern.rights.engine import access_report
    from personvern.rights.engine.rows import _bind, _prepare

    rng = random.Random(seed + 1)
    max_pk = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    template = _raw_statements(-1)
    as_sent = [_prepare(holder, connection.alias) for holder in person_holders()]
    report_ms: list[float] = []
    raw_ms: list[float] = []
    named_ms: list[float] = []
    rows_seen: list[int] = []
    access_report(Person.objects.first())  # warm caches (policy, translations)
    picked = 0
    while picked < samples:
        pk = rng.randint(1, max_pk)
        person = Person.objects.filter(pk=pk).first()
        if person is None:
            continue
        picked += 1
        t = time.perf_counter()
        report = access_report(person)
        report_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        count = 0
        with connection.cursor() as cursor:
            for sql, params in template:
                cursor.execute(sql, [pk if p == -1 else p for p in params])
                count += len(cursor.fetchall())
        raw_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        with connection.cursor() as cursor:
            for prepared in as_sent:
                cursor.execute(prepared.sql, _bind(prepared, pk))
                cursor.fetchall()
        named_ms.append((time.perf_counter() - t) * 1000)
        rows_seen.append(count)
        assert count == sum(len(s.rows) for s in report.sections), "raw SQL saw other rows"
    return {
        "report_p50_ms": round(statistics.median(report_ms), 3),
        "report_p99_ms": round(_percentile(report_ms, 99), 3),
        "raw_p50_ms": round(statistics.median(raw_ms), 3),
        "raw_p99_ms": round(_percentile(raw_ms, 99), 3),
        "ratio_p99": round(_percentile(report_ms, 99) / _percentile(raw_ms, 99), 2),
        "ratio_p50": round(statistics.median(report_ms) / statistics.median(raw_ms), 2),
        "raw_named_p50_ms": round(statistics.median(named_ms), 3),
        "raw_named_p99_ms": round(_percentile(named_ms, 99), 3),
        "ratio_named_p99": round(_percentile(report_ms, 99) / _percentile(named_ms, 99), 2),
        "ratio_named_p50": round(statistics.median(report_ms) / statistics.median(named_ms), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rows_per_person_mean": round(statistics.mean(rows_seen), 2),
        "holders": len(template),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument(
        "--database-url",
        default=f"sqlite:///{ROOT / 'var' / 'bench' / 'access.sqlite3'}",
    )
    parser.add_argument("--seed", type=int, default=20250305)
    args = parser.parse_args(argv)
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    _setup(args.database_url)
    from django.db import connection

    from personvern.core.models import AuditEntry, Person

    t = time.perf_counter()
    _generate(args.persons, args.seed)
    generated_s = time.perf_counter() - t
    result = {
        "benchmark": "access_report",
        "vendor": connection.vendor,
        "persons": Person.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
        "samples": args.samples,
        "generate_s": round(generated_s, 1),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **_measure(args.samples, args.seed),
    }
    out = ROOT / "bench" / "results" / f"access-{connection.vendor}-{args.persons}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
