"""``personvern rights …``: register, list, classify, verify, fulfil and export requests.

Thin: every command calls :mod:`personvern.rights.services` or the selectors.
Commands run as the operator (``cli:<login name>``) in the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from personvern.rights.deadlines import LEGAL_TIME_ZONE, days_left, received_date

LANGS = ("nb", "en")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _moment(value: str) -> datetime:
    """``YYYY-MM-DD`` (noon in Oslo) or an ISO datetime (Oslo if no zone given)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(12, 0), tzinfo=LEGAL_TIME_ZONE)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date (YYYY-MM-DD) or ISO date and time"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=LEGAL_TIME_ZONE)


def _day_or_moment(value: str) -> date | datetime:
    """``YYYY-MM-DD`` (a day in Oslo, kept as a date) or an ISO datetime as :func:`_moment`."""
    if len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a date (YYYY-MM-DD) or ISO date and time"
            ) from exc
    return _moment(value)


def _received_at(received: date | datetime | None, now: datetime) -> datetime:
    """When a request was received, from ``--received``.

    A day without a time means that day in Europe/Oslo: noon, or ``now`` when
    the day is today and noon has not come yet (defect 3.10 of issue 7: today
    was refused as "in the future" before 12:00). Only the day counts for the
    deadline.
    """
    if received is None:
        return now
    if isinstance(received, datetime):
        return received
    noon = datetime.combine(received, time(12, 0), tzinfo=LEGAL_TIME_ZONE)
    if noon > now and received == received_date(now):
        return now
    return noon


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``personvern rights`` and its subcommands."""
    from personvern.rights.models import CLASSIFIED_TYPES, Channel, RequestType

    rights = subparsers.add_parser("rights", help="data-subject requests (GDPR Art. 12-21)")
    rights_subparsers = rights.add_subparsers(dest="rights_command", metavar="SUBCOMMAND")
    rights_subparsers.required = True

    create = rights_subparsers.add_parser("request", help="register a request")
    create.add_argument(
        "type", choices=RequestType.values, help="the right asked for, or unclassified"
    )
    create.add_argument("--email", required=True, help="the person's e-mail address")
    create.add_argument(
        "--received",
        type=_day_or_moment,
        default=None,
        help=(
            "when it was received: a day (YYYY-MM-DD, Europe/Oslo; today allowed) or an "
            "ISO datetime; default now"
        ),
    )
    create.add_argument("--channel", choices=Channel.values, default=Channel.STAFF)
    create.add_argument("--notes", default="")
    create.add_argument("--as-of", type=_moment, default=None, help="the current time (tests)")
    create.set_defaults(func=_request)

    listing = rights_subparsers.add_parser("list", help="list requests by legal deadline")
    listing.add_argument("--overdue", action="store_true", help="only overdue open requests")
    listing.add_argument("--due-within", type=int, metavar="DAYS", default=None)
    listing.add_argument("--status", default=None)
    listing.add_argument(
        "--type", choices=RequestType.values, default=None, help="only requests of this type"
    )
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.add_argument("--as-of", type=_moment, default=None)
    listing.set_defaults(func=_list)

    classify = rights_subparsers.add_parser(
        "classify", help="name the right an unclassified request asks for"
    )
    classify.add_argument("id")
    classify.add_argument("type", choices=[str(t) for t in CLASSIFIED_TYPES])
    classify.add_argument("--as-of", type=_moment, default=None, help="the current time (tests)")
    classify.set_defaults(func=_classify)

    verify = rights_subparsers.add_parser("verify", help="confirm the requester's identity")
    verify.add_argument("id")
    group = verify.add_mutually_exclusive_group(required=True)
    group.add_argument("--staff-note", help="how staff confirmed the identity")
    group.add_argument("--code", help="the code the person received by e-mail")
    group.add_argument("--send-code", action="store_true", help="e-mail a code to the person")
    verify.set_defaults(func=_verify)

    fulfil = rights_subparsers.add_parser("fulfil", help="carry out a verified request")
    fulfil.add_argument("id")
    fulfil.add_argument("--lang", choices=LANGS, default="nb")
    fulfil.add_argument("--ground", help="restriction: Art. 18(1) letter a-d")
    fulfil.add_argument("--activity", help="objection: policy activity or direct-marketing")
    fulfil.add_argument(
        "--changes", help='rectification: JSON {"core.Person": {"family_name": "..."}}'
    )
    fulfil.add_argument("--as-of", type=_moment, default=None)
    fulfil.set_defaults(func=_fulfil)

    export = rights_subparsers.add_parser("export", help="write the access bundle to a file")
    export.add_argument("id")
    export.add_argument("--out", required=True, type=Path, help="FILE.zip")
    export.add_argument("--lang", choices=LANGS, default="nb")
    export.set_defaults(func=_export)

    # The e-mail intake (``personvern rights intake PATH``) lives in its own module.
    try:
        from personvern.rights import intake
    except ModuleNotFoundError as exc:
        if exc.name != "personvern.rights.intake":
            raise
    else:
        intake.register(rights_subparsers)


def _error(console: Console, exc: ValidationError) -> int:
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            for message in messages:
                console.print(f"[red]error[/red]: {name}: {message}")
    else:
        for message in exc.messages:
            console.print(f"[red]error[/red]: {message}")
    return 2


def _get(console: Console, public_id: str) -> Any:
    from personvern.rights.models import Request
    from personvern.rights.selectors import request_get

    try:
        return request_get(public_id)
    except ValidationError as exc:
        _error(console, exc)
    except Request.DoesNotExist:
        console.print(f"[red]error[/red]: no request with id {public_id}")
    return None


def _request(args: argparse.Namespace) -> int:
    from personvern.rights.services import request_create

    console = Console(stderr=True)
    now = args.as_of or timezone.now()
    try:
        request = request_create(
            type=args.type,
            email=args.email,
            channel=args.channel,
            received_at=_received_at(args.received, now),
            notes=args.notes,
            actor=_actor(),
            now=now,
        )
    except ValidationError as exc:
        return _error(console, exc)
    print(request.public_id)
    console.print(
        f"registered {request.type} request, legal deadline {request.due_legal.isoformat()} "
        f"(calendar {request.due_strict.isoformat()})"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from personvern.rights.selectors import request_list

    today = received_date(args.as_of) if args.as_of else None
    requests = request_list(
        overdue=True if args.overdue else None,
        due_within_days=args.due_within,
        status=args.status,
        type=args.type,
        today=today,
    )
    today = today or received_date(timezone.now())
    rows: list[dict[str, Any]] = [
        {
            "id": str(r.public_id),
            "type": r.type,
            "status": r.status,
            "channel": r.channel,
            "received": received_date(r.received_at).isoformat(),
            "due_strict": r.due_strict.isoformat(),
            "due_legal": r.due_legal.isoformat(),
            "days_left": days_left(r.due_legal, today) if r.is_open else None,
            "verified": r.verified_at is not None,
            "assignee": r.assignee.get_username() if r.assignee else None,
        }
        for r in requests
    ]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    columns = ("id", "type", "status", "received", "due_legal", "days_left", "verified", "assignee")
    table = Table(title="Privacy requests")
    for column in columns:
        # The id is what the other commands take: never shorten it.
        table.add_column(column, no_wrap=column == "id", min_width=36 if column == "id" else None)
    for row in rows:
        overdue = row["days_left"] is not None and row["days_left"] < 0
        table.add_row(
            *(str(row[c]) if row[c] is not None else "" for c in columns),
            style="red" if overdue else None,
        )
    Console(width=max(120, Console().width)).print(table)
    return 0


def _classify(args: argparse.Namespace) -> int:
    from personvern.rights.services import request_classify

    console = Console(stderr=True)
    request = _get(console, args.id)
    if request is None:
        return 2
    try:
        request = request_classify(request=request, type=args.type, actor=_actor(), now=args.as_of)
    except ValidationError as exc:
        return _error(console, exc)
    console.print(
        f"classified as {request.type}; legal deadline still {request.due_legal.isoformat()}"
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from personvern.rights.services import request_send_verification, request_verify

    console = Console(stderr=True)
    request = _get(console, args.id)
    if request is None:
        return 2
    try:
        if args.send_code:
            request_send_verification(request=request, actor=_actor())
            console.print("a code was sent to the person's e-mail address")
            return 0
        request_verify(request=request, code=args.code, staff_note=args.staff_note, actor=_actor())
    except ValidationError as exc:
        return _error(console, exc)
    console.print("verified")
    return 0


def _fulfil(args: argparse.Namespace) -> int:
    from personvern.rights.engine import export_path
    from personvern.rights.services import request_fulfil

    console = Console(stderr=True)
    request = _get(console, args.id)
    if request is None:
        return 2
    try:
        changes = json.loads(args.changes) if args.changes else None
    except json.JSONDecodeError as exc:
        console.print(f"[red]error[/red]: --changes: not JSON ({exc})")
        return 2
    try:
        request = request_fulfil(
            request=request,
            actor=_actor(),
            now=args.as_of,
            changes=changes,
            ground=args.ground,
            activity=args.activity,
            lang=args.lang,
        )
    except ValidationError as exc:
        return _error(console, exc)
    json.dump(request.result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    path = export_path(request)
    if path is not None:
        console.print(f"written to {path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from personvern.rights.engine import export_path
    from personvern.rights.models import RequestType

    console = Console(stderr=True)
    request = _get(console, args.id)
    if request is None:
        return 2
    if request.type not in (RequestType.ACCESS, RequestType.PORTABILITY):
        console.print(f"[red]error[/red]: a {request.type} request has no export")
        return 2
    path = export_path(request)
    if path is None:
        console.print(
            "[red]error[/red]: no bundle: fulfil the request first "
            f"(personvern rights fulfil {request.public_id})"
        )
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, args.out)
    console.print(f"written to {args.out}")
    return 0
