"""Reading one e-mail message: sender, date, text, the right it names, its parts scanned."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
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
ERROR_BAD_DATE = _("The Date header %(value)s is not a valid date.")


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


def sender_address(message: EmailMessage) -> tuple[str, str]:
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


def date_received(message: EmailMessage) -> tuple[datetime | None, str]:
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
