"""`personvern recruitment import-finn FILE [--position ID]` (R25)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from rich.console import Console


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    recruitment = subparsers.add_parser("recruitment", help="job applications")
    sub = recruitment.add_subparsers(dest="recruitment_command", metavar="ACTION")
    sub.required = True
    finn = sub.add_parser(
        "import-finn", help="import applications from a Finn.no CSV export (all or nothing)"
    )
    finn.add_argument("file", type=Path, help="CSV with finn_id, email, received_at, …")
    finn.add_argument(
        "--position", type=int, default=None, help="id of the position (omit: open applications)"
    )
    finn.add_argument(
        "--as-of",
        help="the clock (YYYY-MM-DD, 00:00 Europe/Oslo, or ISO datetime): no application may "
        "be received after it; default now",
    )
    finn.set_defaults(func=_import_finn)


def _import_finn(args: argparse.Namespace) -> int:
    """Exit 0 imported, 1 the file has problems (each printed; nothing imported), 2 usage."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from personvern.recruitment.finn import applications_import_finn, decode_finn_export
    from personvern.recruitment.models import Position
    from personvern.retention.clock import parse_as_of

    try:
        now = parse_as_of(args.as_of) if args.as_of else timezone.now()
    except ValueError as exc:
        print(f"personvern recruitment import-finn: {exc}", file=sys.stderr)
        return 2
    position = None
    if args.position is not None:
        # An id beyond 64 bits cannot exist (and the database would refuse the query).
        if 0 < args.position < 2**63:
            position = Position.objects.filter(pk=args.position).first()
        if position is None:
            print(f"No position has the id {args.position}.", file=sys.stderr)
            return 2
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}.", file=sys.stderr)
        return 2
    try:
        result = applications_import_finn(
            text=decode_finn_export(data, source_name=str(args.file)),
            position=position,
            actor=f"cli:{getpass.getuser()}",
            source_name=str(args.file),
            now=now,
        )
    except ValidationError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        print("Nothing was imported.", file=sys.stderr)
        return 1
    Console().print(
        f"Imported {result.created} applications; {result.skipped} were already imported."
    )
    return 0
