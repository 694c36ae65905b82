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
    imp.add_argument("--skip-malformed", action="store_true",
                     help="skip lines that are not in the log format instead of failing")
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
    from django.core.exceptions import ValidationError

    from personvern.webstats.services import pageviews_import_log

    path: Path = args.file
    if not path.is_file():
        print(f"{path}: no such file.", file=sys.stderr)
        return 2
    with path.open(encoding="utf-8", errors="replace") as lines:
        try:
            parsed = pageviews_import_log(
                lines=lines,
                source=path.name,
                actor=f"cli:{getpass.getuser()}",
                skip_malformed=args.skip_malformed,
            )
        except ValidationError as exc:
            print("; ".join(exc.messages), file=sys.stderr)
            return 1
    Console().print(
        f"{parsed.counted} page views from {parsed.lines} lines counted "
        f"into {len(parsed.counts)} hourly buckets"
        + (f"; {len(parsed.malformed)} malformed lines skipped." if parsed.malformed else ".")
    )
    return 0
