"""``personvern worker`` and ``personvern jobs list|run``.

``personvern worker`` runs queued tasks (mail, scheduled job runs) and the
schedule until stopped (SIGTERM finishes the current task first); ``--once``
runs what is queued or due and exits, for cron, scripts and tests.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from django.utils import timezone
from rich.console import Console
from rich.table import Table


def _as_of(text: str | None) -> datetime | None:
    from personvern.retention.clock import parse_as_of

    return parse_as_of(text) if text else None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    worker = subparsers.add_parser("worker", help="run queued tasks and scheduled jobs")
    worker.add_argument("--once", action="store_true",
                        help="run what is queued or due, then exit")
    worker.add_argument("--interval", type=float, default=2.0,
                        help="seconds between looks at the queue when idle (default 2)")
    worker.add_argument("--worker-id", help="unique name of this worker (default host:pid:random)")
    worker.add_argument("--as-of", help="date or ISO datetime the schedule runs for (tests)")
    worker.set_defaults(func=worker_command)

    jobs = subparsers.add_parser("jobs", help="the periodic jobs: list them, run one now")
    sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", help="each job's schedule, last run, outcome and next run")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(func=jobs_list_command)
    run = sub.add_parser("run", help="run one job now (recorded like a scheduled run)")
    run.add_argument("name")
    run.add_argument("--as-of", help="date or ISO datetime the job runs for")
    run.set_defaults(func=jobs_run_command)


def worker_command(args: argparse.Namespace) -> int:
    from personvern.worker.runner import Worker

    try:
        as_of = _as_of(args.as_of)
    except ValueError as exc:
        print(f"personvern worker: {exc}", file=sys.stderr)
        return 2
    if args.interval <= 0:
        print("personvern worker: --interval must be positive", file=sys.stderr)
        return 2
    worker = Worker(interval=args.interval, worker_id=args.worker_id, as_of=as_of)
    worker.install_signal_handlers()
    if not args.once:
        print(f"Worker {worker.worker_id} started; stop it with Ctrl+C or SIGTERM.",
              file=sys.stderr, flush=True)
    totals = worker.start(once=args.once)
    if args.once:
        print(f"scheduled {totals['scheduled']} job run(s), ran {totals['tasks']} task(s), "
              f"sent or tried {totals['mail']} message(s), "
              f"took over {totals['requeued']} from stopped workers")
    return 0


def _fmt(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "–"


def jobs_list_command(args: argparse.Namespace) -> int:
    from personvern.worker.runner import job_statuses

    statuses = job_statuses()
    if args.format == "json":
        print(json.dumps([
            {
                "name": s.job.name,
                "schedule": str(s.job.schedule),
                "health": s.health,
                "last_run": s.last.started_at.isoformat() if s.last and s.last.started_at
                else None,
                "outcome": s.last.state if s.last else None,
                "counts": s.last.counts if s.last else None,
                "next_run": s.next_run.isoformat() if s.next_run else None,
            }
            for s in statuses
        ], indent=2, ensure_ascii=False))
        return 0
    console = Console(width=None if sys.stdout.isatty() else 200)
    table = Table(title="Periodic jobs")
    for column in ("name", "schedule", "last run", "outcome", "next run", "health"):
        table.add_column(column)
    for s in statuses:
        outcome = "–"
        if s.last:
            counts = ", ".join(f"{k} {v}" for k, v in s.last.counts.items())
            outcome = s.last.state + (f" ({counts})" if counts else "")
        table.add_row(
            s.job.name, str(s.job.schedule),
            _fmt(s.last.started_at or s.last.slot) if s.last else "–",
            outcome, _fmt(s.next_run), s.health,
        )
    console.print(table)
    return 1 if any(s.health in ("failed", "late") for s in statuses) else 0


def jobs_run_command(args: argparse.Namespace) -> int:
    from personvern.cli import counting_progress
    from personvern.worker import registry
    from personvern.worker.models import JobRunState
    from personvern.worker.runner import run_now

    try:
        registry.get(args.name)
        as_of = _as_of(args.as_of)
    except (KeyError, ValueError) as exc:
        print(f"personvern jobs run: {exc.args[0]}", file=sys.stderr)
        return 2
    console = Console(stderr=True)
    with counting_progress(args.name, console) as progress:
        run = run_now(args.name, now=as_of, progress=progress)
    counts = ", ".join(f"{k} {v}" for k, v in run.counts.items()) or "nothing to report"
    if run.state == JobRunState.SUCCEEDED:
        print(f"{args.name}: succeeded ({counts})")
        return 0
    print(f"{args.name}: failed ({run.error}); the worker's log has the details",
          file=sys.stderr)
    return 1
