"""E-mail intake: privacy requests from an IMAP mailbox, .eml files or a maildir (R5, R32).

``personvern rights intake imaps://user@host/INBOX`` reads a mailbox on the
mail server (:func:`intake_imap`; run it from cron); ``personvern rights
intake PATH`` reads one .eml file, a directory of .eml files, or a maildir
(``cur/`` and ``new/``). A message whose Subject carries the policy's privacy
marker ("Personvern") becomes a request:

- received at the moment in its ``Date`` header (the deadline runs from
  receipt); only a message without a ``Date`` falls back to the file's
  modification time, and the report says so;
- linked to the person who holds the sender address (``From``), created if
  unknown (see :func:`personvern.rights.services.request_create`);
- typed by keywords of its subject and text, Norwegian and English. When no
  right or more than one is named, the request is registered as
  ``unclassified`` (guessing would start the wrong process) and reported as
  needing classification: it is in the back office's work list from the
  start, its deadline running from receipt, and staff classify it there or
  with ``personvern rights classify ID TYPE``. ``--type`` forces the type of
  the messages not yet taken.

Safety design:
- Idempotent: the ``Message-ID`` (or, lacking one, the digest of the raw
  message) is the request's ``source_message_id``; a message taken before is
  reported as such and left alone, so intake can run from cron on the same
  maildir again and again.
- Each message is handled in its own transaction: a malformed message (no
  parsable sender, a bad ``Date``) is reported with its file name and leaves
  nothing behind, and never stops the others.
- Read-only on the mail store: nothing is moved, flagged or deleted (IMAP
  reads with ``BODY.PEEK``, so not even \\Seen is set), except that an IMAP
  intake with ``--move-to`` moves the messages it registered to that folder.
- Scanned for malware (R21, :mod:`personvern.core.scanning`): every part of a
  marked message is scanned before the message is taken. An infected
  attachment is not taken in: the request is registered all the same (the
  deadline runs), and the report and the request's notes name the attachment,
  the signature found and that the original must not be opened. If the scanner
  cannot be reached, the message is left untaken (``not-scanned``) for the next
  run; its deadline still counts from its Date header.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import enum
import hashlib
import imaplib
import mailbox
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.policy import current_policy
from personvern.core.scanning import ScanResult, Verdict, audit_scan, scan
from personvern.core.services import normalise_email
from personvern.rights.models import Channel, RequestType
from personvern.rights.selectors import request_by_source_message
from personvern.rights.services import request_create

#: Activity and channel of intake's audit entries of virus scans.
ACTIVITY = "privacy-requests"
SCAN_CHANNEL = "e-mail-intake"


class Outcome(enum.Enum):
    """What intake did with one message."""

    CREATED = "created"
    #: Registered as an ``unclassified`` request: staff must name the right.
    CREATED_UNCLASSIFIED = "created-needs-classification"
    ALREADY_TAKEN = "already-taken"
    NOT_MARKED = "not-marked"
    MALFORMED = "malformed"
    #: The virus scanner could not check the message: left for the next run (R21).
    NOT_SCANNED = "not-scanned"


OUTCOME_LABELS = {
    Outcome.CREATED: _("request registered"),
    Outcome.CREATED_UNCLASSIFIED: _("request registered, needs classification"),
    Outcome.ALREADY_TAKEN: _("already registered"),
    Outcome.NOT_MARKED: _("not a privacy message, left alone"),
    Outcome.MALFORMED: _("malformed"),
    Outcome.NOT_SCANNED: _("not scanned for viruses (scanner unavailable), left for the next run"),
}
DRY_RUN_LABELS = {
    Outcome.CREATED: _("would be registered"),
    Outcome.CREATED_UNCLASSIFIED: _("would be registered, needs classification"),
}

NOTE_NO_DATE = _("The message has no Date header; the file's modification time was used.")
NOTE_NO_TYPE = _(
    "No right is named in the message; read it and classify the request in the back office "
    "or with: personvern rights classify ID TYPE."
)
NOTE_MANY_TYPES = _(
    "The message names several rights (%(types)s); read it and classify the request in the "
    "back office or with: personvern rights classify ID TYPE."
)
NOTE_STILL_UNCLASSIFIED = _(
    "The request is not yet classified; classify it in the back office or with: "
    "personvern rights classify ID TYPE."
)
CASE_NOTE = _(
    "Registered from the e-mail with the subject “%(subject)s”, Message-ID %(message_id)s "
    "(file %(file)s)."
)
NOTE_NO_MESSAGE_ID = _("The message has no Message-ID; its content identifies it instead.")
NOTE_INFECTED = _(
    "The attachment %(name)s contains malware (%(signature)s) and was not taken in. "
    "Do not open the original message's attachments."
)
NOTE_TOO_LARGE = _(
    "The attachment %(name)s is too large for the virus scanner and was not taken in. "
    "Do not open the original message's attachments; ask the sender for a smaller file "
    "or use the secure message form."
)
NOTE_NOT_SCANNED = _(
    "The virus scanner could not check the message; it is left untaken and will be "
    "taken by the next run once the scanner answers."
)
NOTE_SCAN_DISABLED = _("Virus scanning is disabled: the message was not scanned.")
MESSAGE_TEXT = _("the message text")
ERROR_NO_FROM = _("The message has no sender (From header).")
ERROR_BAD_FROM = _("The sender address %(address)s is not a valid e-mail address.")
ERROR_BAD_DATE = _("The Date header %(value)s is not a valid date.")
ERROR_UNREADABLE = _("The file cannot be read: %(error)s")
ERROR_NOT_A_MESSAGE = _("The file is not an e-mail message (no headers).")

# Keywords that name a right, matched on lower-cased subject and text. Word
# starts are anchored (``\b``) so that "rett" (a right, as in "rett til innsyn")
# is not taken for "rette" (to correct); "portab" is not, so that compounds such
# as "dataportabilitet" match.
TYPE_KEYWORDS: dict[str, tuple[str, ...]] = {
    RequestType.ACCESS: (r"\binnsyn", r"\baccess\b", r"\bcopy\b", r"\bkopi\b"),
    RequestType.ERASURE: (r"\bslett", r"\berase", r"\berasure", r"\bdelet", r"\bforgotten\b"),
    RequestType.RECTIFICATION: (
        r"\brett(e|er|es|ing|ingen)\b",
        r"\bkorriger",
        r"\brectif",
        r"\bcorrect(ion)?\b",
    ),
    RequestType.RESTRICTION: (r"\bbegrens", r"\brestrict"),
    RequestType.OBJECTION: (
        r"\bprotest",
        r"\bobject",
        r"\breservasjon",
        r"\breserver",
        r"\binnsigelse",
    ),
    RequestType.PORTABILITY: (r"\bflytt", r"portab", r"\boverfør"),
}
_TYPE_PATTERNS = {
    type_: re.compile("|".join(words)) for type_, words in TYPE_KEYWORDS.items()
}


@dataclass(frozen=True)
class IntakeItem:
    """The fate of one message."""

    source: str
    outcome: Outcome
    request_type: str | None = None
    received_at: datetime | None = None
    request_id: UUID | None = None
    notes: tuple[str, ...] = ()
    #: Parts not taken in: the virus scanner found malware in them, or they are
    #: larger than it can scan (R21).
    infected: tuple[str, ...] = ()


@dataclass
class IntakeReport:
    """What one intake run did, message by message."""

    path: Path
    dry_run: bool
    items: list[IntakeItem] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        """How many messages ended with ``outcome``."""
        return sum(1 for item in self.items if item.outcome == outcome)

    @property
    def has_problems(self) -> bool:
        """True when a message was malformed, not scanned or had malware in it, or its
        new request needs staff to classify it."""
        return any(
            item.outcome
            in (Outcome.MALFORMED, Outcome.CREATED_UNCLASSIFIED, Outcome.NOT_SCANNED)
            or item.infected
            for item in self.items
        )


@dataclass(frozen=True)
class _Source:
    name: str
    #: The file it was read from, if any: its modification time stands in for a
    #: missing ``Date`` header.
    file: Path | None
    read: bytes | None
    error: str = ""
    #: When the mail server received it (IMAP's INTERNALDATE), for the same purpose.
    arrived_at: datetime | None = None

    def arrival(self) -> datetime | None:
        if self.arrived_at is not None:
            return self.arrived_at
        if self.file is not None:
            return datetime.fromtimestamp(self.file.stat().st_mtime, tz=UTC)
        return None


def guess_type(text: str) -> list[str]:
    """The request types whose keywords occur in ``text`` (empty, one or several)."""
    lowered = text.lower()
    return [type_ for type_, pattern in _TYPE_PATTERNS.items() if pattern.search(lowered)]


def intake_path(
    path: Path,
    *,
    actor: str,
    now: datetime | None = None,
    dry_run: bool = False,
    request_type: str | None = None,
) -> IntakeReport:
    """Register the privacy requests found in ``path`` (.eml file, directory or maildir).

    ``request_type`` forces the type of every marked message not yet taken
    (staff have read them); without it, a message whose right cannot be guessed
    becomes an ``unclassified`` request. A message taken before is left alone,
    whatever ``request_type`` says: an existing request is classified with
    :func:`personvern.rights.services.request_classify`. With ``dry_run``
    nothing is written; the report says what would be.
    """
    now = now or timezone.now()
    _check_type(request_type)
    report = IntakeReport(path=path, dry_run=dry_run)
    for source in _sources(path):
        report.items.append(
            _take(source, marker=_marker(), actor=actor, now=now, dry_run=dry_run,
                  request_type=request_type)
        )
    return report


def _marker() -> str:
    return current_policy().controller.privacy_marker.lower()


def _check_type(request_type: str | None) -> None:
    if request_type is not None and request_type not in RequestType.values:
        raise ValidationError(
            {"type": f"{request_type!r} is not a request type ({', '.join(RequestType.values)})."}
        )


#: How far back an IMAP intake looks (by the server's arrival date). Requests must
#: be answered within a month, three with an extension: older mail is long handled.
IMAP_WINDOW_DAYS = 100


class IMAPIntakeError(Exception):
    """The mailbox could not be read (address, login, mailbox or connection)."""


@dataclass(frozen=True)
class IMAPAddress:
    """``imap[s]://user@host[:port]/mailbox``, parsed."""

    secure: bool
    user: str
    host: str
    port: int
    mailbox: str

    @classmethod
    def parse(cls, url: str) -> IMAPAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise IMAPIntakeError(
                # Not repeated back: a password written into it would end up in logs.
                "the address given is not an IMAP address: imaps://user@host[:port]/mailbox"
            )
        secure = parts.scheme == "imaps"
        return cls(
            secure=secure,
            user=unquote(parts.username),
            host=parts.hostname,
            port=parts.port or (993 if secure else 143),
            mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
        )

    def __str__(self) -> str:
        scheme = "imaps" if self.secure else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.mailbox}"


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
    _check_type(request_type)
    address = IMAPAddress.parse(url)
    if not address.secure and settings.PERSONVERN_ENV == "production":
        raise IMAPIntakeError("imap:// sends the password in clear: use imaps:// in production")
    marker = _marker()
    report = IntakeReport(path=Path(str(address)), dry_run=dry_run)
    try:
        client = (
            imaplib.IMAP4_SSL(address.host, address.port, ssl_context=ssl.create_default_context(),
                              timeout=30)
            if address.secure else imaplib.IMAP4(address.host, address.port, timeout=30)
        )
    except OSError as exc:
        raise IMAPIntakeError(f"cannot reach {address.host}:{address.port}: {exc}") from exc
    try:
        try:
            client.login(address.user, password)
        except imaplib.IMAP4.error as exc:
            raise IMAPIntakeError(f"the server refused the login of {address.user!r}") from exc
        status, _ = client.select(_quote(address.mailbox), readonly=dry_run or not move_to)
        if status != "OK":
            raise IMAPIntakeError(f"there is no mailbox {address.mailbox!r}")
        since = (now - timedelta(days=window_days)).strftime("%d-%b-%Y")
        criteria = ["SINCE", since]
        if marker.isascii():
            # The server narrows it down; _take checks the marker again either way.
            criteria += ["SUBJECT", _quote(marker)]
        status, found = client.uid("SEARCH", *criteria)
        if status != "OK":
            raise IMAPIntakeError(f"the server refused the search: {found!r}")
        taken: list[str] = []
        for uid in (found[0] or b"").decode().split():
            source = _imap_source(client, address.mailbox, uid)
            item = _take(source, marker=marker, actor=actor, now=now, dry_run=dry_run,
                         request_type=request_type)
            report.items.append(item)
            if move_to and _movable(item, source):
                taken.append(uid)
        if move_to and taken and not dry_run:
            _move(client, ",".join(taken), move_to)
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise IMAPIntakeError(f"the connection to {address.host} failed: {exc}") from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return report


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_source(client: imaplib.IMAP4, mailbox: str, uid: str) -> _Source:
    name = f"{mailbox}/{uid}"
    status, data = client.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
    parts = [part for part in data if isinstance(part, tuple)]
    if status != "OK" or not parts:
        return _Source(name, None, None, str(ERROR_UNREADABLE % {"error": status}))
    head, raw = parts[0]
    arrived = imaplib.Internaldate2tuple(head)
    arrived_at = datetime.fromtimestamp(time.mktime(arrived), tz=UTC) if arrived else None
    return _Source(name, None, bytes(raw), arrived_at=arrived_at)


def _movable(item: IntakeItem, source: _Source) -> bool:
    """Whether a registered message may leave the inbox for the ``--move-to`` folder.

    Not one with malware in it: it stays where staff were told not to open it.
    A message taken on an earlier run is scanned again to know (only until it
    is moved, and infected mail is rare).
    """
    if item.outcome in (Outcome.CREATED, Outcome.CREATED_UNCLASSIFIED):
        return not item.infected
    if item.outcome != Outcome.ALREADY_TAKEN or source.read is None:
        return False
    message = email.message_from_bytes(source.read, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return all(result.verdict in (Verdict.CLEAN, Verdict.DISABLED)
               for _name, _size, result in _scan_parts(message))


def _move(client: imaplib.IMAP4, uids: str, folder: str) -> None:
    """Move messages to ``folder`` (created if missing).

    With MOVE (RFC 6851), or COPY and then ``UID EXPUNGE`` of exactly these
    messages (UIDPLUS, RFC 4315). A plain EXPUNGE would also remove every other
    message someone marked deleted in a shared mailbox, so a server with
    neither gets an error instead.
    """
    client.create(_quote(folder))  # NO when it exists, which is fine
    # Asked after login: servers announce MOVE and UIDPLUS to logged-in clients only.
    status, data = client.capability()
    capabilities = set(data[-1].decode().upper().split()) if status == "OK" and data else set()
    if "MOVE" in capabilities:
        status, data = client.uid("MOVE", uids, _quote(folder))
    elif "UIDPLUS" in capabilities:
        status, data = client.uid("COPY", uids, _quote(folder))
        if status == "OK":
            status, data = client.uid("STORE", uids, "+FLAGS.SILENT", "(\\Deleted)")
        if status == "OK":
            status, data = client.uid("EXPUNGE", uids)
    else:
        raise IMAPIntakeError(
            "the server can neither MOVE nor expunge single messages (UIDPLUS): "
            "run without --move-to"
        )
    if status != "OK":
        raise IMAPIntakeError(f"could not move the registered messages to {folder!r}: {data!r}")


def _sources(path: Path) -> Iterator[_Source]:
    if path.is_file():
        yield _read(path.name, path)
    elif path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        yield from _maildir(path)
    elif path.is_dir():
        for file in sorted(p for p in path.iterdir() if p.suffix.lower() == ".eml"):
            if file.is_file():
                yield _read(file.name, file)
    else:
        raise FileNotFoundError(f"{path} is neither a file nor a directory.")


def _read(name: str, file: Path) -> _Source:
    try:
        return _Source(name, file, file.read_bytes())
    except OSError as exc:
        return _Source(name, file, None, str(ERROR_UNREADABLE % {"error": exc.strerror}))


def _maildir(path: Path) -> Iterator[_Source]:
    box = mailbox.Maildir(path, factory=None, create=False)
    entries = []
    for key in box.iterkeys():
        message = box.get_message(key)
        subdir = message.get_subdir()
        # A maildir file is named by its key, plus ":2,<flags>" once seen.
        matches = sorted((path / subdir).glob(glob_escape(key) + "*"))
        file = matches[0] if matches else path / subdir / key
        entries.append((f"{subdir}/{file.name}", file, key))
    for name, file, key in sorted(entries):
        try:
            yield _Source(name, file, box.get_bytes(key))
        except (OSError, KeyError) as exc:
            yield _Source(name, file, None, str(ERROR_UNREADABLE % {"error": exc}))


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped (maildir keys may hold them)."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _take(
    source: _Source,
    *,
    marker: str,
    actor: str,
    now: datetime,
    dry_run: bool,
    request_type: str | None,
) -> IntakeItem:
    if source.read is None:
        return IntakeItem(source.name, Outcome.MALFORMED, notes=(source.error,))
    message = email.message_from_bytes(source.read, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    if not message.keys():
        return IntakeItem(source.name, Outcome.MALFORMED, notes=(str(ERROR_NOT_A_MESSAGE),))
    try:
        subject = str(message.get("Subject", "") or "")
    except (ValueError, TypeError):
        subject = ""
    if marker not in subject.lower():
        return IntakeItem(source.name, Outcome.NOT_MARKED)

    sender, problem = _sender(message)
    if problem:
        return IntakeItem(source.name, Outcome.MALFORMED, notes=(problem,))
    notes: list[str] = []
    received_at, problem = _received_at(message)
    if problem:
        return IntakeItem(source.name, Outcome.MALFORMED, notes=(problem,))
    if received_at is None:
        received_at = source.arrival() or now
        notes.append(str(NOTE_NO_DATE))

    message_id = str(message.get("Message-ID", "") or "").strip()
    if not message_id:
        # Content identifies a message without an id as well as anything can.
        message_id = "sha256:" + hashlib.sha256(source.read).hexdigest()
        notes.append(str(NOTE_NO_MESSAGE_ID))
    taken = request_by_source_message(message_id)
    if taken is not None:
        if taken.is_open and taken.type == RequestType.UNCLASSIFIED:
            notes.append(str(NOTE_STILL_UNCLASSIFIED))
        return IntakeItem(
            source.name,
            Outcome.ALREADY_TAKEN,
            request_type=taken.type,
            received_at=received_at,
            request_id=taken.public_id,
            notes=tuple(notes),
        )

    if request_type is None:
        types = guess_type(subject + "\n" + _text(message))
        if len(types) == 1:
            request_type = types[0]
        else:
            # Registered all the same, so that the deadline runs from receipt
            # and the request is in the back office's work list from the start.
            request_type = RequestType.UNCLASSIFIED
            note = (
                NOTE_NO_TYPE
                if not types
                else NOTE_MANY_TYPES % {"types": ", ".join(str(t) for t in types)}
            )
            notes.append(str(note))
    outcome = (
        Outcome.CREATED_UNCLASSIFIED
        if request_type == RequestType.UNCLASSIFIED
        else Outcome.CREATED
    )

    scans = _scan_parts(message)
    # A part too large for the scanner will never be scanned: it is not taken in
    # (as an infected one), and the request is registered so its deadline runs.
    failed = [(index, result) for index, (_name, size, result) in enumerate(scans)
              if result.verdict == Verdict.ERROR and not result.too_large]
    if failed:
        if not dry_run:
            for index, result in failed:
                audit_scan(result, actor=actor, activity=ACTIVITY, channel=SCAN_CHANNEL,
                           size=scans[index][1], data={"part": index}, now=now)
        return IntakeItem(
            source.name,
            Outcome.NOT_SCANNED,
            received_at=received_at,
            notes=(*notes, str(NOTE_NOT_SCANNED)),
        )
    infected = tuple(name for name, _size, result in scans
                     if result.verdict == Verdict.INFECTED or result.too_large)
    case_notes = []
    for name, _size, result in scans:
        if result.verdict == Verdict.INFECTED or result.too_large:
            note = str(
                NOTE_INFECTED % {"name": name, "signature": result.signature}
                if result.verdict == Verdict.INFECTED else NOTE_TOO_LARGE % {"name": name}
            )
            notes.append(note)
            case_notes.append(note)
    if any(result.verdict == Verdict.DISABLED for _n, _s, result in scans):
        notes.append(str(NOTE_SCAN_DISABLED))

    if dry_run:
        return IntakeItem(
            source.name,
            outcome,
            request_type=request_type,
            received_at=received_at,
            notes=tuple(notes),
            infected=infected,
        )
    try:
        # One transaction per message: a failure leaves nothing of this message.
        with transaction.atomic():
            request = request_create(
                type=request_type,
                email=sender,
                channel=Channel.EMAIL,
                received_at=received_at,
                actor=actor,
                source_message_id=message_id,
                # Where staff find the message to read (and classify) it: the
                # stored id is only a digest.
                notes="\n".join(
                    [
                        str(
                            CASE_NOTE
                            % {
                                "subject": subject.strip(),
                                "message_id": message_id,
                                "file": source.name,
                            }
                        ),
                        *case_notes,
                    ]
                ),
                now=now,
            )
            for index, (_name, size, result) in enumerate(scans):
                audit_scan(
                    result, actor=actor, activity=ACTIVITY, channel=SCAN_CHANNEL, size=size,
                    person=request.person,
                    data={"request": str(request.public_id), "part": index}, now=now,
                )
    except ValidationError as exc:
        if "source_message_id" in getattr(exc, "error_dict", {}):
            # Taken by a concurrent run between our check and the insert.
            return IntakeItem(source.name, Outcome.ALREADY_TAKEN, received_at=received_at)
        return IntakeItem(
            source.name,
            Outcome.MALFORMED,
            received_at=received_at,
            notes=(*notes, *_messages(exc)),
        )
    return IntakeItem(
        source.name,
        outcome,
        request_type=request_type,
        received_at=received_at,
        request_id=request.public_id,
        notes=tuple(notes),
        infected=infected,
    )


def _scan_parts(message: EmailMessage) -> list[tuple[str, int, ScanResult]]:
    """``(name, size, verdict)`` of every leaf part of ``message``, decoded (R21).

    Nothing of a part is kept: intake stores no attachments, so an infected one
    is "dropped" by being named in the notes and never copied anywhere.
    """
    scanned = []
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, TypeError, LookupError):
            payload = None
        if not isinstance(payload, bytes) or not payload:
            continue
        try:
            filename = part.get_filename()
        except (ValueError, TypeError, IndexError):
            filename = None
        name = f"“{filename}”" if filename else str(MESSAGE_TEXT)
        scanned.append((name, len(payload), scan(payload, name=name)))
    return scanned


def _sender(message: EmailMessage) -> tuple[str, str]:
    """(normalised sender address, "") or ("", the problem)."""
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except (ValueError, TypeError, IndexError):
        addresses = ()
        header = None
    if header is None or not str(header).strip():
        return "", str(ERROR_NO_FROM)
    address = addresses[0].addr_spec if addresses else str(header)
    try:
        return normalise_email(address), ""
    except ValidationError:
        return "", str(ERROR_BAD_FROM % {"address": repr(address)})


def _received_at(message: EmailMessage) -> tuple[datetime | None, str]:
    """(the aware moment of the Date header or None if absent, "") or (None, problem)."""
    raw = message.get_all("Date")
    if not raw:
        return None, ""
    header = raw[0]
    try:
        value = getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError):
        value = None
    if not isinstance(value, datetime):
        # The parsed header of a bad date is empty; show what the sender wrote.
        written = next((v for k, v in message.raw_items() if k.lower() == "date"), "")
        return None, str(ERROR_BAD_DATE % {"value": repr(str(written).strip())})
    if timezone.is_naive(value):
        # RFC 5322 "-0000": the time is UTC, the sender's local zone unknown.
        value = value.replace(tzinfo=UTC)
    return value, ""


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(message: EmailMessage) -> str:
    """The message's readable text (plain preferred, else HTML without tags)."""
    try:
        body = message.get_body(preferencelist=("plain", "html"))
        if body is None:
            return ""
        content = body.get_content()
    except (KeyError, LookupError, UnicodeError, ValueError):
        # An undecodable body leaves the subject to classify by.
        return ""
    if not isinstance(content, str):
        return ""
    if body.get_content_subtype() == "html":
        parser = _TextOnly()
        parser.feed(content)
        return " ".join(parser.parts)
    return content


def _messages(exc: ValidationError) -> tuple[str, ...]:
    if hasattr(exc, "error_dict"):
        return tuple(
            f"{name}: {message}" for name, messages in exc.message_dict.items()
            for message in messages
        )
    return tuple(exc.messages)


# --- command line -----------------------------------------------------------------


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
