"""``personvern mailbox sweep``: e-mail retention on the staff mailboxes (R19, R21).

The nightly ``mailbox-sweep`` job does the same; the command is for a first
run, a dry run to see what would go, and tests (``--as-of``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from personvern.core.imap import IMAPError
from personvern.retention.clock import parse_as_of


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mailbox sweep [--as-of DATE] [--dry-run]``."""
    parser = subparsers.add_parser("mailbox", help="e-mail retention on the staff mailboxes")
    sub = parser.add_subparsers(dest="mailbox_command", metavar="ACTION")
    sub.required = True
    sweep = sub.add_parser(
        "sweep",
        help="record new mail, scan it, delete what the policy's e-mail rule makes due",
        description=(
            "Reads the mailboxes in PERSONVERN_MAILBOX_IMAP_URLS (password from "
            "PERSONVERN_MAILBOX_IMAP_PASSWORD). Mail older than the policy's period is "
            "deleted (or moved to PERSONVERN_MAILBOX_MOVE_TO) unless the correspondent is a "
            "current customer or partner, has an open inquiry, or staff keep it. Re-running "
            "is safe."
        ),
    )
    sweep.add_argument(
        "--as-of", help="date (YYYY-MM-DD, 00:00 Europe/Oslo) or ISO datetime; default now"
    )
    sweep.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    sweep.add_argument("--actor", default="", help="who runs the sweep (for the audit log)")
    sweep.set_defaults(func=sweep_command)


def _actor(given: str) -> str:
    if given:
        return given
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def sweep_command(args: argparse.Namespace) -> int:
    from personvern.mailbox.sweep import SweepError, mailbox_sweep

    as_of = parse_as_of(args.as_of) if args.as_of else timezone.now()
    console = Console(width=max(120, Console().width))
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:

        def step(mailbox: str, done: int, total: int) -> None:
            if mailbox not in tasks:
                tasks[mailbox] = progress.add_task(mailbox, total=total)
            progress.update(tasks[mailbox], completed=done, total=total)

        try:
            report = mailbox_sweep(actor=_actor(args.actor), now=as_of, dry_run=args.dry_run,
                                   progress=step)
        except (SweepError, IMAPError) as exc:
            print(f"personvern mailbox sweep: {exc}", file=sys.stderr)
            return 2
    title = f"Mailbox sweep as of {as_of:%Y-%m-%d %H:%M}, mail received before {report.cutoff}"
    if report.move_to:
        title += f" moved to {report.move_to!r}"
    table = Table(title=title + (" (dry run: nothing changed)" if report.dry_run else ""))
    columns = {
        "mailbox": "Mailbox",
        "new": "New",
        "recorded": "Recorded",
        "unknown": "Unknown sender",
        "infected": "Malware",
        "unscanned": "Not scanned",
        "kept_by_ground": "Kept: customer/sales",
        "kept_by_hold": "Kept: hold",
        "deleted": "Would delete" if report.dry_run else "Deleted",
        "gone": "Gone from server",
    }
    for title_ in columns.values():
        table.add_column(title_, justify="left" if title_ == "Mailbox" else "right")
    for mailbox in report.mailboxes:
        table.add_row(*(str(getattr(mailbox, name)) for name in columns))
    console.print(table)
    return 1 if report.total("infected") or report.total("unscanned") else 0
