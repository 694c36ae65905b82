"""``personvern rights intake``: the command line."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from personvern.rights.intake.imap import IMAPIntakeError, intake_imap
from personvern.rights.intake.registration import intake_path
from personvern.rights.intake.report import DRY_RUN_LABELS, OUTCOME_LABELS, Outcome
from personvern.rights.models import RequestType


def register(rights_subparsers: argparse._SubParsersAction) -> None:
    """Add ``personvern rights intake PATH [--dry-run] [--type TYPE] [--as-of]``."""
    parser = rights_subparsers.add_parser(
        "intake",
        help="register privacy requests from an IMAP mailbox, .eml files or a maildir",
        description=(
            "Messages whose subject carries the privacy marker become requests, received "
            "at their Date header, linked to the sender. Re-running is safe. For an IMAP "
            "mailbox the password comes from PERSONVERN_INTAKE_IMAP_PASSWORD."
        ),
    )
    parser.add_argument(
        "path",
        help="imaps://user@host/mailbox, or an .eml file, a directory of .eml files, a maildir",
    )
    parser.add_argument(
        "--move-to", default="", metavar="FOLDER",
        help="IMAP only: move registered messages to this folder (created if missing)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    parser.add_argument(
        "--type",
        dest="request_type",
        choices=RequestType.values,
        help=(
            "the type of every marked message not yet taken (after staff have read them); "
            "without it, a message naming no right or several becomes an unclassified request"
        ),
    )
    parser.add_argument("--actor", default="", help="who runs the intake (for the audit log)")
    parser.add_argument(
        "--as-of", type=_aware, default=None, help="the current time (ISO 8601), for tests"
    )
    parser.set_defaults(func=_handle)


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _handle(args: argparse.Namespace) -> int:
    import getpass
    import sys

    from rich.console import Console
    from rich.table import Table

    try:
        actor = args.actor or f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        actor = "cli"
    try:
        if args.path.startswith(("imap://", "imaps://")):
            report = intake_imap(
                args.path,
                password=settings.PERSONVERN_INTAKE_IMAP_PASSWORD,
                actor=actor,
                now=args.as_of,
                dry_run=args.dry_run,
                request_type=args.request_type,
                move_to=args.move_to,
            )
        else:
            if args.move_to:
                print("personvern rights intake: --move-to is for IMAP mailboxes; files "
                      "and maildirs are only read.", file=sys.stderr)
                return 2
            report = intake_path(
                Path(args.path),
                actor=actor,
                now=args.as_of,
                dry_run=args.dry_run,
                request_type=args.request_type,
            )
    except (FileNotFoundError, ValidationError, IMAPIntakeError) as exc:
        print(f"personvern rights intake: {exc}", file=sys.stderr)
        return 2
    table = Table(title=f"Intake of {report.path}" + (" (dry run)" if args.dry_run else ""))
    for column in ("File", "Outcome", "Type", "Received", "Request", "Notes"):
        # The request id is what ``personvern rights classify`` takes: never shorten it.
        table.add_column(
            column, no_wrap=column == "Request", min_width=36 if column == "Request" else None
        )
    for item in report.items:
        outcome = (
            DRY_RUN_LABELS[item.outcome]
            if report.dry_run and item.outcome in DRY_RUN_LABELS
            else OUTCOME_LABELS[item.outcome]
        )
        table.add_row(
            item.source,
            str(outcome),
            item.request_type or "",
            item.received_at.isoformat() if item.received_at else "",
            str(item.request_id) if item.request_id else "",
            "\n".join(item.notes),
        )
    console = Console(width=max(140, Console().width))
    console.print(table)
    console.print(
        ", ".join(f"{OUTCOME_LABELS[o]}: {report.count(o)}" for o in Outcome)
    )
    return 1 if report.has_problems else 0
