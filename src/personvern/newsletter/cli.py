"""`personvern newsletter opt-outs FILE --channel advokatforeningen` (R18).

A member organisation relays the opt-outs its members make on its own member
page as a list of e-mail addresses (one a line); each takes effect here.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from rich.console import Console


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    newsletter = subparsers.add_parser("newsletter", help="the newsletter")
    sub = newsletter.add_subparsers(dest="newsletter_command", metavar="ACTION")
    sub.required = True
    opt_outs = sub.add_parser(
        "opt-outs", help="apply opt-outs relayed by a member organisation (one e-mail a line)"
    )
    opt_outs.add_argument("file", type=Path)
    opt_outs.add_argument(
        "--channel",
        required=True,
        choices=["advokatforeningen", "juristforbundet"],
        help="the organisation the opt-outs come from",
    )
    opt_outs.set_defaults(func=_opt_outs)


def _opt_outs(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from personvern.newsletter.services import newsletter_unsubscribe_email

    try:
        lines = args.file.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}.", file=sys.stderr)
        return 2
    addresses: list[str] = []
    for number, line in enumerate(lines, start=1):
        address = line.strip()
        if not address or address.startswith("#"):
            continue
        try:
            validate_email(address)
        except ValidationError:
            print(
                f"{args.file}, line {number}: {address!r} is not an e-mail address.",
                file=sys.stderr,
            )
            return 1
        addresses.append(address)
    actor = f"cli:{getpass.getuser()}"
    done = 0
    for address in addresses:
        if newsletter_unsubscribe_email(email=address, channel=args.channel, actor=actor):
            done += 1
    Console().print(
        f"{len(addresses)} opt-outs read; {done} matched a subscription here and are unsubscribed."
    )
    return 0
