"""Outgoing mail: queued with the change that causes it, sent by the worker.

Safety design:

- :func:`queue_mail` inserts an :class:`OutgoingMail` row in the caller's
  transaction, due at once. A change that rolls back takes its mail with it; a
  change that commits cannot lose its mail, whatever happens to the process
  afterwards. Every round of the worker sends what is due (:func:`deliver_due`,
  one indexed query when nothing is): the row is the queue, so a request that
  causes mail pays for one insert, not also for a task record (ADR 0036).
- :func:`queue_built` does the same for a message the worker writes when it
  sends it: the row names a registered builder and its arguments (row ids), and
  :func:`deliver` calls the builder. A request that causes such a mail pays for
  one small insert, not for templates, a calendar file and MIME (ADR 0031).
- :func:`deliver` claims a message by moving its ``next_attempt_at`` a lease
  ahead in one conditional UPDATE, so two workers never send the same message
  at once, and sends outside any transaction (no row lock held during SMTP). A
  worker killed after claiming leaves the message to a later round once the
  lease has passed: delivery is at least once, never silently dropped.
- Attachments pass the virus scanner before every send, failing closed: a
  scanner that cannot answer keeps the message queued; malware fails it.
- A temporary refusal (4xx, a connection that fails) is retried with
  exponential backoff (the row's ``next_attempt_at``); a permanent one (5xx) is
  recorded against the message, which keeps its recipients and the server's
  answer so staff can act on it.
- A sent message is emptied: its content and recipients are cleared, so the
  outbox is not a second archive of what we wrote to people.
"""

from __future__ import annotations

import email.policy
import enum
import logging
import re
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses
from io import BytesIO
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import sanitize_address
from django.db.models import F
from django.utils import timezone

from personvern.core.prepared import PreparedInsert
from personvern.worker.models import MailState, OutgoingMail

if TYPE_CHECKING:
    from personvern.core.models import Person

logger = logging.getLogger(__name__)

#: How long a claimed message is left to its worker before the sweep takes it over.
CLAIM_LEASE = timedelta(minutes=10)
#: Backoff after the n-th temporary refusal: 1, 2, 4 … minutes, at most 6 hours.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
#: Temporary refusals before a message is given up (about three days of trying).
MAX_ATTEMPTS = 20
#: Longest server answer kept against a message.
MAX_ERROR_CHARS = 500

Attachment = tuple[str, bytes, str]  # (file name, content, MIME type)


#: Builders of messages written at send time, by name (:func:`register_builder`).
Builder = Callable[["OutgoingMail"], EmailMessage | None]
_BUILDERS: dict[str, Builder] = {}
_MAIL_INSERT = PreparedInsert(OutgoingMail)


def register_builder(name: str, builder: Builder) -> None:
    """Register ``builder`` under ``name`` for :func:`queue_built` (at import of its app).

    It is given the queued row (its ``builder_args``, ``recipients``, ``queued_at``,
    ``person_id``) and returns the message to send to ``recipients``, or None when
    what it was about is gone (the message is then recorded as refused).
    """
    _BUILDERS[name] = builder


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # not due, already sent, or claimed by another worker


def queue_mail(
    *,
    to: str,
    subject: str,
    body: str,
    kind: str,
    attachments: Sequence[Attachment] = (),
    person: Person | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    now: datetime | None = None,
) -> OutgoingMail:
    """Queue a plain-text message to one address; the worker sends it once the caller's
    transaction commits.

    ``kind`` names the message for the back office (``registration-receipt``);
    ``person`` links it to its data subject (an erasure removes unsent mail).
    An address the mail backend could not use is refused here (``ValueError``),
    not discovered by the worker.
    """
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[usable_address(to)],
        reply_to=[usable_address(reply_to)] if reply_to else [],
        headers=headers or {},
    )
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return queue_message(message, kind=kind, person=person, now=now)


def queue_mail_each(*, to: Sequence[str], **kwargs: Any) -> list[OutgoingMail]:
    """Queue the same message to each address as a message of its own, so that one
    refused address is recorded against its own copy and the others still go."""
    return [queue_mail(to=address, **kwargs) for address in dict.fromkeys(to)]


def queue_message(
    message: EmailMessage, *, kind: str, person: Person | None = None,
    now: datetime | None = None,
) -> OutgoingMail:
    """Queue a message built by the caller (a newsletter copy with its own headers)."""
    recipients = message.recipients()
    if len(recipients) != 1:
        raise ValueError("A queued message goes to exactly one address.")
    now = now or timezone.now()
    content = message.message().as_bytes()  # before the insert: an error here writes nothing
    return OutgoingMail.objects.create(
        kind=kind,
        person=person,
        recipients=recipients[0],
        subject=str(message.subject)[:998],
        message=content,
        attachment_count=len(message.attachments),
        queued_at=now,
        # Due at once, even when the change is dated ahead (``--as-of``).
        next_attempt_at=min(now, timezone.now()),
    )


def queue_built(
    *,
    builder: str,
    args: dict[str, Any],
    to: str,
    subject: str,
    kind: str,
    person: Person | None = None,
    now: datetime | None = None,
) -> OutgoingMail:
    """Queue a message that the worker writes when it sends it (``builder``, registered
    with :func:`register_builder`, called with the row); in the caller's transaction,
    like :func:`queue_mail`. ``args`` are ids, not personal data; ``to`` and
    ``subject`` are stored as for any message (the back office lists them)."""
    if builder not in _BUILDERS:
        raise ValueError(f"No mail builder named {builder!r}.")
    now = now or timezone.now()
    to = usable_address(to)
    mail = OutgoingMail(
        kind=kind, person=person, recipients=to, subject=subject[:998],
        message=None, builder=builder, builder_args=args, queued_at=now,
        next_attempt_at=min(now, timezone.now()),
    )
    _MAIL_INSERT.create(mail)  # the statement written once: a registration's hot path
    return mail


def _built(mail: OutgoingMail, recipients: list[str]) -> EmailMessage | None:
    """The message ``mail``'s builder writes now, addressed to its stored recipients."""
    builder = _BUILDERS.get(mail.builder)
    if builder is None:
        raise LookupError(f"no mail builder named {mail.builder!r}")
    message = builder(mail)
    if message is not None:
        message.to, message.cc, message.bcc = recipients, [], []
    return message


#: A bare ASCII address in dot-atom form (RFC 5322 3.4.1 with a host name): one the
#: mail backend always takes as it is, known without parsing it as a header.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def usable_address(address: str) -> str:
    """``address`` if it is one address the mail backend can send to; else ``ValueError``.

    A plain address (most are) is recognised by :data:`_PLAIN_ADDRESS`; any other is
    parsed as the backend would parse it (the header parser is slow: about 6 % of a
    registration's CPU, ADR 0036)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return address
    parsed = getaddresses([address])
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        raise ValueError("Not one e-mail address.")
    try:
        sanitize_address(address, settings.DEFAULT_CHARSET)
    except ValueError:
        raise ValueError("Not an e-mail address the mail backend can use.") from None
    return address


class _StoredMessage(Message):
    """A parsed stored message that Django's mail backends can serialise again."""

    def as_bytes(self, unixfrom: bool = False, policy: Any = None, linesep: str = "\n") -> bytes:
        out = BytesIO()
        BytesGenerator(out, mangle_from_=False, policy=self.policy.clone(linesep=linesep)).flatten(
            self, unixfrom=unixfrom
        )
        return out.getvalue()


class StoredEmail(EmailMessage):
    """An :class:`EmailMessage` whose MIME form is the bytes stored at queue time."""

    def __init__(self, raw: bytes, recipients: list[str]) -> None:
        parsed = BytesParser(_class=_StoredMessage, policy=email.policy.compat32).parsebytes(raw)
        super().__init__(
            subject=str(parsed.get("Subject", "")),
            from_email=str(parsed.get("From", settings.DEFAULT_FROM_EMAIL)),
            to=recipients,
        )
        self._parsed = parsed

    def message(self, *, policy: Any = None) -> Any:  # noqa: ARG002 - Django's signature
        return self._parsed


@dataclass(frozen=True)
class _Refusal:
    permanent: bool
    detail: str


#: Errors about our side (credentials, sender, greeting), not the message: a
#: configuration mistake must not fail every queued message for good.
_OUR_SIDE = (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused,
             smtplib.SMTPHeloError, smtplib.SMTPConnectError)


def _classify(exc: Exception) -> _Refusal:
    """Whether an SMTP error is worth retrying (4xx, connection trouble, our own
    configuration) or final (5xx about this message)."""
    if isinstance(exc, _OUR_SIDE):
        code = getattr(exc, "smtp_code", "")
        return _Refusal(permanent=False, detail=f"{type(exc).__name__} {code}".strip())
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        detail = "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
        return _Refusal(permanent=all(500 <= c < 600 for c in codes), detail=detail)
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        return _Refusal(permanent=500 <= exc.smtp_code < 600, detail=f"{exc.smtp_code} {text}")
    return _Refusal(permanent=False, detail=f"{type(exc).__name__}: {exc}")


def refusal_of_copy(exc: Exception) -> _Refusal | None:
    """How a bulk sender treats an SMTP answer about one copy: a refusal (temporary or
    final), or None when the answer is about the connection or our configuration."""
    if isinstance(exc, _OUR_SIDE):
        return None
    return _classify(exc)


def record_refused(message: EmailMessage, *, kind: str, person: Person | None,
                   detail: str) -> OutgoingMail:
    """Record a copy a bulk sender had finally refused, for staff to see (never sent)."""
    now = timezone.now()
    return OutgoingMail.objects.create(
        kind=kind, person=person, recipients="\n".join(message.recipients()),
        subject=str(message.subject)[:998], message=message.message().as_bytes(),
        attachment_count=len(message.attachments), state=MailState.FAILED, queued_at=now,
        next_attempt_at=now, failed_at=now, last_error=detail[:MAX_ERROR_CHARS],
    )


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` temporary refusals."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY)


def _attachments(parsed: Message) -> list[bytes]:
    """The bytes of every attachment, a forwarded message (``message/rfc822``) whole."""
    found = []
    for part in parsed.walk():
        if part is parsed or part.get_content_maintype() == "multipart":
            continue
        if part.get_content_disposition() != "attachment" and part.get_filename() is None:
            continue
        if part.get_content_type() == "message/rfc822" or part.is_multipart():
            found.append(part.as_bytes())
            continue
        content = part.get_payload(decode=True)
        found.append(content if isinstance(content, bytes) else b"")
    return found


def _attachment_refusal(parsed: Message, expected: int) -> _Refusal | None:
    """Scan every attachment; the refusal that stops the send, or None when all are clean.

    Fails closed: fewer attachments found than were queued is a refusal too.
    """
    from personvern.core.scanning import Verdict, scan

    contents = _attachments(parsed)
    if len(contents) < expected:
        return _Refusal(permanent=True, detail="an attachment could not be found to scan")
    for index, content in enumerate(contents):
        result = scan(content, name=f"attachment {index}")
        if result.verdict == Verdict.INFECTED:
            return _Refusal(
                permanent=True,
                detail=f"an attachment was refused by the virus scanner ({result.signature})",
            )
        if result.verdict == Verdict.ERROR and not result.too_large:
            return _Refusal(permanent=False, detail="the virus scanner could not be reached")
        if result.verdict == Verdict.ERROR:
            return _Refusal(permanent=True, detail="an attachment is too large to be scanned")
    return None


def _claim(mail_id: int, now: datetime) -> OutgoingMail | None:
    claimed = OutgoingMail.objects.filter(
        pk=mail_id, state=MailState.QUEUED, next_attempt_at__lte=now
    ).update(next_attempt_at=now + CLAIM_LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return OutgoingMail.objects.get(pk=mail_id)


def deliver(mail_id: int, *, now: datetime | None = None) -> Outcome:
    """Send one queued message if it is due; record what became of it."""
    now = now or timezone.now()
    mail = _claim(mail_id, now)
    if mail is None:
        return Outcome.SKIPPED
    recipients = [r for r in mail.recipients.splitlines() if r]
    stored: EmailMessage | None
    refusal = None
    if mail.builder and mail.message is None:
        try:
            stored = _built(mail, recipients)
        except Exception as exc:  # noqa: BLE001 - recorded against this message
            logger.exception("Outgoing mail %s (%s) could not be written", mail.pk, mail.kind)
            stored, refusal = None, _Refusal(
                permanent=True, detail=f"{type(exc).__name__} while writing the message")
        else:
            if stored is None:
                refusal = _Refusal(permanent=True,
                                   detail="nothing to send: what the message was about is gone")
        expected = len(stored.attachments) if stored is not None else 0
    else:
        stored = StoredEmail(bytes(mail.message or b""), recipients)
        expected = mail.attachment_count
    if refusal is None and expected:
        assert stored is not None
        refusal = _attachment_refusal(stored.message(), expected)
    if refusal is None:
        assert stored is not None
        try:
            get_connection(fail_silently=False).send_messages([stored])
        except (smtplib.SMTPException, OSError) as exc:
            refusal = _classify(exc)
        except Exception as exc:  # noqa: BLE001 - anything else is about this message
            # The type only: the text may carry the address.
            refusal = _Refusal(permanent=True, detail=f"{type(exc).__name__} while sending")
    done = now
    if refusal is None:
        OutgoingMail.objects.filter(pk=mail.pk).update(
            state=MailState.SENT, sent_at=done, message=None, recipients="", subject="",
            last_error="",
        )
        return Outcome.SENT
    detail = refusal.detail[:MAX_ERROR_CHARS]
    if refusal.permanent or mail.attempts >= MAX_ATTEMPTS:
        if not refusal.permanent:
            detail = f"gave up after {mail.attempts} attempts: {detail}"[:MAX_ERROR_CHARS]
        OutgoingMail.objects.filter(pk=mail.pk).update(
            state=MailState.FAILED, failed_at=done, last_error=detail
        )
        logger.warning("Outgoing mail %s (%s) refused permanently", mail.pk, mail.kind)
        return Outcome.FAILED
    retry_at = done + retry_delay(mail.attempts)
    OutgoingMail.objects.filter(pk=mail.pk).update(next_attempt_at=retry_at, last_error=detail)
    return Outcome.RETRY


def deliver_due(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Send queued messages that are due, oldest first, at most ``limit`` (every round of
    the worker, the sweep, and tests); returns counts."""
    now = now or timezone.now()
    counts = {outcome.value: 0 for outcome in Outcome}
    due = OutgoingMail.objects.filter(state=MailState.QUEUED, next_attempt_at__lte=now)
    for mail_id in list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]):
        # Each claim at the time it is made: a lease set from the sweep's start
        # could already be over for the messages reached late in a long sweep.
        counts[deliver(mail_id, now=max(now, timezone.now())).value] += 1
    return counts


def retry_now(mail: OutgoingMail, *, now: datetime | None = None) -> bool:
    """Queue a permanently refused message again (staff fixed the address or the server)."""
    now = now or timezone.now()
    updated = OutgoingMail.objects.filter(pk=mail.pk, state=MailState.FAILED).update(
        state=MailState.QUEUED, next_attempt_at=now, attempts=0, failed_at=None
    )
    return bool(updated)


def purge(*, now: datetime | None = None, keep: timedelta = timedelta(days=30)) -> dict[str, int]:
    """Remove the records of sent and refused messages older than ``keep``."""
    now = now or timezone.now()
    cutoff = now - keep
    sent, _ = OutgoingMail.objects.filter(state=MailState.SENT, sent_at__lt=cutoff).delete()
    failed, _ = OutgoingMail.objects.filter(
        state=MailState.FAILED, failed_at__lt=cutoff
    ).delete()
    return {"sent_removed": sent, "refused_removed": failed}
