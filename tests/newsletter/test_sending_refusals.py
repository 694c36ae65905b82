"""A newsletter copy the mail server refuses affects that copy only (R16).

A final refusal (5xx, at RCPT or at DATA) is recorded against the copy for staff; a
temporary one (4xx) goes to the outbox, which retries it with backoff. Neither sends
the batch's other copies again.
"""

from __future__ import annotations

import smtplib

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from personvern.newsletter.services import newsletter_send
from personvern.worker.models import MailState, OutgoingMail
from personvern.worker.outbox import deliver_due
from tests.mail import SMTPTestServer, _free_port
from tests.newsletter.test_sending import _newsletter, _subscriber


class _DataRefusingServer(SMTPTestServer):
    """Refuses DATA (after RCPT was accepted) for the addresses in ``refuse_data``."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_data: dict[str, str] = {}

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        for rcpt in envelope.rcpt_tos:
            if rcpt.lower() in self.refuse_data:
                return self.refuse_data[rcpt.lower()]
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def data_refusing_smtp(settings: object) -> object:
    server = _DataRefusingServer()
    server.port = _free_port(server.host)
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
        settings.EMAIL_HOST = server.host  # type: ignore[attr-defined]
        settings.EMAIL_PORT = server.port  # type: ignore[attr-defined]
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False  # type: ignore[attr-defined]
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""  # type: ignore[attr-defined]
        settings.EMAIL_TIMEOUT = 5  # type: ignore[attr-defined]
        yield server
    finally:
        controller.stop()



@pytest.mark.django_db
def test_a_newsletter_copy_refused_at_data_does_not_resend_the_batch(
    data_refusing_smtp: _DataRefusingServer,
) -> None:

    for i in range(3):
        _subscriber(f"abonnent{i}@example.no")
    data_refusing_smtp.refuse_data["abonnent1@example.no"] = "554 5.7.1 Message rejected"
    newsletter = _newsletter()
    for _attempt in range(3):  # what send_newsletter's retries do
        try:
            newsletter_send(newsletter=newsletter, actor="test", batch_size=10)
            break
        except smtplib.SMTPDataError:
            continue
    firsts = [m.rcpt_tos[0] for m in data_refusing_smtp.messages]
    assert firsts.count("abonnent0@example.no") == 1, firsts
    assert "abonnent2@example.no" in firsts, firsts
    failed = OutgoingMail.objects.get(kind="newsletter-copy")
    assert (failed.state, failed.recipients) == (MailState.FAILED, "abonnent1@example.no")
    assert failed.last_error.startswith("554")


@pytest.mark.django_db
def test_a_temporarily_refused_copy_is_retried_through_the_outbox(
    smtp_server: SMTPTestServer,
) -> None:
    for i in range(3):
        _subscriber(f"abonnent{i}@example.no")
    smtp_server.refuse("abonnent1@example.no", "450 4.2.0 Greylisted, try again later")
    sent = newsletter_send(newsletter=_newsletter(), actor="test", batch_size=10)
    assert sent.recipient_count == 3
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "abonnent0@example.no", "abonnent2@example.no"]
    retry = OutgoingMail.objects.get(kind="newsletter-copy")
    assert retry.state == MailState.QUEUED
    smtp_server.accept("abonnent1@example.no")
    assert deliver_due(now=retry.next_attempt_at)["sent"] == 1
    later = smtp_server.wait_for(3)[-1]
    assert later.rcpt_tos == ["abonnent1@example.no"]
    assert "/newsletter/unsubscribe/" in later.body  # the copy is the subscriber's own
