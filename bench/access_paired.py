"""Paired benchmark: the access report of an earlier commit against the current one.

    python bench/access_paired.py --rev f439aa3 --samples 1000 \
        --database-url sqlite:///var/bench/access.sqlite3

Uses a database ``bench/access.py`` generated. Loads ``rights/engine/rows.py`` and
``rights/engine/access.py`` as they were at ``--rev`` beside the current ones, checks
that both give the same report (data.json, the shown rows and report.html) for the
first 200 persons, then times, alternating on the same persons: the old report, the
new report, the raw SQL of ``bench/access.py`` (``raw``) and the statements as the
report sends them (``raw_named``). CPU time per report is the figure to compare on
a shared machine: wall-clock percentiles move with the load of others.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _load_old(rev: str) -> types.ModuleType:
    """The access module of ``rev`` (with that revision's rows module)."""

    def load(name: str, path: str, replace: tuple[tuple[str, str], ...] = ()) -> types.ModuleType:
        source = subprocess.check_output(
            ["git", "-C", str(ROOT), "show", f"{rev}:{path}"], text=True
        )
        for old, new in replace:
            source = source.replace(old, new)
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module
        exec(compile(source, path, "exec"), module.__dict__)
        return module

    load("_old_rows", "src/personvern/rights/engine/rows.py")
    return load(
        "_old_access",
        "src/personvern/rights/engine/access.py",
        (("from personvern.rights.engine.rows import", "from _old_rows import"),),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", required=True, help="the commit to compare with")
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.access import _percentile, _raw_statements, _setup

    _setup(args.database_url)
    from django.db import connection
    from django.utils import timezone

    from personvern.core.models import Person
    from personvern.core.registry import person_holders
    from personvern.rights.engine import access_report, access_report_html
    from personvern.rights.engine.rows import _bind, _prepare

    old = _load_old(args.rev)
    rng = random.Random(args.seed)
    max_pk = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    people: list[Any] = []
    while len(people) < args.samples:
        person = Person.objects.filter(pk=rng.randint(1, max_pk)).first()
        if person is not None:
            people.append(person)
    template = _raw_statements(-1)
    as_sent = [_prepare(holder, connection.alias) for holder in person_holders()]

    def raw(person: Any) -> None:
        with connection.cursor() as cursor:
            for sql, params in template:
                cursor.execute(sql, [person.pk if p == -1 else p for p in params])
                cursor.fetchall()

    def raw_named(person: Any) -> None:
        with connection.cursor() as cursor:
            for prepared in as_sent:
                cursor.execute(prepared.sql, _bind(prepared, person.pk))
                cursor.fetchall()

    now = timezone.now()
    for person in people[:200]:
        a, b = old.access_report(person, now=now), access_report(person, now=now)
        assert a.as_json() == b.as_json(), person.pk
        assert [s.display_rows for s in a.sections] == [s.display_rows for s in b.sections]
        assert old.access_report_html(a) == access_report_html(b), person.pk
    runs: dict[str, Callable[[Any], Any]] = {
        "old": old.access_report,
        "new": access_report,
        "raw": raw,
        "raw_named": raw_named,
    }
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for name in runs:  # warm each once
        runs[name](people[0])
    for i, person in enumerate(people):
        order = list(runs) if i % 2 == 0 else list(reversed(runs))
        for name in order:
            c, t = time.process_time(), time.perf_counter()
            runs[name](person)
            wall[name].append((time.perf_counter() - t) * 1000)
            cpu[name].append((time.process_time() - c) * 1000)
    result: dict[str, Any] = {
        "vendor": connection.vendor,
        "persons": Person.objects.count(),
        "samples": args.samples,
        "old_rev": args.rev,
        "identical_output_checked": min(200, len(people)),
    }
    for name in runs:
        result[name] = {
            "cpu_mean_ms": round(statistics.mean(cpu[name]), 3),
            "wall_p50_ms": round(statistics.median(wall[name]), 3),
            "wall_p99_ms": round(_percentile(wall[name], 99), 3),
        }

    def ratio(a: str, b: str) -> float:
        return round(statistics.mean(cpu[a]) / statistics.mean(cpu[b]), 2)

    result["cpu_new_over_old"] = ratio("new", "old")
    result["cpu_old_over_raw"] = ratio("old", "raw")
    result["cpu_new_over_raw"] = ratio("new", "raw")
    result["cpu_new_over_raw_named"] = ratio("new", "raw_named")
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
