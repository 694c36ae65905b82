"""`personvern webstats report | import-log`: the anonymous visit statistics (R30)."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    webstats = subparsers.add_parser("webstats", help="anonymous visit statistics")
    sub = webstats.add_subparsers(dest="webstats_command", metavar="ACTION")
    sub.required = True

    report = sub.add_parser("report", help="most viewed pages, search terms and devices")
    report.add_argument("--from", dest="start", type=date.fromisoformat,
                        help="first day (YYYY-MM-DD; default 30 days ago)")
    report.add_argument("--to", dest="end", type=date.fromisoformat,
                        help="last day (YYYY-MM-DD; default today)")
    report.add_argument("--limit", type=int, default=20, help="rows per table")
    report.set_defaults(func=_report)

    imp = sub.add_parser(
        "import-log",
        help="count the page views of a web server access log (IP addresses are dropped)",
    )
    imp.add_argument("file", type=Path, help="access log in Common/Combined Log Format")
    # Malformed lines are now reported and left out by default; the old flag still parses.
    imp.add_argument("--skip-malformed", action="store_true", help=argparse.SUPPRESS)
    imp.set_defaults(func=_import_log)


def _report(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from personvern.webstats import selectors

    end = args.end or timezone.localdate()
    start = args.start or end - timedelta(days=30)
    if start > end:
        print(f"--from {start} is after --to {end}.", file=sys.stderr)
        return 2
    console = Console()
    pages = Table("page", "views", title=f"Pages {start} – {end}")
    for row in selectors.pageview_totals(start=start, end=end, limit=args.limit):
        pages.add_row(str(row["path"]), str(row["views"]))
    terms = Table("search term", "searches", title="Site search")
    for row in selectors.search_term_totals(start=start, end=end, limit=args.limit):
        terms.add_row(str(row["search_term"]), str(row["searches"]))
    devices = Table("device", "browser", "views", title="Devices")
    for row in selectors.device_totals(start=start, end=end):
        devices.add_row(str(row["device"]), str(row["browser"]), str(row["views"]))
    for table in (pages, terms, devices):
        console.print(table)
    return 0


def _import_log(args: argparse.Namespace) -> int:
    """Import a log: idempotent, crawlers left out, malformed lines reported by number."""
    from django.core.exceptions import ValidationError

    from personvern.webstats.services import malformed_lines_message, pageviews_import_log

    path: Path = args.file
    if not path.is_file():
        print(f"{path}: no such file.", file=sys.stderr)
        return 2
    with path.open(encoding="utf-8", errors="replace", newline="") as lines:
        try:
            parsed = pageviews_import_log(
                lines=lines, source=path.name, actor=f"cli:{getpass.getuser()}"
            )
        except ValidationError as exc:
            print("; ".join(exc.messages), file=sys.stderr)
            return 1
    if parsed.malformed_total:
        print(malformed_lines_message(parsed, path.name), file=sys.stderr)
    if parsed.incomplete_last_line:
        print(f"{path.name}: the last line has no line end yet; the next import counts it.",
              file=sys.stderr)
    new = parsed.lines - parsed.already_imported
    Console().print(
        f"{path.name}: {parsed.counted} page views counted from {new} new lines "
        f"into {len(parsed.counts)} hourly buckets; "
        f"{parsed.already_imported} lines were imported before; "
        f"{parsed.bots} requests by crawlers left out; "
        f"{parsed.malformed_total} malformed lines not counted."
    )
    return 0
