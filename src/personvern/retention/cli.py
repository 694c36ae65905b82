"""``personvern retention forecast|run``: the retention engine from the command line.

Cron or a systemd timer calls ``personvern retention run`` (daily is plenty:
due dates are calendar days). ``--as-of`` moves the clock for forecasts and
tests; a bare date means 00:00 that day in Europe/Oslo (ADR 0005).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from personvern.retention.clock import parse_as_of
from personvern.retention.engine import Forecast, RunReport, retention_forecast, retention_run


def _as_of(text: str | None) -> datetime:
    return parse_as_of(text) if text else timezone.now()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``retention forecast`` and ``retention run``."""
    parser = subparsers.add_parser("retention", help="retention forecast and runs")
    sub = parser.add_subparsers(dest="retention_command", metavar="ACTION")
    sub.required = True

    forecast = sub.add_parser("forecast", help="what retention removes now and soon")
    forecast.add_argument(
        "--as-of", help="date (YYYY-MM-DD, 00:00 Europe/Oslo) or ISO datetime; default now"
    )
    forecast.add_argument("--format", choices=["table", "json"], default="table")
    forecast.set_defaults(func=forecast_command)

    run = sub.add_parser("run", help="delete or anonymise what is due")
    run.add_argument(
        "--as-of", help="date (YYYY-MM-DD, 00:00 Europe/Oslo) or ISO datetime; default now"
    )
    run.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    run.add_argument("--batch-size", type=int, default=None, help="rows per transaction")
    run.add_argument("--format", choices=["table", "json"], default="table")
    run.set_defaults(func=run_command)


def _refusals(console: Console, report: Forecast | RunReport) -> int:
    for refusal in report.refused:
        for problem in refusal.problems:
            console.print(
                f"[red]refused[/red] {refusal.activity}/{refusal.rule} on {refusal.holder}: "
                f"{problem}"
            )
    return 1 if report.refused else 0


def _cascaded_totals(per_line: Iterable[dict[str, int]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for cascaded in per_line:
        for label, n in cascaded.items():
            totals[label] = totals.get(label, 0) + n
    return sorted(totals.items())


def forecast_command(args: argparse.Namespace) -> int:
    """Print the forecast as a table or JSON; exit 1 if a target is refused."""
    try:
        as_of = _as_of(args.as_of)
    except ValueError as exc:
        print(f"personvern retention forecast: {exc}", file=sys.stderr)
        return 2
    forecast = retention_forecast(as_of=as_of)
    if args.format == "json":
        print(json.dumps(forecast.as_dict(), indent=2, ensure_ascii=False))
        return 1 if forecast.refused else 0
    # Piped output (cron mail, logs) gets full rows instead of an 80-column squeeze.
    console = Console(width=None if sys.stdout.isatty() else 200)
    table = Table(title=f"Retention forecast as of {as_of.isoformat()}")
    for column in ("activity", "rule", "holder", "keep", "after", "action", "due now", "with them"):
        table.add_column(column, justify="right" if column in {"due now", "with them"} else "left")
    for days in forecast.lines[0].due_within if forecast.lines else ():
        table.add_column(f"≤{days} d", justify="right")
    table.add_column("held", justify="right")
    table.add_column("held because")
    for line in forecast.lines:
        table.add_row(
            line.activity,
            line.rule,
            line.holder,
            line.keep,
            line.after + (f" ({line.cohort})" if line.cohort else ""),
            line.action,
            str(line.due_now),
            str(sum(line.cascaded.values())),
            *(str(n) for n in line.due_within.values()),
            str(line.held),
            "; ".join(f"{reason}: {n}" for reason, n in line.held_reasons.items()),
        )
    console.print(table)
    cascaded = ", ".join(
        f"{label} {n}" for label, n in _cascaded_totals(line.cascaded for line in forecast.lines)
    )
    console.print(
        f"Due now: {forecast.due_now} rows"
        + (f", and with them {forecast.cascaded_now} rows that belong to them ({cascaded})"
           if forecast.cascaded_now else "")
        + f"; persons left without any record: {forecast.orphan_persons}; "
        f"persons kept with only their objection to direct marketing: "
        f"{forecast.persons_minimised}."
    )
    console.print(
        "The forecast rehearses the run (nothing changes): a run now removes exactly this. "
        "Windows are cumulative (due within 90 days includes those due now)."
    )
    return _refusals(console, forecast)


def run_command(args: argparse.Namespace) -> int:
    """Run retention with a progress bar; exit 1 if a target was refused."""
    try:
        as_of = _as_of(args.as_of)
    except ValueError as exc:
        print(f"personvern retention run: {exc}", file=sys.stderr)
        return 2
    if args.batch_size is not None and args.batch_size < 1:
        print("personvern retention run: --batch-size must be at least 1", file=sys.stderr)
        return 2
    console = Console(
        stderr=args.format == "json", width=None if sys.stdout.isatty() else 200
    )
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=args.format == "json",
        disable=args.dry_run,
    ) as bar:

        def progress(step: str, done: int, total: int | None) -> None:
            if step not in tasks:
                if not total:
                    return  # nothing to do for this step: keep the display short
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=max(total or 0, done))

        report = retention_run(
            as_of=as_of, dry_run=args.dry_run, batch_size=args.batch_size, progress=progress
        )
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return 1 if report.refused else 0
    verb = "would remove" if report.dry_run else "removed"
    title = f"Retention run as of {as_of.isoformat()}"
    table = Table(title=title + (" (dry run)" if args.dry_run else ""))
    numbers = ("rows", "with them", "batches")
    for column in ("activity", "rule", "holder", "action", *numbers):
        table.add_column(column, justify="right" if column in numbers else "left")
    for line in report.lines:
        if line.count or line.batches:
            table.add_row(line.activity, line.rule, line.holder, line.action,
                          str(line.count), str(sum(line.cascaded.values())), str(line.batches))
    console.print(table)
    console.print(
        f"Rows {verb}: {report.rows}"
        + (f", and with them {report.cascaded_rows} rows that belong to them"
           if report.cascaded_rows else "")
        + f"; persons {verb}: {report.persons_removed}; "
        f"persons kept with only their objection to direct marketing: "
        f"{report.persons_minimised}; lifted holds on deleted rows "
        f"{'to forget' if report.dry_run else 'forgotten'}: {report.stale_holds}."
    )
    return _refusals(console, report)
