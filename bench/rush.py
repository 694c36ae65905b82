"""Registration rush: the public course form under load, served by `personvern serve`.

    python bench/rush.py [--registrations 1000] [--seats 100] [--in-flight 50] \
        [--workers 1,2,4] [--database-url postgres://postgres@127.0.0.1:5432/postgres] \
        [--db-prefix rush]

On a PostgreSQL database of its own (``<prefix>_db``, created afresh and
migrated), for each number of gunicorn workers:

1. creates a digital course with ``--seats`` seats;
2. starts ``personvern serve --workers N`` (DEBUG off, the registration rate
   limit raised out of the way: every post comes from 127.0.0.1);
3. lets each of ``--in-flight`` client threads fetch the course page once (its
   CSRF cookie and token; not counted in the figures below), then sends
   ``--registrations`` form posts with distinct e-mail addresses,
   ``--in-flight`` at a time;
4. reports requests per second, p50/p99 latency, the server's CPU time per
   registration (user + system time of the gunicorn arbiter and its workers,
   read from /proc before and after the posts), confirmed and wait-listed
   registrations, and oversold seats (confirmed beyond capacity: must be 0).

The same load is then sent, with the same number of workers, to the floor
(``bench/rush_floor.py``): a bare WSGI app under the same gunicorn that does
only the seat claim in raw SQL. Figures go to ``bench/results/rush-<N>.json``
and the table in docs/performance.md. The machine is shared and noisy: compare
the ratio to the floor in the same run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pg import pg_admin, pg_url

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
MARK_BEGIN = "<!-- bench:rush:begin -->"
MARK_END = "<!-- bench:rush:end -->"
TICKS = os.sysconf("SC_CLK_TCK")
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


# ------------------------------------------------------------------ database


def _server_env(url: str, data_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PERSONVERN_ENV="development",
        PERSONVERN_DEBUG="false",  # DEBUG would keep every query in memory
        PERSONVERN_DATABASE_URL=url,
        PERSONVERN_DATA_DIR=data_dir,
        PERSONVERN_SECRET_KEY="bench-rush-" + "x" * 40,
        PERSONVERN_AUDIT_KEY="bench-rush",
        PERSONVERN_ALLOWED_HOSTS="127.0.0.1",
        # Every post of the bench comes from one address; the limit is tested elsewhere.
        PERSONVERN_RATE_LIMIT_REGISTRATION="1000000/m",
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


def _migrate(url: str, data_dir: str) -> None:
    done = subprocess.run(  # noqa: S603 - our interpreter and package
        [sys.executable, "-m", "personvern", "manage", "migrate", "--noinput", "-v", "0"],
        env=_server_env(url, data_dir), capture_output=True, text=True, check=False,
    )
    if done.returncode:
        raise SystemExit(f"migrate failed:\n{done.stdout}\n{done.stderr}")


def _setup_django(url: str, data_dir: str) -> None:
    os.environ.update(_server_env(url, data_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personvern.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _create_course(slug: str, seats: int) -> int:
    from datetime import timedelta

    from django.utils import timezone

    from personvern.courses.services import course_create

    starts = timezone.now() + timedelta(days=60)
    course = course_create(
        title=f"Rush {slug}", slug=slug, kind="digital", starts_at=starts,
        ends_at=starts + timedelta(hours=6), capacity=seats, legal_hours=6,
        digital_link="https://example.org/stream", actor="bench:rush",
    )
    return int(course.pk)


def _counts(course: int, table: str) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status, count(*) FROM {table} WHERE course_id = %s GROUP BY status",
            [course],
        )
        return dict(cursor.fetchall())


# ------------------------------------------------------------------ server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and its children (gunicorn's arbiter and workers)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cpu(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds of each process."""
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return times


@contextmanager
def _serving(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    process = subprocess.Popen(  # noqa: S603 - our interpreter and package
        command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


# ------------------------------------------------------------------ client


def _request(port: int, method: str, path: str, body: str = "",
             headers: dict[str, str] | None = None) -> tuple[int, bytes, list[str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
        return response.status, data, cookies
    finally:
        conn.close()


def _form_session(port: int, path: str) -> tuple[str, str]:
    """The CSRF cookie and token a visitor gets with the course page."""
    status, page, cookies = _request(port, "GET", path)
    if status != 200:
        raise SystemExit(f"GET {path}: {status}")
    match = TOKEN.search(page)
    cookie = next((c.split(";", 1)[0] for c in cookies if c.startswith("csrftoken=")), "")
    return cookie, match.group(1).decode() if match else ""


def _load(port: int, path: str, label: str, registrations: int, in_flight: int,
          sessions: list[tuple[str, str]]) -> dict[str, Any]:
    """Send the posts (each client with its form session); return wall time,
    latencies and answers."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(registrations))
    start = threading.Barrier(in_flight + 1)

    def client(cookie: str, token: str) -> None:
        start.wait()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            body = urlencode({
                "csrfmiddlewaretoken": token, "given_name": "Ola", "family_name": f"Rush{i}",
                "email": f"rush-{label}-{i}@example.org", "employer": "Bench AS",
            })
            t = time.perf_counter()
            status, _data, _c = _request(port, "POST", path, body, {
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                "Referer": f"http://127.0.0.1:{port}{path}",
            })
            elapsed = time.perf_counter() - t
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=s) for s in sessions]
    for thread in threads:
        thread.start()
    client_cpu = resource.getrusage(resource.RUSAGE_SELF)
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    ordered = sorted(latencies)
    return {
        "wall_s": round(wall, 3),
        "req_per_s": round(registrations / wall, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "client_cpu_s": round(after.ru_utime + after.ru_stime
                              - client_cpu.ru_utime - client_cpu.ru_stime, 2),
    }


def _measured(pid: int, run: Any) -> dict[str, Any]:
    before = _cpu(_tree(pid))
    result: dict[str, Any] = run()
    after = _cpu(_tree(pid))
    result["server_cpu_s"] = round(
        sum(t - before.get(p, 0.0) for p, t in after.items()), 3
    )
    return result


# ------------------------------------------------------------------ driver


def bench_workers(workers: int, args: argparse.Namespace, url: str, data_dir: str,
                  logs: Path) -> dict[str, Any]:
    from django.db import connection

    slug = f"rush-{workers}w-{int(time.time())}"
    course = _create_course(slug, args.seats)
    env = _server_env(url, data_dir)
    path = f"/courses/{slug}/"

    port = _free_port()
    serve = [sys.executable, "-m", "personvern", "serve", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers)]
    with _serving(serve, env, port, logs / f"serve-{workers}.log") as pid:
        # The visitors' page views come before the measured posts: the CPU counted
        # is that of the registrations alone (the floor has no page to show).
        sessions = [_form_session(port, path) for _ in range(args.in_flight)]
        system = _measured(pid, lambda: _load(port, path, f"s{workers}", args.registrations,
                                              args.in_flight, sessions))
    counts = _counts(course, "courses_registration")
    system.update(confirmed=counts.get("confirmed", 0), waitlisted=counts.get("waitlisted", 0))

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS rush_floor (id bigserial PRIMARY KEY, "
                       "course_id bigint NOT NULL, email text NOT NULL, status text NOT NULL)")
        cursor.execute("CREATE INDEX IF NOT EXISTS rush_floor_course ON rush_floor "
                       "(course_id, status)")
    port = _free_port()
    floor_env = dict(env, RUSH_FLOOR_DATABASE_URL=url, RUSH_FLOOR_COURSE=str(course),
                     PYTHONPATH=f"{ROOT / 'bench'}{os.pathsep}{env['PYTHONPATH']}")
    floor_cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(workers), "--preload", "rush_floor:app"]
    with _serving(floor_cmd, floor_env, port, logs / f"floor-{workers}.log") as pid:
        # The floor has no form page: "/" answers a GET with no token, and takes the posts.
        sessions = [_form_session(port, "/") for _ in range(args.in_flight)]
        floor = _measured(pid, lambda: _load(port, "/", f"f{workers}", args.registrations,
                                             args.in_flight, sessions))
    counts = _counts(course, "rush_floor")
    floor.update(confirmed=counts.get("confirmed", 0), waitlisted=counts.get("waitlisted", 0))

    for side in (system, floor):
        side["cpu_ms_per_registration"] = round(
            side["server_cpu_s"] * 1000 / args.registrations, 2)
        side["oversold"] = max(0, side["confirmed"] - args.seats)
    return {
        "workers": workers, "system": system, "floor": floor,
        "cpu_ratio": round(system["cpu_ms_per_registration"]
                           / max(floor["cpu_ms_per_registration"], 0.001), 1),
    }


def _check(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    problems = []
    for name in ("system", "floor"):
        side = result[name]
        if side["oversold"]:
            problems.append(f"{result['workers']} workers, {name}: {side['oversold']} oversold")
        if side["confirmed"] + side["waitlisted"] != args.registrations:
            problems.append(
                f"{result['workers']} workers, {name}: {side['confirmed']} confirmed + "
                f"{side['waitlisted']} wait-listed of {args.registrations} posts "
                f"(answers {side['statuses']})"
            )
        if side["confirmed"] != min(args.seats, args.registrations):
            problems.append(f"{result['workers']} workers, {name}: {side['confirmed']} "
                            f"confirmed for {args.seats} seats")
    return problems


def _write(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "registrations": args.registrations, "seats": args.seats,
            "in_flight": args.in_flight, "python": sys.version.split()[0]}
    path = RESULTS / f"rush-{args.registrations}.json"
    path.write_text(json.dumps({**meta, "runs": results}, indent=2) + "\n", encoding="utf-8")
    rows = [
        "| workers | req/s | p50 | p99 | server CPU / registration | confirmed | wait-listed "
        "| oversold | floor req/s | floor CPU / registration | CPU ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s, f = r["system"], r["floor"]
        rows.append(
            f"| {r['workers']} | {s['req_per_s']} | {s['p50_ms']} ms | {s['p99_ms']} ms "
            f"| {s['cpu_ms_per_registration']} ms | {s['confirmed']} | {s['waitlisted']} "
            f"| {s['oversold']} | {f['req_per_s']} | {f['cpu_ms_per_registration']} ms "
            f"| {r['cpu_ratio']}× |"
        )
    table = (f"{args.registrations:,} posts, {args.in_flight} in flight, {args.seats} seats, "
             f"PostgreSQL, {meta['cpus']} cores, {meta['at']} (`{path.relative_to(ROOT)}`):\n\n"
             + "\n".join(rows) + "\n")
    doc = DOC.read_text(encoding="utf-8")
    if MARK_BEGIN in doc and MARK_END in doc:
        head, rest = doc.split(MARK_BEGIN, 1)
        tail = rest.split(MARK_END, 1)[1]
        DOC.write_text(f"{head}{MARK_BEGIN}\n{table}{MARK_END}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated (default 1,2,4)")
    parser.add_argument("--db-prefix", default="rush",
                        help="the database is NAME_db (dropped and created afresh)")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: 60 posts, 10 in flight, 10 seats, 1 worker; writes nothing")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.registrations, args.in_flight, args.seats, args.workers = 60, 10, 10, "1"
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", args.db_prefix):
        raise SystemExit(f"--db-prefix {args.db_prefix!r}: letters, digits and _ only")
    name = f"{args.db_prefix}_db"
    url = pg_url(name)
    pg_admin(f"DROP DATABASE IF EXISTS {name}")
    pg_admin(f"CREATE DATABASE {name}")
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="rush-") as tmp:
            _migrate(url, tmp)
            _setup_django(url, tmp)
            for workers in (int(w) for w in args.workers.split(",")):
                result = bench_workers(workers, args, url, tmp, Path(tmp))
                s, f = result["system"], result["floor"]
                print(f"{workers} workers: {s['req_per_s']} req/s, p50 {s['p50_ms']} ms, "
                      f"p99 {s['p99_ms']} ms, {s['cpu_ms_per_registration']} ms CPU/registration, "
                      f"{s['confirmed']} confirmed, {s['waitlisted']} wait-listed, "
                      f"{s['oversold']} oversold | floor {f['req_per_s']} req/s, "
                      f"{f['cpu_ms_per_registration']} ms CPU | CPU ratio {result['cpu_ratio']}×",
                      flush=True)
                results.append(result)
                problems = _check(result, args)
                if problems:
                    raise SystemExit("\n".join(problems))
    finally:
        from django.db import connections

        connections.close_all()
        pg_admin(f"DROP DATABASE IF EXISTS {name}")
    if not (args.smoke or args.no_write):
        _write(results, args)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
