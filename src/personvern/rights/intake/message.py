"""Reading one e-mail message: sender, date, text, the right it names, its parts scanned."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import EmailPolicy
from html.parser import HTMLParser

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.scanning import ScanResult, scan
from personvern.core.services import normalise_email
from personvern.rights.models import RequestType

MESSAGE_TEXT = _("the message text")
ERROR_NO_FROM = _("The message has no sender (From header).")
ERROR_BAD_FROM = _("The sender address %(address)s is not a valid e-mail address.")
NOTE_BAD_DATE = _(
    "The Date header %(value)s is not a valid date; the request is dated from when the "
    "message was received."
)
NOTE_IMPLAUSIBLE_DATE = _(
    "The Date header %(value)s cannot be right (before 1970, or later than the message "
    "was received); the request is dated from when the message was received."
)
NOTE_SEVERAL_SENDERS = _(
    "The message is from several addresses (%(addresses)s), so it is not linked to anyone. "
    "Find out whose request it is, register it for that address with the same received "
    "date (personvern rights request TYPE --email ADDRESS --received DATE) and cancel "
    "this one."
)
NOTE_UNSTORABLE_SENDER = _(
    "The sender address %(address)s has letters outside ASCII before the @, which cannot "
    "be stored as an e-mail identity, so the request is not linked to anyone. Answer the "
    "sender from the mailbox, and register the request for an address the person can "
    "use with the same received date (personvern rights request TYPE --email ADDRESS "
    "--received DATE); then cancel this one."
)
NOTE_CONTROL_CHARACTERS = _(
    "The Subject contained control characters (such as NUL) that cannot be stored; they "
    "were left out."
)

#: Longest Subject quoted in a request's notes (a Subject has no limit of its own).
SUBJECT_QUOTED_MAX = 300
#: A Date header this much later than the message arrived cannot be right (clock skew
#: of a few minutes is normal).
DATE_AFTER_ARRIVAL_TOLERANCE = timedelta(minutes=5)
#: A Date header with a four-digit year before this cannot be right.
EARLIEST_PLAUSIBLE_YEAR = 1970


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


class _UTF8Headers(EmailPolicy):
    """``email.policy.default`` reading raw UTF-8 in headers as text (RFC 6532).

    The standard parser reads header bytes as ASCII and keeps anything else as
    surrogate escapes, so ``kåre@blåbær.no`` arrives as ``k\\udcc3\\udca5re@…``.
    Bytes that are not UTF-8 either stay replaced by U+FFFD, never as surrogates
    (which no database can store).
    """

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name, _decoded(value)


def _decoded(value: str) -> str:
    try:
        raw = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return value  # already text
    return raw.decode("utf-8", errors="replace")


INTAKE_POLICY = _UTF8Headers(utf8=True)

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_message(raw: bytes) -> EmailMessage:
    """The message in ``raw``, headers decoded as RFC 6532 UTF-8 where they are."""
    message = email.message_from_bytes(raw, policy=INTAKE_POLICY)
    assert isinstance(message, EmailMessage)
    return message


def storable(text: str) -> str:
    """``text`` without the control characters a database refuses or a reader cannot see
    (NUL above all: PostgreSQL refuses it in any text), and without surrogates."""
    text = _CONTROL_CHARACTERS.sub("", text)
    return text.encode("utf-8", errors="replace").decode("utf-8")


def guess_type(text: str) -> list[str]:
    """The request types whose keywords occur in ``text`` (empty, one or several)."""
    lowered = text.lower()
    return [type_ for type_, pattern in _TYPE_PATTERNS.items() if pattern.search(lowered)]


def scan_parts(message: EmailMessage) -> list[tuple[str, int, ScanResult]]:
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


@dataclass(frozen=True)
class Sender:
    """Who a message is from, as far as intake can link it to a person.

    ``address``: the normalised address to link the request to ("" when it
    cannot be linked). ``unlinked_note``: why a registrable request is not
    linked to anyone. ``problem``: why the message cannot be registered at all.
    """

    address: str = ""
    unlinked_note: str = ""
    problem: str = ""


def sender_address(message: EmailMessage) -> Sender:
    """The sender of ``message`` (its ``From``): one address, or why not.

    Several addresses in ``From`` link the request to none of them (guessing
    would show one person another's data); an address with a non-ASCII local
    part (RFC 6532) cannot be an identity here, and is not linked either. Both
    are registered, with a note, so the deadline runs from receipt.
    """
    try:
        header = message.get("From")
        addresses = tuple(getattr(header, "addresses", ()) if header is not None else ())
    except (ValueError, TypeError, IndexError):
        addresses = ()
        header = None
    if header is None or not str(header).strip():
        return Sender(problem=str(ERROR_NO_FROM))
    if len(addresses) > 1:
        shown = ", ".join(storable(a.addr_spec) for a in addresses)
        return Sender(unlinked_note=str(NOTE_SEVERAL_SENDERS % {"addresses": shown}))
    address = storable(addresses[0].addr_spec if addresses else str(header))
    try:
        return Sender(address=normalise_email(address))
    except ValidationError:
        local, at, domain = address.rpartition("@")
        if at and local and domain and not local.isascii() and _plausible_local_part(local):
            return Sender(unlinked_note=str(NOTE_UNSTORABLE_SENDER % {"address": address}))
        return Sender(problem=str(ERROR_BAD_FROM % {"address": repr(address)}))


def _plausible_local_part(local: str) -> bool:
    """Whether ``local`` is a dot-atom of letters, digits and RFC 5322 atom characters."""
    return all(
        atom and all(c.isalnum() or c in "!#$%&'*+-/=?^_`{|}~" for c in atom)
        for atom in local.split(".")
    )


def date_received(
    message: EmailMessage, *, arrived_at: datetime | None, now: datetime
) -> tuple[datetime | None, str]:
    """The aware moment of the Date header, or None with a note why it cannot be used.

    (None, "") when there is no Date header. A Date that cannot be parsed, whose
    year is written before 1970 (``0000`` is read as 2000 by the standard
    parser) or that lies after the message arrived (``arrived_at``, else
    ``now``, whichever is earlier) cannot be right: the caller dates the request
    from its arrival.
    """
    raw = message.get_all("Date")
    if not raw:
        return None, ""
    header = raw[0]
    # What the sender wrote, for the note (the parsed header of a bad date is empty).
    written = repr(storable(_raw_header(message, "Date")))
    try:
        value = getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError, OverflowError):
        value = None
    if not isinstance(value, datetime):
        return None, str(NOTE_BAD_DATE % {"value": written})
    if timezone.is_naive(value):
        # RFC 5322 "-0000": the time is UTC, the sender's local zone unknown.
        value = value.replace(tzinfo=UTC)
    latest = min(arrived_at or now, now) + DATE_AFTER_ARRIVAL_TOLERANCE
    too_early = (
        _written_year_too_early(_raw_header(message, "Date"))
        or value.year < EARLIEST_PLAUSIBLE_YEAR
    )
    if too_early or value > latest:
        return None, str(NOTE_IMPLAUSIBLE_DATE % {"value": written})
    return value, ""


def _raw_header(message: EmailMessage, name: str) -> str:
    return str(next((v for k, v in message.raw_items() if k.lower() == name.lower()), "")).strip()


def _written_year_too_early(written: str) -> bool:
    # "[Day,] DD Mon YYYY ...": a four-digit year is taken as written. Two- and
    # three-digit years are RFC 5322's obsolete forms (00-49 -> 20xx, else 19xx).
    match = re.search(r"\b\d{1,2}\s+[A-Za-z]{3}\s+(\d+)\b", written)
    year = match.group(1) if match else ""
    return len(year) >= 4 and int(year) < EARLIEST_PLAUSIBLE_YEAR


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def readable_text(message: EmailMessage) -> str:
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
