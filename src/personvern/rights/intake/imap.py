"""Intake from an IMAP mailbox (R32)."""

from __future__ import annotations

import imaplib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.utils import timezone

from personvern.core.imap import (
    NEITHER_MOVE_NOR_UIDPLUS,
    IMAPAddress,
    IMAPError,
    logged_in,
    move_uids,
    quote,
    select,
)
from personvern.core.scanning import Verdict
from personvern.rights.intake.message import parse_message, scan_parts
from personvern.rights.intake.registration import check_type, privacy_marker, take_message
from personvern.rights.intake.report import IntakeItem, IntakeReport, Outcome
from personvern.rights.intake.sources import ERROR_UNREADABLE, Source

#: How far back an IMAP intake looks (by the server's arrival date). Requests must
#: be answered within a month, three with an extension: older mail is long handled.
IMAP_WINDOW_DAYS = 100


#: The intake's errors are the shared IMAP errors (address, login, mailbox, connection).
IMAPIntakeError = IMAPError


def intake_imap(
    url: str,
    *,
    password: str,
    actor: str,
    now: datetime | None = None,
    dry_run: bool = False,
    request_type: str | None = None,
    move_to: str = "",
    window_days: int = IMAP_WINDOW_DAYS,
) -> IntakeReport:
    """Register the privacy requests in an IMAP mailbox (R32), as :func:`intake_path` does.

    Only messages that arrived in the last ``window_days`` and whose subject
    carries the privacy marker are fetched (the server searches), and they are
    read with ``BODY.PEEK``: nothing in the mailbox changes, not even the
    \\Seen flag, so the mailbox can be one staff read as well. With
    ``move_to`` a message that is registered (now or before) is moved to that
    folder afterwards, so the inbox keeps only what still needs a look; a
    message left untaken (malformed, not scanned) stays where it is.
    ``imaps://`` verifies the server's certificate with the system's CA store.
    """
    now = now or timezone.now()
    check_type(request_type)
    address = IMAPAddress.parse(url)
    marker = privacy_marker()
    report = IntakeReport(path=Path(str(address)), dry_run=dry_run)
    with logged_in(address, password) as client:
        select(client, address.mailbox, readonly=dry_run or not move_to)
        since = (now - timedelta(days=window_days)).strftime("%d-%b-%Y")
        criteria = ["SINCE", since]
        if marker.isascii():
            # The server narrows it down; take_message checks the marker again either way.
            criteria += ["SUBJECT", quote(marker)]
        status, found = client.uid("SEARCH", *criteria)
        if status != "OK":
            raise IMAPIntakeError(f"the server refused the search: {found!r}")
        taken: list[str] = []
        for uid in (found[0] or b"").decode().split():
            source = _imap_source(client, address.mailbox, uid)
            item = take_message(source, marker=marker, actor=actor, now=now, dry_run=dry_run,
                         request_type=request_type)
            report.items.append(item)
            if move_to and _movable(item, source):
                taken.append(uid)
        if move_to and taken and not dry_run:
            _move(client, ",".join(taken), move_to)
    return report


def _imap_source(client: imaplib.IMAP4, mailbox: str, uid: str) -> Source:
    name = f"{mailbox}/{uid}"
    status, data = client.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
    parts = [part for part in data if isinstance(part, tuple)]
    if status != "OK" or not parts:
        return Source(name, None, None, str(ERROR_UNREADABLE % {"error": status}))
    head, raw = parts[0]
    arrived = imaplib.Internaldate2tuple(head)
    arrived_at = datetime.fromtimestamp(time.mktime(arrived), tz=UTC) if arrived else None
    return Source(name, None, bytes(raw), arrived_at=arrived_at)


def _movable(item: IntakeItem, source: Source) -> bool:
    """Whether a registered message may leave the inbox for the ``--move-to`` folder.

    Not one with malware in it: it stays where staff were told not to open it.
    A message taken on an earlier run is scanned again to know (only until it
    is moved, and infected mail is rare).
    """
    if item.outcome in (Outcome.CREATED, Outcome.CREATED_UNCLASSIFIED):
        return not item.infected
    if item.outcome != Outcome.ALREADY_TAKEN or source.read is None:
        return False
    message = parse_message(source.read)
    return all(result.verdict in (Verdict.CLEAN, Verdict.DISABLED)
               for _name, _size, result in scan_parts(message))


def _move(client: imaplib.IMAP4, uids: str, folder: str) -> None:
    """Move messages to ``folder`` (created if missing).

    With MOVE (RFC 6851), or COPY and then ``UID EXPUNGE`` of exactly these
    messages (UIDPLUS, RFC 4315). A plain EXPUNGE would also remove every other
    message someone marked deleted in a shared mailbox, so a server with
    neither gets an error instead.
    """
    try:
        move_uids(client, uids, folder)
    except IMAPError as exc:
        if str(exc) == NEITHER_MOVE_NOR_UIDPLUS:
            raise IMAPError(f"{exc}: run without --move-to") from exc
        raise IMAPError(f"could not move the registered messages to {folder!r} ({exc})") from exc
