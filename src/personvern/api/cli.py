"""`personvern api schema` and `personvern api token create|revoke|list`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``api`` command and its actions."""
    api = subparsers.add_parser("api", help="the REST API: schema and staff tokens")
    sub = api.add_subparsers(dest="api_command", metavar="ACTION")
    sub.required = True

    schema = sub.add_parser("schema", help="write the OpenAPI 3 document")
    schema.add_argument("--out", type=Path, help="file to write (default: standard output)")
    schema.add_argument(
        "--check", action="store_true", help="exit 1 if --out differs from the generated schema"
    )
    schema.set_defaults(func=_schema)

    token = sub.add_parser("token", help="staff API tokens")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION")
    token_sub.required = True
    create = token_sub.add_parser("create", help="create a token; prints it once")
    create.add_argument("--user", required=True, help="user name of an active staff user")
    create.add_argument("--name", required=True, help="what the token is for")
    create.set_defaults(func=_token_create)
    revoke = token_sub.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("--user", required=True)
    revoke.add_argument("--name", required=True)
    revoke.set_defaults(func=_token_revoke)
    listing = token_sub.add_parser("list", help="list tokens (never their values)")
    listing.set_defaults(func=_token_list)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _schema(args: argparse.Namespace) -> int:
    from personvern.api.api import openapi_json

    text = openapi_json()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(
                f"{args.out} is out of date; run: personvern api schema --out {args.out}",
                file=sys.stderr,
            )
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    Console().print(f"Wrote the OpenAPI schema to {args.out}.")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from personvern.api.services import api_token_create

    user_model = get_user_model()
    try:
        user = user_model.objects.get_by_natural_key(args.user)
    except user_model.DoesNotExist:
        print(f"No user is named {args.user!r}.", file=sys.stderr)
        return 2
    try:
        _token, plain = api_token_create(user=user, name=args.name, actor=_actor())
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                print(f"{field}: {message}", file=sys.stderr)
        return 2
    # The plain token is on stdout alone so that scripts can capture it.
    print(plain)
    Console(stderr=True).print(
        "Store this token now: it is not kept and cannot be shown again."
    )
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    from personvern.api.selectors import api_token_live
    from personvern.api.services import api_token_revoke

    token = api_token_live(username=args.user, name=args.name)
    if token is None:
        print(f"{args.user} has no live token named {args.name!r}.", file=sys.stderr)
        return 2
    api_token_revoke(token=token, actor=_actor())
    Console().print(f"Revoked the token {args.name!r} of {args.user}.")
    return 0


def _token_list(args: argparse.Namespace) -> int:
    from personvern.api.selectors import api_token_list

    table = Table(title="API tokens")
    for column in ("User", "Name", "Created", "Last used", "Revoked"):
        table.add_column(column)
    for token in api_token_list():
        table.add_row(
            token.user.get_username(),
            token.name,
            f"{token.created_at:%Y-%m-%d %H:%M}",
            f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "",
            f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "",
        )
    Console().print(table)
    return 0
