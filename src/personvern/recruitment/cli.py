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
    finn.set_defaults(func=_import_finn)


def _import_finn(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError

    from personvern.recruitment.models import Position
    from personvern.recruitment.services import applications_import_finn

    position = None
    if args.position is not None:
        position = Position.objects.filter(pk=args.position).first()
        if position is None:
            print(f"No position has the id {args.position}.", file=sys.stderr)
            return 2
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}.", file=sys.stderr)
        return 2
    try:
        result = applications_import_finn(
            text=text,
            position=position,
            actor=f"cli:{getpass.getuser()}",
            source_name=str(args.file),
        )
    except ValidationError as exc:
        print("; ".join(exc.messages), file=sys.stderr)
        return 1
    Console().print(
        f"Imported {result.created} applications; {result.skipped} were already imported."
    )
    return 0
