"""Retention benchmark: the engine against hand-written SQL on identical databases.

    python bench/retention.py --persons 100000 --engines sqlite,postgres --repeat 3
    python bench/retention.py --smoke          # CI: 2,000 persons, SQLite, one round

For each engine and size it builds (once, cached under bench/data/, which git
ignores) a migrated database filled by ``bench/generate.py``, then per round
makes two identical copies (SQLite: copy the file; PostgreSQL: ``CREATE
DATABASE … TEMPLATE``), runs ``retention_run`` on one and the equivalent raw
``DELETE`` statements on the other, each in a fresh subprocess, and checks that
both leave the same row count in every table (the audit log aside: only the
engine writes one). It reports the median wall time of each side, their ratio
and each process's peak resident memory (``ru_maxrss``), writes JSON and
markdown under bench/results/ and the table into docs/performance.md.

The raw side is what a DBA would write for this policy on this data: one
statement per rule, then the orphaned persons with their identity rows, in one
transaction, without batches, audit or protection checks (there are no holds
in the generated data, so the protected set is empty on both sides).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pg import pg_admin, pg_exists, pg_url

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
AS_OF = "2031-01-01"
MARK_BEGIN = "<!-- bench:retention:begin -->"
MARK_END = "<!-- bench:retention:end -->"


# ------------------------------------------------------------------ databases


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PERSONVERN_DATABASE_URL=database_url,
        PERSONVERN_ENV="test",  # DEBUG off: Django would otherwise keep every query
        PERSONVERN_DEBUG="false",
        PERSONVERN_DATA_DIR=str(DATA / "var"),
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


def _run(args: list[str], database_url: str) -> str:
    done = subprocess.run(  # noqa: S603 - our interpreter, our scripts
        [sys.executable, *args], env=_env(database_url), capture_output=True, text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _build(database_url: str, persons: int) -> None:
    _run(["-m", "personvern", "manage", "migrate", "--noinput", "-v", "0"], database_url)
    print(_run([str(ROOT / "bench" / "generate.py"), "--persons", str(persons),
                "--database-url", database_url], database_url).strip())


class Sqlite:
    name = "sqlite"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def base(self, persons: int) -> str:
        path = DATA / f"{self.prefix}-base-{persons}.sqlite3"
        if not path.exists():
            DATA.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            _build(f"sqlite:///{partial}", persons)
            partial.rename(path)
        return str(path)

    def copy(self, base: str, label: str) -> str:
        target = DATA / f"{self.prefix}-run-{label}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(base, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


class Postgres:
    name = "postgresql"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def base(self, persons: int) -> str:
        name = f"{self.prefix}_base_{persons}"
        if not pg_exists(name):
            partial = f"{name}_partial"
            pg_admin(f"DROP DATABASE IF EXISTS {partial}")
            pg_admin(f"CREATE DATABASE {partial}")
            _build(pg_url(partial), persons)
            pg_admin(f"ALTER DATABASE {partial} RENAME TO {name}")
        return name

    def copy(self, base: str, label: str) -> str:
        name = f"{self.prefix}_run_{label}"
        pg_admin(f"DROP DATABASE IF EXISTS {name}")
        pg_admin(f"CREATE DATABASE {name} TEMPLATE {base}")
        return pg_url(name)

    def drop(self, url: str) -> None:
        pg_admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]}")


# -------------------------------------------------------------------- workers


def _setup_django(database_url: str) -> None:
    os.environ.update(_env(database_url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personvern.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _table_counts() -> dict[str, int]:
    from django.apps import apps
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            if table == "core_auditentry" or not model._meta.managed:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            counts[table] = int(cursor.fetchone()[0])
    return dict(sorted(counts.items()))


def _oslo_date(column: str, vendor: str) -> str:
    if vendor == "postgresql":
        return f"(({column}) AT TIME ZONE 'Europe/Oslo')::date"
    # Django registers this function on its SQLite connections (TruncDate uses it).
    return f"django_datetime_cast_date({column}, 'Europe/Oslo', 'UTC')"


def raw_statements(vendor: str, *, optimised: bool = False) -> list[tuple[str, list[Any]]]:
    """The hand-written SQL that removes what the shipped policy makes due in the bench data.

    Course participation (R14), then orphaned persons with the rows that point
    at them (derived from the model metadata, as Django's cascade would).

    ``optimised=False`` writes each condition the way the holders declare it
    (the customer relationship's end is the stored ``relationship_ends_at``),
    so it measures the engine's own overhead. ``optimised=True`` is what a DBA
    would write without that column, computing the end once per person with
    ``GROUP BY`` and a join: the best the data allows without denormalising.
    """
    from django.db import models
    from django.utils import timezone

    from personvern.core.models import Person
    from personvern.core.policy import current_policy
    from personvern.core.registry import holders
    from personvern.retention.clock import oslo_date, oslo_midnight, parse_as_of

    as_of = parse_as_of(AS_OF)
    today = oslo_date(as_of)
    activity = current_policy().activity("course-participation")
    member_rule = activity.rule("advokatforeningen-member")
    other_rule = activity.rule("other-participants")
    # Due when the anchor's Oslo date is strictly before today - keep (ADR 0005).
    member_bound = oslo_midnight(member_rule.keep.subtract_from(today))
    other_bound = oslo_midnight(other_rule.keep.subtract_from(today))
    day = _oslo_date("c.ends_at", vendor)
    member_at_end = (
        "EXISTS (SELECT 1 FROM core_membership m WHERE m.person_id = r.person_id "
        f"AND m.organisation = 'advokatforeningen' AND m.valid_from <= {day} "
        f"AND (m.valid_to IS NULL OR m.valid_to >= {day}))"
    )
    statements: list[tuple[str, list[Any]]] = [
        (
            "DELETE FROM courses_registration WHERE id IN (SELECT r.id FROM "
            "courses_registration r JOIN courses_course c ON c.id = r.course_id "
            f"WHERE c.ends_at < %s AND {member_at_end})",
            [member_bound],
        ),
    ]
    if optimised:
        statements.append(
            (
                "DELETE FROM courses_registration WHERE id IN (SELECT r.id FROM "
                "courses_registration r JOIN courses_course c ON c.id = r.course_id "
                "JOIN (SELECT r2.person_id, MAX(c2.ends_at) AS last_end "
                "FROM courses_registration r2 JOIN courses_course c2 ON c2.id = r2.course_id "
                "GROUP BY r2.person_id) l ON l.person_id = r.person_id "
                f"WHERE l.last_end < %s AND NOT {member_at_end})",
                [other_bound],
            )
        )
    else:
        statements.append(
            (
                "DELETE FROM courses_registration WHERE id IN (SELECT r.id FROM "
                "courses_registration r JOIN courses_course c ON c.id = r.course_id "
                f"WHERE NOT {member_at_end} AND r.relationship_ends_at < %s)",
                [other_bound],
            )
        )
    keep_alive = []
    for holder in holders():
        if holder.activity is None or holder.person is None or "__" in holder.person:
            continue  # indirect holders hang off a direct one (subscription, application…)
        field = holder.model._meta.get_field(holder.person)
        keep_alive.append(
            f"NOT EXISTS (SELECT 1 FROM {holder.model._meta.db_table} h "
            f"WHERE h.{field.column} = p.id)"  # type: ignore[union-attr]
        )
    horizon = min(as_of, timezone.now()) - timedelta(days=1)
    statements.append(("CREATE TEMPORARY TABLE bench_orphan (id bigint PRIMARY KEY)", []))
    statements.append(
        (
            "INSERT INTO bench_orphan SELECT p.id FROM core_person p WHERE p.created_at < %s AND "
            + " AND ".join(keep_alive),
            [horizon],
        )
    )
    for rel in Person._meta.related_objects:
        table = rel.related_model._meta.db_table
        column = rel.field.column
        if rel.on_delete is models.CASCADE:
            statements.append(
                (f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM bench_orphan)", [])
            )
        elif rel.on_delete is models.SET_NULL:
            statements.append(
                (f"UPDATE {table} SET {column} = NULL WHERE {column} IN "
                 "(SELECT id FROM bench_orphan)", [])
            )
    statements.append(("DELETE FROM core_person WHERE id IN (SELECT id FROM bench_orphan)", []))
    statements.append(("DROP TABLE bench_orphan", []))
    return statements


def worker(mode: str, database_url: str, batch_size: int | None) -> dict[str, Any]:
    """Run one side in this (fresh) process; returns time, memory and table counts."""
    _setup_django(database_url)
    from django.db import connection, transaction

    connection.ensure_connection()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    detail: dict[str, Any] = {}
    if mode == "engine":
        from personvern.retention.clock import parse_as_of
        from personvern.retention.engine import retention_run

        report = retention_run(as_of=parse_as_of(AS_OF), batch_size=batch_size)
        detail = {"rows": report.rows, "persons": report.persons_removed,
                  "passes": report.passes, "refused": len(report.refused)}
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, params in raw_statements(connection.vendor, optimised=mode == "raw-opt"):
                cursor.execute(sql, params)
    seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "mode": mode,
        "seconds": seconds,
        "maxrss_kb": rss_after,
        "maxrss_before_kb": rss_before,
        "detail": detail,
        "counts": _table_counts(),
    }


# --------------------------------------------------------------------- driver


def _side(mode: str, url: str, batch_size: int | None) -> dict[str, Any]:
    args = [str(Path(__file__).resolve()), "--worker", mode, "--database-url", url]
    if batch_size:
        args += ["--batch-size", str(batch_size)]
    return json.loads(_run(args, url).strip().splitlines()[-1])


def bench(engine: Sqlite | Postgres, persons: int, repeat: int, batch_size: int | None
          ) -> dict[str, Any]:
    base = engine.base(persons)
    rounds = []
    for i in range(repeat):
        modes = ("engine", "raw", "raw-opt")
        urls = {mode: engine.copy(base, f"{mode.replace('-', '_')}_{persons}") for mode in modes}
        try:
            # Rotate the order so no side always gets the warmest cache.
            order = modes[i % 3:] + modes[: i % 3]
            result = {mode: _side(mode, urls[mode], batch_size) for mode in order}
        finally:
            for url in urls.values():
                engine.drop(url)
        for other in ("raw", "raw-opt"):
            if result["engine"]["counts"] != result[other]["counts"]:
                diff = {t: (n, result[other]["counts"].get(t))
                        for t, n in result["engine"]["counts"].items()
                        if n != result[other]["counts"].get(t)}
                raise SystemExit(f"{engine.name} {persons}: engine and {other} differ: {diff}")
        rounds.append(result)
        print(f"  {engine.name} {persons:>9,} round {i + 1}: engine "
              f"{result['engine']['seconds']:.2f}s raw {result['raw']['seconds']:.2f}s "
              f"raw-opt {result['raw-opt']['seconds']:.2f}s ({result['engine']['detail']})",
              flush=True)
    engine_s = statistics.median(r["engine"]["seconds"] for r in rounds)
    raw_s = statistics.median(r["raw"]["seconds"] for r in rounds)
    opt_s = statistics.median(r["raw-opt"]["seconds"] for r in rounds)
    first = rounds[0]
    return {
        "database": engine.name,
        "persons": persons,
        "rounds": repeat,
        "batch_size": batch_size,
        "engine_seconds": round(engine_s, 3),
        "raw_seconds": round(raw_s, 3),
        "ratio": round(engine_s / raw_s, 2) if raw_s else None,
        "raw_opt_seconds": round(opt_s, 3),
        "ratio_opt": round(engine_s / opt_s, 2) if opt_s else None,
        "engine_maxrss_mb": round(max(r["engine"]["maxrss_kb"] for r in rounds) / 1024, 1),
        "raw_maxrss_mb": round(max(r["raw"]["maxrss_kb"] for r in rounds) / 1024, 1),
        "engine_baseline_rss_mb": round(first["engine"]["maxrss_before_kb"] / 1024, 1),
        "rows_removed": first["engine"]["detail"]["rows"],
        "persons_removed": first["engine"]["detail"]["persons"],
        "registrations_left": first["engine"]["counts"].get("courses_registration"),
        "persons_left": first["engine"]["counts"].get("core_person"),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }


def _markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | persons | rows removed | persons removed | engine (s) | raw SQL, "
        "same shapes (s) | ratio | raw SQL, tuned (s) | ratio | engine peak RSS (MB) "
        "| raw peak RSS (MB) | rounds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(results, key=lambda r: (r["database"], r["persons"])):
        if "ratio_opt" not in r:
            continue  # written by an older version of this script
        lines.append(
            f"| {r['database']} | {r['persons']:,} | {r['rows_removed']:,} "
            f"| {r['persons_removed']:,} | {r['engine_seconds']:.2f} | {r['raw_seconds']:.2f} "
            f"| {r['ratio']:.2f}× | {r['raw_opt_seconds']:.2f} | {r['ratio_opt']:.2f}× "
            f"| {r['engine_maxrss_mb']:.0f} | {r['raw_maxrss_mb']:.0f} | {r['rounds']} |"
        )
    return "\n".join(lines) + "\n"


def _write(result: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"retention-{result['database']}-{result['persons']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    results = [json.loads(p.read_text(encoding="utf-8"))
               for p in sorted(RESULTS.glob("retention-*.json"))]
    table = _markdown(results)
    (RESULTS / "retention.md").write_text("# Retention benchmark\n\n" + table, encoding="utf-8")
    if DOC.exists():
        text = DOC.read_text(encoding="utf-8")
        if MARK_BEGIN in text and MARK_END in text:
            head, rest = text.split(MARK_BEGIN, 1)
            _, tail = rest.split(MARK_END, 1)
            DOC.write_text(f"{head}{MARK_BEGIN}\n{table}{MARK_END}{tail}", encoding="utf-8")


def _prefix(value: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", value):
        raise argparse.ArgumentTypeError(
            f"{value!r}: lower-case letters, digits and _ (not first a digit), at most 40"
        )
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, action="append",
                        help="size (repeatable); default 1,000,000")
    parser.add_argument("--engines", default="sqlite,postgres",
                        help="comma-separated: sqlite, postgres")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--smoke", action="store_true",
                        help="CI: 2,000 persons, SQLite, one round, no files written")
    parser.add_argument("--no-write", action="store_true",
                        help="check and print only; leave bench/results and the docs alone")
    parser.add_argument("--db-prefix", type=_prefix, default="bench", metavar="NAME",
                        help="the databases this run creates are named NAME_base_N and "
                        "NAME_run_… (SQLite: files NAME-… in bench/data), so two runs on one "
                        "server do not collide; a base of the same name and size is reused "
                        "(default: bench)")
    parser.add_argument("--worker", choices=["engine", "raw", "raw-opt"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.database_url, args.batch_size)))
        return 0
    if args.smoke:
        sizes, engines, repeat = [2000], ["sqlite"], 1
        if "--engines" in (argv or sys.argv):
            engines = args.engines.split(",")
    else:
        sizes = args.persons or [1_000_000]
        engines, repeat = args.engines.split(","), args.repeat
    backends = {"sqlite": Sqlite(args.db_prefix), "postgres": Postgres(args.db_prefix)}
    for name in engines:
        for persons in sizes:
            result = bench(backends[name], persons, repeat, args.batch_size)
            print(json.dumps(result))
            if not (args.smoke or args.no_write):
                _write(result)
            elif result["rows_removed"] == 0 or result["persons_removed"] == 0:
                raise SystemExit("smoke: the engine removed nothing; the generator or policy moved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
