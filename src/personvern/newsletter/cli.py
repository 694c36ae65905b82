"""`personvern newsletter send ID` and `personvern newsletter opt-outs FILE --channel …` (R16, R18).

``send`` mails a newsletter to everyone who may receive it, each copy with its
own unsubscribe link; run it again after an interruption and it resumes.
``opt-outs``: a member organisation relays the opt-outs its members make on its
own member page as a list of e-mail addresses (one a line); each takes effect here.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from rich.console import Console

from personvern.cli import counting_progress


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

    send = sub.add_parser(
        "send", help="send a newsletter to its recipients (resumes an interrupted send)"
    )
    send.add_argument("id", type=int, help="the newsletter's number (see the back office)")
    send.add_argument("--batch-size", type=int, default=None,
                      help="copies per batch (progress is committed after each)")
    send.add_argument("--connections", type=int, default=None,
                      help="SMTP connections used at once (default 4)")
    send.set_defaults(func=_send)


def _send(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError

    from personvern.newsletter.models import Newsletter
    from personvern.newsletter.services import newsletter_send

    for option in ("batch_size", "connections"):
        value = getattr(args, option)
        if value is not None and value < 1:
            print(f"personvern newsletter send: --{option.replace('_', '-')} must be at least 1",
                  file=sys.stderr)
            return 2
    newsletter = Newsletter.objects.filter(pk=args.id).first()
    if newsletter is None:
        print(f"No newsletter has the number {args.id}.", file=sys.stderr)
        return 2
    console = Console(width=None if sys.stdout.isatty() else 200)
    try:
        with counting_progress("copies", console) as progress:
            sent = newsletter_send(
                newsletter=newsletter, actor=f"cli:{getpass.getuser()}",
                batch_size=args.batch_size, connections=args.connections, progress=progress,
            )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                print(f"{field}: {message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"The mail server could not be reached ({exc}); run the command again to "
              "resume where it stopped.", file=sys.stderr)
        return 1
    console.print(f"Newsletter {sent.pk} sent: {sent.recipient_count} copies.")
    return 0


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
