"""Benchmark: web-log ingest with IP anonymisation against GoAccess (issue 10).

    python bench/weblog.py [--lines 1000000] [--seed 10] [--repeat 3] \
        [--database-url postgres://postgres@127.0.0.1:5432/bench_weblog]

Generates a combined-format access log (about 80 % IPv4 and 20 % IPv6
clients; course pages, site searches, static files, a few browsers and a
crawler; a week of Europe/Oslo time that crosses the change to summer time;
a handful of malformed lines), deterministic for a seed, into a temporary
directory that is removed afterwards (never committed). Then, ``--repeat``
times, in turn on the same file:

- **ours**: ``personvern webstats import-log FILE``, the operators' command,
  as a child process into a database emptied of statistics before each run;
- **GoAccess**: ``goaccess FILE --log-format=COMBINED -o report.json``.

Each is timed as a whole process (wall clock, start-up included) with its peak
resident memory from the kernel's accounting of that child (``wait4``). The
ratio ours/GoAccess in lines per second is taken pair by pair; the figures
are medians of the pairs. The machine is shared, so single runs are noisy:
read the paired ratio.

After every run of ours the stored page view counters are compared, row for
row, with an independent count the bench keeps while it generates the lines
(from what it chose to write, not by parsing them): any difference fails the
bench. So do counts of lines read, crawler requests and malformed lines that
differ from the importer's own summary.

GoAccess is the Debian package ``goaccess`` (``apt-get install -y goaccess``).
Without it the bench still imports and checks the counts, says that
GoAccess was not timed, and writes no results file; ``--require-goaccess``
makes that an error.

``--baseline-src DIR`` also times, in the same rounds and with the same check,
the import of another checkout (``git archive COMMIT src | tar -x -C DIR``):
how a change moved the figures.

Results: ``bench/results/weblog-<vendor>-<lines>.json`` (not with ``--smoke``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
OSLO = ZoneInfo("Europe/Oslo")
#: Thursday before the change to summer time (Sunday 30 March 2025, 02:00 → 03:00).
START = datetime(2025, 3, 27, 0, 0, tzinfo=OSLO)
SPAN = timedelta(days=7)
INSTALL_GOACCESS = "apt-get install -y goaccess   (Debian package goaccess)"

# ---------------------------------------------------------------- the log's shape

#: (User-Agent, device class, browser family or None for a crawler, weight)
AGENTS: tuple[tuple[str, str, str | None, int], ...] = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", "desktop", "chrome", 30),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
     "desktop", "firefox", 10),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "desktop", "edge", 12),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "mobile", "safari", 22),
    ("Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "mobile", "samsung", 8),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Safari/605.1.15", "desktop", "safari", 8),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     "bot", None, 10),
)
COURSES = [f"kurs-{topic}-{n}" for topic in ("arverett", "personvern", "avtalerett", "skatt",
                                              "prosess") for n in range(1, 9)]
#: (query string as sent, the term as counted)
SEARCHES: tuple[tuple[str, str], ...] = (
    ("Arverett", "arverett"), ("arverett", "arverett"), ("personvern", "personvern"),
    ("GDPR+innsyn", "gdpr innsyn"), ("%C3%A6rlig+talt", "ærlig talt"),
    ("kurs%20i%20skatt", "kurs i skatt"), ("ring+22+33+44+55", "ring [number]"),
    ("kari%40example.no", "[e-mail]"), ("++Avtalerett+", "avtalerett"),
    ("prosess&side=2", "prosess"), ("", ""),
)
STATIC = ("/static/site/site.css", "/static/site/site.js", "/static/img/logo.svg",
          "/favicon.ico", "/static/fonts/inter.woff2", "/robots.txt")
REFERERS = ('"-"', '"https://www.google.com/"', '"https://kurs.example.no/courses/"')
MALFORMED_EVERY = 199_999  # a handful of broken lines: the import counts the rest


@dataclass
class Truth:
    """What the generator wrote, counted as the statistics should count it."""

    buckets: Counter[tuple[str, int, str, str, str, str]] = field(default_factory=Counter)
    lines: int = 0
    bots: int = 0
    malformed: int = 0
    ipv6: int = 0

    def add(self, at: datetime, path: str, term: str, device: str, browser: str) -> None:
        local = at.astimezone(OSLO)
        self.buckets[(local.date().isoformat(), local.hour, path, term, device, browser)] += 1


def _stamp(at: datetime) -> str:
    """``[27/Mar/2025:00:00:00 +0100]`` as nginx writes it in Europe/Oslo."""
    return at.astimezone(OSLO).strftime("[%d/%b/%Y:%H:%M:%S %z]")


def generate(path: Path, lines: int, seed: int) -> Truth:
    """Write ``lines`` log lines to ``path``; returns the independent count."""
    rng = random.Random(seed)
    truth = Truth()
    v4 = [".".join(str(rng.randrange(1, 255)) for _ in range(4)) for _ in range(20_000)]
    v6 = [f"2001:db8:{rng.randrange(65536):x}:{rng.randrange(65536):x}::{rng.randrange(65536):x}"
          for _ in range(5_000)]
    agents = [a for a in AGENTS for _ in range(a[3])]
    start = START.astimezone(UTC)
    step = SPAN / max(lines, 1)
    stamps: dict[int, str] = {}
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for n in range(1, lines + 1):
            at = start + step * (n - 1)
            second = int(at.timestamp())
            stamp = stamps.get(second)
            if stamp is None:
                stamps.clear()
                stamp = stamps[second] = _stamp(at)
            at = datetime.fromtimestamp(second, UTC)
            if n % MALFORMED_EVERY == 0:
                out.write(f"{rng.choice(v4)} - - [yesterday] \"GET / HTTP/1.1\" 200 12\n")
                truth.malformed += 1
                continue
            if rng.random() < 0.2:
                client = rng.choice(v6)
                truth.ipv6 += 1
            else:
                client = rng.choice(v4)
            agent, device, browser, _ = rng.choice(agents)
            method, status = "GET", 200
            counted: tuple[str, str] | None = None
            kind = rng.random()
            if kind < 0.30:  # static files: never page views
                target = rng.choice(STATIC)
                status = rng.choice((200, 200, 304))
            elif kind < 0.55:
                slug = rng.choice(COURSES)
                target = f"/courses/{slug}/"
                counted = (target, "")
            elif kind < 0.75:
                query, term = rng.choice(SEARCHES)
                target = f"/?q={query}" if query else "/"
                counted = ("/", term)
            elif kind < 0.82:
                target = rng.choice(("/", "/courses/", "/privacy/", "/privacy/cookies/"))
                counted = (target, "")
            elif kind < 0.84:  # a cancel link: its token is masked to the route
                token = "".join(rng.choices(string.ascii_letters + string.digits, k=22))
                target = f"/courses/cancel/{token}/"
                counted = ("/courses/cancel/<str:token>/", "")
            elif kind < 0.88:
                slug = rng.choice(COURSES)
                method, target = "POST", f"/courses/{slug}/register/"
                status = rng.choice((200, 302))
            elif kind < 0.91:
                target = f"/courses/{rng.choice(COURSES)}-gone/"
                status = 404
            elif kind < 0.93:
                method, target = "HEAD", "/"
            else:
                target = rng.choice(("/admin/", "/api/v1/courses/", "/media/x.pdf"))
            if counted is not None and status == 200 and method == "GET":
                if browser is None:
                    truth.bots += 1
                else:
                    truth.add(at, counted[0], counted[1], device, browser)
            size = rng.randrange(200, 60_000)
            out.write(f'{client} - - {stamp} "{method} {target} HTTP/1.1" {status} {size} '
                      f'{rng.choice(REFERERS)} "{agent}"\n')
    truth.lines = lines
    return truth


# ---------------------------------------------------------------- databases


class Database:
    """Where ``personvern webstats import-log`` writes: SQLite in the temp dir or PostgreSQL."""

    def __init__(self, url: str | None, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir
        self.vendor = "postgresql" if url and url.startswith("postgres") else "sqlite"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PERSONVERN_DATA_DIR"] = str(self.workdir / "data")
        env["PERSONVERN_DEBUG"] = "false"
        env.pop("PERSONVERN_DATABASE_URL", None)
        if self.url:
            env["PERSONVERN_DATABASE_URL"] = self.url
        return env

    def prepare(self) -> None:
        if self.vendor == "postgresql":
            import psycopg

            assert self.url is not None
            base, name = self.url.rsplit("/", 1)
            with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
                found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if found.fetchone() is None:
                    admin.execute(f'CREATE DATABASE "{name}"')
        done = subprocess.run(  # noqa: S603 - our own command line
            [*personvern(), "manage", "migrate", "--noinput", "--skip-checks", "-v", "0"],
            env=self.env(), capture_output=True, text=True, check=False,
        )
        if done.returncode:
            raise SystemExit(f"migrate failed:\n{done.stdout}{done.stderr}")

    def _connect(self) -> Any:
        if self.vendor == "postgresql":
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        return sqlite3.connect(self.workdir / "data" / "personvern.sqlite3", isolation_level=None)

    def empty(self) -> None:
        """Forget earlier imports, so the next one counts the whole log again."""
        with _closing(self._connect()) as db:
            db.execute("DELETE FROM webstats_pageview")
            db.execute("DELETE FROM webstats_importedlog")

    def stored(self) -> Counter[tuple[str, int, str, str, str, str]]:
        with _closing(self._connect()) as db:
            rows = db.execute(
                "SELECT day, hour, path, search_term, device, browser, count "
                "FROM webstats_pageview"
            ).fetchall()
        return Counter({(str(r[0]), r[1], r[2], r[3], r[4], r[5]): r[6] for r in rows})


class _closing:
    def __init__(self, db: Any) -> None:
        self.db = db

    def __enter__(self) -> Any:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


def personvern() -> list[str]:
    return [str(Path(sys.executable).with_name("personvern"))]


# ---------------------------------------------------------------- timing


@dataclass
class Run:
    seconds: float
    peak_mib: float
    cpu_seconds: float
    output: str


def timed(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``argv`` to its end; wall time and the child's own peak RSS (``wait4``)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    if child.returncode:
        raise SystemExit(f"{' '.join(argv)} exited with {child.returncode}:\n{output}")
    # ru_maxrss is in KiB on Linux.
    return Run(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, output)


_SUMMARY = re.compile(
    r"(?P<counted>\d+) page views counted from (?P<new>\d+) new lines.*?"
    r"(?P<bots>\d+) requests by crawlers left out; (?P<malformed>\d+) malformed", re.S
)


def check(db: Database, truth: Truth, run: Run) -> dict[str, int]:
    """Fail unless the stored counters are the independent count, row for row."""
    stored = db.stored()
    problems = []
    if stored != truth.buckets:
        missing = truth.buckets - stored
        extra = stored - truth.buckets
        problems.append(f"{len(missing)} buckets short, {len(extra)} too many; e.g. "
                        f"short {list(missing.items())[:3]}, extra {list(extra.items())[:3]}")
    summary = _SUMMARY.search(" ".join(run.output.split()))
    if summary is None:
        problems.append(f"no summary in the import's output:\n{run.output}")
    else:
        said = {k: int(v) for k, v in summary.groupdict().items()}
        expected = {"counted": sum(truth.buckets.values()), "new": truth.lines,
                    "bots": truth.bots, "malformed": truth.malformed}
        if said != expected:
            problems.append(f"the import said {said}, the generator counted {expected}")
    if problems:
        raise SystemExit("stored counts disagree with the independent count: "
                         + "; ".join(problems))
    views = sum(stored.values())
    return {
        "page_views": views,
        "searches": sum(n for k, n in stored.items() if k[3]),
        "buckets": len(stored),
        "hours": len({k[:2] for k in stored}),
        "devices": len({k[4:] for k in stored}),
    }


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def summary(runs: list[Run], lines: int) -> dict[str, Any]:
    return {
        "lines_per_s": round(lines / median([r.seconds for r in runs])),
        "seconds": median([r.seconds for r in runs]),
        "cpu_seconds": median([r.cpu_seconds for r in runs]),
        "peak_mib": median([r.peak_mib for r in runs]),
        "runs_seconds": [round(r.seconds, 3) for r in runs],
        "runs_cpu_seconds": [round(r.cpu_seconds, 3) for r in runs],
        "runs_peak_mib": [round(r.peak_mib, 1) for r in runs],
    }


def paired(other: list[Run], ours: list[Run], suffix: str = "") -> dict[str, Any]:
    """Ours over ``other`` in lines per second (wall) and per CPU second, pair by pair."""
    found = {}
    for name, ratios in (
        ("ratio_lines_per_s", [t.seconds / o.seconds for o, t in zip(ours, other, strict=True)]),
        # Per CPU second (user + system) of each child: less moved by other load.
        ("ratio_lines_per_cpu_s",
         [t.cpu_seconds / o.cpu_seconds for o, t in zip(ours, other, strict=True)]),
    ):
        found[name + suffix] = {
            "median": median(ratios), "min": round(min(ratios), 3),
            "max": round(max(ratios), 3), "pairs": [round(r, 3) for r in ratios],
        }
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="paired runs (default 3)")
    parser.add_argument("--database-url", help="PostgreSQL scratch database (default: SQLite "
                        "in the temporary directory); its statistics tables are emptied")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: check the counts, time GoAccess only if installed, no results")
    parser.add_argument("--require-goaccess", action="store_true")
    parser.add_argument("--baseline-src", type=Path, metavar="DIR",
                        help="also time the import of the checkout DIR (e.g. a git worktree "
                        "of an earlier commit) in the same rounds")
    args = parser.parse_args()

    goaccess = shutil.which("goaccess")
    if goaccess is None and (args.require_goaccess or not args.smoke):
        print(f"GoAccess is not installed; install it with:\n    {INSTALL_GOACCESS}\n"
              "(or run with --smoke to check the import's counts only)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="weblog-bench-") as tmp:
        workdir = Path(tmp)
        log = workdir / "access.log"
        started = time.perf_counter()
        truth = generate(log, args.lines, args.seed)
        print(f"generated {args.lines:,} lines ({log.stat().st_size / 2**20:.0f} MiB, "
              f"{truth.ipv6 / max(args.lines, 1):.0%} IPv6) in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        db = Database(args.database_url, workdir)
        db.prepare()
        ours: list[Run] = []
        theirs: list[Run] = []
        before: list[Run] = []
        counts: dict[str, int] = {}
        for round_ in range(1, args.repeat + 1):
            db.empty()
            run = timed([*personvern(), "webstats", "import-log", str(log)], db.env())
            counts = check(db, truth, run)
            ours.append(run)
            line = f"round {round_}: ours {args.lines / run.seconds:,.0f} lines/s " \
                   f"{run.peak_mib:.0f} MiB"
            if args.baseline_src:
                db.empty()
                env = db.env()
                env["PYTHONPATH"] = str(args.baseline_src.resolve() / "src")
                old = timed([*personvern(), "webstats", "import-log", str(log)], env)
                check(db, truth, old)
                before.append(old)
                line += (f"; baseline {args.lines / old.seconds:,.0f} lines/s "
                         f"{old.peak_mib:.0f} MiB")
            if goaccess:
                report = workdir / "goaccess.json"
                other = timed([goaccess, str(log), "--log-format=COMBINED",
                               "--no-global-config", "-o", str(report)])
                theirs.append(other)
                line += (f"; GoAccess {args.lines / other.seconds:,.0f} lines/s "
                         f"{other.peak_mib:.0f} MiB; ratio {other.seconds / run.seconds:.2f}× "
                         f"(CPU time {other.cpu_seconds / run.cpu_seconds:.2f}×)")
            print(line, file=sys.stderr)
    print(f"counts agree with the independent count: {counts}", file=sys.stderr)
    result: dict[str, Any] = {
        "lines": args.lines,
        "seed": args.seed,
        "database": db.vendor,
        "rounds": args.repeat,
        "machine": f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end",
        "counts": counts,
        "ours": summary(ours, args.lines),
    }
    if before:
        result["baseline"] = {"src": str(args.baseline_src), **summary(before, args.lines)}
        result["ratio_ours_to_baseline"] = paired(before, ours)
    if theirs:
        version = subprocess.run([goaccess or "goaccess", "--version"], capture_output=True,  # noqa: S603
                                 text=True, check=False).stdout.split("\n")[0].strip()
        result["goaccess"] = {"version": version, **summary(theirs, args.lines)}
        result |= paired(theirs, ours, "_to_goaccess")
        ratio = result["ratio_lines_per_s_to_goaccess"]
        print(f"paired ratio (ours/GoAccess lines/s): median {ratio['median']:.2f}× "
              f"(min {ratio['min']:.2f}×, max {ratio['max']:.2f}×); in CPU time "
              f"{result['ratio_lines_per_cpu_s_to_goaccess']['median']:.2f}×", file=sys.stderr)
    else:
        print(f"GoAccess not installed: not timed ({INSTALL_GOACCESS}).", file=sys.stderr)
    print(json.dumps(result, indent=2))
    if not args.smoke and theirs:
        RESULTS.mkdir(parents=True, exist_ok=True)
        target = RESULTS / f"weblog-{db.vendor}-{args.lines}.json"
        result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        target.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {target.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
