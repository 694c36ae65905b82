"""Outgoing mail: queued with the change that causes it, sent by the worker.

Safety design:

- :func:`queue_mail` inserts an :class:`OutgoingMail` row and enqueues its
  delivery task in the caller's transaction. A change that rolls back takes its
  mail with it; a change that commits cannot lose its mail, whatever happens to
  the process afterwards.
- :func:`deliver` claims a message by moving its ``next_attempt_at`` a lease
  ahead in one conditional UPDATE, so two workers never send the same message
  at once, and sends outside any transaction (no row lock held during SMTP). A
  worker killed after claiming leaves the message to the periodic sweep once the
  lease has passed: delivery is at least once, never silently dropped.
- Attachments pass the virus scanner before every send, failing closed: a
  scanner that cannot answer keeps the message queued; malware fails it.
- A temporary refusal (4xx, a connection that fails) is retried with
  exponential backoff; a permanent one (5xx) is recorded against the message,
  which keeps its recipients and the server's answer so staff can act on it.
- A sent message is emptied: its content and recipients are cleared, so the
  outbox is not a second archive of what we wrote to people.
"""

from __future__ import annotations

import email.policy
import enum
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from io import BytesIO
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

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


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # not due, already sent, or claimed by another worker


def queue_mail(
    *,
    to: str | Sequence[str],
    subject: str,
    body: str,
    kind: str,
    attachments: Sequence[Attachment] = (),
    person: Person | None = None,
    reply_to: str | Sequence[str] | None = None,
    headers: dict[str, str] | None = None,
    now: datetime | None = None,
) -> OutgoingMail:
    """Queue a plain-text message; the worker sends it once the caller's transaction commits.

    ``kind`` names the message for the back office (``registration-receipt``);
    ``person`` links it to its data subject (an erasure removes unsent mail).
    """
    now = now or timezone.now()
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("A message needs at least one recipient.")
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[reply_to] if isinstance(reply_to, str) else list(reply_to or []),
        headers=headers or {},
    )
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    with transaction.atomic():
        mail = OutgoingMail.objects.create(
            kind=kind,
            person=person,
            recipients="\n".join(recipients),
            subject=subject[:998],
            message=message.message().as_bytes(),
            attachment_count=len(attachments),
            queued_at=now,
            next_attempt_at=now,
        )
        _enqueue(mail.pk, run_after=None)
    return mail


def _enqueue(mail_id: int, *, run_after: datetime | None) -> None:
    from personvern.worker.tasks import deliver_mail

    task = deliver_mail.using(run_after=run_after) if run_after else deliver_mail
    task.enqueue(mail_id)


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


def _classify(exc: Exception) -> _Refusal:
    """Whether an SMTP error is worth retrying (4xx, connection trouble) or final (5xx)."""
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


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` temporary refusals."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY)


def _attachment_refusal(parsed: Message) -> _Refusal | None:
    """Scan every attachment; the refusal that stops the send, or None when all are clean."""
    from personvern.core.scanning import Verdict, scan

    for index, part in enumerate(parsed.walk()):
        if part.is_multipart() or part.get_filename() is None:
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
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
    raw = bytes(mail.message or b"")
    recipients = [r for r in mail.recipients.splitlines() if r]
    stored = StoredEmail(raw, recipients)
    refusal = _attachment_refusal(stored.message()) if mail.attachment_count else None
    if refusal is None:
        try:
            get_connection(fail_silently=False).send_messages([stored])
        except (smtplib.SMTPException, OSError) as exc:
            refusal = _classify(exc)
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
    with transaction.atomic():
        OutgoingMail.objects.filter(pk=mail.pk).update(next_attempt_at=retry_at, last_error=detail)
        _enqueue(mail.pk, run_after=retry_at)
    return Outcome.RETRY


def deliver_due(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Send every queued message that is due (the sweep, and tests); returns counts."""
    now = now or timezone.now()
    counts = {outcome.value: 0 for outcome in Outcome}
    due = OutgoingMail.objects.filter(state=MailState.QUEUED, next_attempt_at__lte=now)
    for mail_id in list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]):
        counts[deliver(mail_id, now=now).value] += 1
    return counts


def retry_now(mail: OutgoingMail, *, now: datetime | None = None) -> bool:
    """Queue a permanently refused message again (staff fixed the address or the server)."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = OutgoingMail.objects.filter(pk=mail.pk, state=MailState.FAILED).update(
            state=MailState.QUEUED, next_attempt_at=now, attempts=0, failed_at=None
        )
        if updated:
            _enqueue(mail.pk, run_after=None)
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
