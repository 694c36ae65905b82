"""A mailing's copies, built from a template and sent over several connections (R16, R18).

Issue 10, docs/decisions/0032. A copy differs from the next only in its To
header, Date, Message-ID and the tokens of its links (unsubscribe, the open
image, each tracked link). :class:`CopyTemplate` renders and encodes everything
else once per mailing, with Django's own mail classes: it builds one sample copy
whose tokens are placeholders, keeps its bytes, and per copy joins the kept
pieces with that copy's tokens and headers. The text and HTML parts go out as
8-bit UTF-8, where the placeholders stand in the bytes as they are; a text whose
lines could grow past RFC 5322's 998 characters would be encoded differently by
Django (quoted-printable), and is built the ordinary way, copy by copy, instead.
Headers that vary are folded by the same policy (``compat32``, 78 characters)
Django's generator uses, and the recipient's name is encoded as Django encodes it
(encoded words for a name that is not ASCII). The tests build copies both ways
and compare them header by header and part by part.

:func:`send_batch` sends one batch over ``connections`` SMTP connections in
threads (the work is waiting for the server); each thread opens its own
connection from Django's settings for the batch, builds its copies and hands
each to the server, and reports what the server refused per copy. Threads touch
no database: the caller records refusals and progress.
"""

from __future__ import annotations

import email.policy
import re
import secrets
import smtplib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.charset import Charset
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME
from django.urls import reverse
from django.utils import translation

from personvern.newsletter.models import Newsletter, Subscription
from personvern.worker.outbox import StoredEmail, refusal_of_copy

#: What Django's generator folds headers with (``EmailMessage.message()`` is compat32).
_FOLDING = email.policy.compat32.clone(linesep="\r\n")
#: RFC 5322's limit on a line, which Django's choice of 8-bit encoding keeps to.
_LINE_LIMIT = 998
#: Headers that differ from copy to copy; the rest of the sample's are kept as bytes.
_PER_COPY = {b"to", b"date", b"message-id", b"list-unsubscribe"}


@dataclass(frozen=True)
class Recipient:
    """One copy's recipient: the subscription, the person, the name and the address."""

    subscription_id: int
    person_id: int
    name: str
    address: str


def _header(name: str, value: str) -> bytes:
    """The header as Django's generator writes it: folded at 78 characters (compat32)."""
    line = f"{name}: {value}"
    if line.isascii():
        if len(line) <= 78:
            return line.encode() + b"\r\n"
        if not _FOLDS.search(value):
            # One word that cannot be split (an address in angle brackets): compat32
            # puts it on a continuation line of its own.
            return f"{name}: \r\n {value}\r\n".encode()
    return _FOLDING.fold_binary(name, value)


_UTF8 = Charset("utf-8")
#: Where compat32 may fold a header (its split characters).
_FOLDS = re.compile(r"[;, \t]")
#: A name Django writes as it is, and an address it leaves alone.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 '-]{0,58}[A-Za-z0-9])?")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}")


def to_header(name: str, address: str) -> str:
    """The To header's value for ``name`` and ``address``, as Django makes it from
    ``formataddr((name, address))``: the name as it is, or one encoded word
    (base64, UTF-8) for a name beyond ASCII. Names and addresses out of the
    ordinary go through Django's own parsing and encoding."""
    if _PLAIN_ADDRESS.fullmatch(address):
        if not name:
            return address
        if _PLAIN_NAME.fullmatch(name):
            return f"{name} <{address}>"
        if not name.isascii() and name.isprintable() and name == name.strip():
            encoded = _UTF8.header_encode(name)  # base64 or quoted-printable, the shorter
            if len(encoded) <= 75:
                return f"{encoded} <{address}>"
    return _django_to_header(name, address)


def _django_to_header(name: str, address: str) -> str:
    return ", ".join(
        sanitize_address(pair, "utf-8") for pair in getaddresses([formataddr((name, address))])
    )


class CopyTemplate:
    """One mailing's copies: the shared parts rendered and encoded once (see the module)."""

    def __init__(self, newsletter: Newsletter) -> None:
        from personvern.newsletter.selectors import encoded_url, token_makers
        from personvern.newsletter.services import CopyTokens, _copy

        self.newsletter = newsletter
        self.language = translation.get_language()
        self._unsubscribe, self._open, self._click = token_makers()
        nonce = secrets.token_hex(8)
        self._links: list[str] = []

        def click(url: str) -> str:
            if url not in self._links:
                self._links.append(url)
            return f"pv{nonce}c{self._links.index(url)}z"

        placeholders = CopyTokens(unsubscribe=f"pv{nonce}uz", open=f"pv{nonce}oz", click=click)
        sample = _copy(newsletter, Subscription(), "sample@example.invalid", name="",
                       tokens=placeholders)
        self._encoded_links = [encoded_url(url) for url in self._links]
        unsubscribe = reverse("newsletter:unsubscribe", args=["TOKEN"]).split("TOKEN")
        self._unsubscribe_around = (
            f"<{settings.PERSONVERN_BASE_URL}{unsubscribe[0]}", f"{unsubscribe[1]}>")
        self.from_email = sanitize_address(sample.from_email, "utf-8")
        self.fast = self._fits_eight_bit(sample, nonce)
        if not self.fast:
            return
        raw = _wire_bytes(sample)
        head, body = raw.split(b"\r\n\r\n", 1)
        self._head_before, self._head_after = self._split_head(head)
        pieces = re.split(rb"pv" + nonce.encode() + rb"([uo]|c\d+)z", body)
        self._literals = pieces[0::2]
        self._slots = [piece.decode() for piece in pieces[1::2]]

    def _fits_eight_bit(self, sample: mail.EmailMultiAlternatives, nonce: str) -> bool:
        """Whether every copy's parts go out 8-bit, as the sample's do: no line can pass
        the limit with the longest token in place of each placeholder."""
        from django.db.models import Max

        # A subscription's id has at most one digit more than the largest there is now.
        largest = Subscription.objects.aggregate(largest=Max("pk"))["largest"] or 0
        ids = len(str(largest)) + 1
        signature = 3 + 1 + 22  # version, separator, signature
        longest = {"u": signature + ids, "o": signature + ids + 1 + len(str(self.newsletter.pk))}
        for index, encoded in enumerate(self._encoded_links):
            longest[f"c{index}"] = longest["o"] + 1 + len(encoded)
        parts = [str(sample.body), *(str(content) for content, _type in sample.alternatives)]
        for text in parts:
            filled = re.sub(rf"pv{nonce}([uo]|c\d+)z", lambda m: "x" * longest[m.group(1)], text)
            if any(len(line.encode()) > _LINE_LIMIT for line in filled.splitlines()):
                return False
        return True

    @staticmethod
    def _split_head(head: bytes) -> tuple[bytes, bytes]:
        """The sample's headers before and after the ones made per copy."""
        fields: list[bytes] = []
        for line in head.split(b"\r\n"):
            if line[:1] in (b" ", b"\t") and fields:
                fields[-1] += b"\r\n" + line
            else:
                fields.append(line)
        before: list[bytes] = []
        after: list[bytes] = []
        seen = False
        for item in fields:
            name = item.split(b":", 1)[0].strip().lower()
            if name in _PER_COPY:
                seen = True
                continue
            (after if seen else before).append(item + b"\r\n")
        return b"".join(before), b"".join(after) + b"\r\n"

    def tokens(self, subscription_id: int | None) -> dict[str, str]:
        """Each placeholder's token for one copy."""
        newsletter_id = self.newsletter.pk
        values = {
            "u": self._unsubscribe(subscription_id),
            "o": self._open(subscription_id, newsletter_id),
        }
        for index, encoded in enumerate(self._encoded_links):
            values[f"c{index}"] = self._click(subscription_id, newsletter_id, encoded)
        return values

    def build(self, recipient: Recipient) -> bytes:
        """One copy, ready for the wire (CRLF line ends)."""
        if not self.fast:
            return self._build_slowly(recipient)
        values = self.tokens(recipient.subscription_id)
        literals, slots = self._literals, self._slots
        out = [
            self._head_before,
            _header("To", to_header(recipient.name, recipient.address)),
            _header("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
            _header("Message-ID", make_msgid(domain=str(DNS_NAME))),
            _header("List-Unsubscribe", values["u"].join(self._unsubscribe_around)),
            self._head_after,
            literals[0],
        ]
        for slot, literal in zip(slots, literals[1:], strict=True):
            out.append(values[slot].encode())
            out.append(literal)
        return b"".join(out)

    def _build_slowly(self, recipient: Recipient) -> bytes:
        from personvern.newsletter.services import _copy

        with translation.override(self.language):
            copy = _copy(self.newsletter, Subscription(pk=recipient.subscription_id),
                         recipient.address, name=recipient.name)
            return _wire_bytes(copy)

    def stored(self, raw: bytes, recipient: Recipient) -> StoredEmail:
        """A built copy as a Django message (for the outbox, or a backend that is not SMTP)."""
        message = StoredEmail(raw, [recipient.address])
        message.subject = self.newsletter.subject
        return message


@dataclass
class Refused:
    """A copy the server answered about (a 4xx or 5xx), for the caller to record."""

    recipient: Recipient
    raw: bytes
    error: Exception


@dataclass
class SliceResult:
    delivered: int = 0
    refused: list[Refused] = field(default_factory=list)


def _wire_bytes(message: mail.EmailMessage) -> bytes:
    """``message`` as Django's SMTP backend puts it on the wire."""
    mime: Any = message.message()  # Django's SafeMIME classes take a line separator
    return bytes(mime.as_bytes(linesep="\r\n"))


def _send_slice(template: CopyTemplate, recipients: Sequence[Recipient]) -> SliceResult:
    result = SliceResult()
    connection = mail.get_connection(fail_silently=False)
    smtp_backend = connection if isinstance(connection, SMTPBackend) else None
    with connection:
        for recipient in recipients:
            try:
                raw = template.build(recipient)
            except ValueError as exc:  # an address or name the mail header cannot carry
                result.refused.append(Refused(recipient, b"", exc))
                continue
            try:
                if smtp_backend is not None and smtp_backend.connection is not None:
                    # The bytes as they are: Django's backend would serialise them again.
                    envelope = (recipient.address if recipient.address.isascii()
                                else sanitize_address(recipient.address, "utf-8"))
                    smtp_backend.connection.sendmail(template.from_email, [envelope], raw)
                else:
                    connection.send_messages([template.stored(raw, recipient)])
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                # An answer about this copy (its recipient, its content): the others
                # still get theirs. Anything about the connection or our own
                # configuration stops the batch instead.
                if refusal_of_copy(exc) is None:
                    raise
                result.refused.append(Refused(recipient, raw, exc))
            else:
                result.delivered += 1
    return result


def send_batch(
    template: CopyTemplate, recipients: Sequence[Recipient], *, connections: int,
    pool: ThreadPoolExecutor | None,
) -> SliceResult:
    """Send one batch over up to ``connections`` connections; what was delivered and refused.

    Every thread finishes its share before this returns or raises (the first error
    of any share), so nothing of the batch is still going out when the caller
    records it, or lets the mailing go after an error.
    """
    count = max(1, min(connections, len(recipients)))
    if count == 1 or pool is None:
        return _send_slice(template, recipients)
    shares = [recipients[i::count] for i in range(count)]
    futures = [pool.submit(_send_slice, template, share) for share in shares]
    total = SliceResult()
    error: BaseException | None = None
    for future in futures:
        try:
            part = future.result()
        except BaseException as exc:  # noqa: BLE001 - re-raised once all shares are done
            error = error or exc
            continue
        total.delivered += part.delivered
        total.refused.extend(part.refused)
    if error is not None:
        raise error
    return total
