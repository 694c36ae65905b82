"""`personvern members import FILE` and `personvern members optouts FILE` (R3, R14, R17, R18).

``import`` reads a member organisation's member file (CSV, docs/members.md):
memberships start, change and end; with ``--full`` a current member the file
does not list is ended on the file's date. ``optouts`` applies the newsletter
opt-outs members made on the organisation's own member page. A file with any
bad row is refused whole, each problem named by row and column.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from personvern.cli import counting_progress

if TYPE_CHECKING:
    from personvern.members.feeds import Problem

ORGANISATIONS = ["advokatforeningen", "juristforbundet"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    members = subparsers.add_parser("members", help="the member organisations' feeds")
    sub = members.add_subparsers(dest="members_command", metavar="ACTION")
    sub.required = True

    imp = sub.add_parser(
        "import", help="apply a member file (CSV: member_id, email, given_name, family_name, "
        "member_from, member_to)"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--organisation", required=True, choices=ORGANISATIONS)
    imp.add_argument(
        "--full", action="store_true",
        help="the file lists every member: end the current memberships it does not list",
    )
    imp.add_argument(
        "--as-of", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
        help="the file's date, on which --full ends memberships (default: today, Oslo)",
    )
    imp.add_argument("--batch-size", type=int, default=None, help="rows per batch")
    imp.set_defaults(func=_import)

    optouts = sub.add_parser(
        "optouts", help="apply newsletter opt-outs from the organisation's member page "
        "(CSV: member_id, email, opted_out_at)"
    )
    optouts.add_argument("file", type=Path)
    optouts.add_argument("--organisation", required=True, choices=ORGANISATIONS)
    optouts.set_defaults(func=_optouts)

    token = sub.add_parser(
        "token", help="an API token for an organisation's feed: its own user, holding only "
        "that organisation's feed permission (printed once)"
    )
    token.add_argument("--organisation", required=True, choices=ORGANISATIONS)
    token.add_argument("--user", default=None,
                       help="the integration's user name (default: feed-ORGANISATION)")
    token.add_argument("--name", default="member feed", help="what the token is for")
    token.set_defaults(func=_token)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}.", file=sys.stderr)
        return None


def _refused(path: Path, problems: list[Problem]) -> int:
    for p in problems:
        where = f"row {p.where}" if p.where > 0 else "the file"
        column = f", column {p.field}" if p.field and p.where > 0 else ""
        print(f"{path}, {where}{column}: {p.message}", file=sys.stderr)
    print(f"{path}: refused, nothing was changed ({len(problems)} problem(s)).", file=sys.stderr)
    return 1


def _import(args: argparse.Namespace) -> int:
    from personvern.members.feeds import MEMBER_COLUMNS, FeedRefused, check_members, read_csv
    from personvern.members.services import cli_actor, members_import

    if args.batch_size is not None and args.batch_size < 1:
        print("personvern members import: --batch-size must be at least 1", file=sys.stderr)
        return 2
    content = _read(args.file)
    if content is None:
        return 2
    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    try:
        rows = check_members(read_csv(content, MEMBER_COLUMNS))
        with counting_progress("members", console) as progress:
            summary = members_import(
                organisation=args.organisation, rows=rows, full=args.full, as_of=args.as_of,
                actor=cli_actor(), source="file", batch_size=args.batch_size,
                progress=progress,
            )
    except FeedRefused as exc:
        return _refused(args.file, exc.problems)
    console.print(
        f"{args.organisation}, {summary.rows} members read (as of {summary.as_of}"
        f"{', full feed' if summary.full else ''}): {summary.started} started, "
        f"{summary.ended} ended, {summary.changed} changed, {summary.unchanged} unchanged; "
        f"{summary.persons_created} persons created, {summary.addresses_added} addresses "
        f"added; {summary.subscriptions_ended} newsletter subscriptions ended (membership "
        "basis gone)."
    )
    if summary.nothing_changed:
        console.print("Nothing changed: everything was already as the file says.")
    return 0


def _optouts(args: argparse.Namespace) -> int:
    from personvern.members.feeds import OPTOUT_COLUMNS, FeedRefused, check_optouts, read_csv
    from personvern.members.services import cli_actor, member_optouts_apply

    content = _read(args.file)
    if content is None:
        return 2
    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    try:
        rows = check_optouts(read_csv(content, OPTOUT_COLUMNS))
        summary = member_optouts_apply(
            organisation=args.organisation, rows=rows, actor=cli_actor()
        )
    except FeedRefused as exc:
        return _refused(args.file, exc.problems)
    console.print(
        f"{args.organisation}, {summary.rows} opt-outs read: {summary.unsubscribed} "
        f"unsubscribed now, {summary.already_unsubscribed} already unsubscribed, "
        f"{summary.not_subscribed} not subscribed, {len(summary.unknown)} unknown here, "
        f"{len(summary.stale)} older than the current subscription."
    )
    if summary.unknown:
        console.print("Unknown here (rows): " + ", ".join(map(str, summary.unknown)))
    if summary.stale:
        console.print("Not applied, subscribed again since (rows): "
                      + ", ".join(map(str, summary.stale)))
    if summary.nothing_changed:
        console.print("Nothing changed.")
    return 0


def _token(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError

    from personvern.api.services import api_token_create
    from personvern.members.services import cli_actor, feed_user_ensure

    user = feed_user_ensure(organisation=args.organisation,
                            username=args.user or f"feed-{args.organisation}", actor=cli_actor())
    try:
        _row, plain = api_token_create(user=user, name=args.name, actor=cli_actor())
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                print(f"{field}: {message}", file=sys.stderr)
        return 2
    # The plain token alone on stdout, so that scripts can capture it.
    print(plain)
    Console(stderr=True).print(
        f"Token for {user.get_username()} (feed of {args.organisation} only). Store it now: "
        "it is not kept and cannot be shown again."
    )
    return 0
