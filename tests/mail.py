"""A real SMTP server for tests: ``smtp_server``.

pytest-django switches Django to the in-memory (locmem) e-mail backend, which
never opens a connection, never turns a message into bytes on a wire and never
lets a server refuse a recipient. Tests that check what people receive use this
fixture instead: it starts an aiosmtpd server on 127.0.0.1 on a free port in a
thread, points Django's SMTP backend at it for the test, and collects what
arrives. ``smtp_server.refuse(address)`` makes the server answer ``550`` to that
recipient, as a real server does for an unknown mailbox.

Registered suite-wide by ``pytest_plugins = ["tests.mail"]`` in tests/conftest.py.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pytest_django.fixtures import Settings

#: Upper bound on how long a test waits for mail; the SMTP backend hands the
#: message over before ``send_mail`` returns, so this is only a safety net.
DEFAULT_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server accepted it: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        """The plain-text body, decoded (Django sends quoted-printable/base64 as needed)."""
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "the message has no text/plain part"
        content = part.get_content()
        assert isinstance(content, str)
        return content


class SMTPTestServer:
    """What the running server received, and the recipients it refuses.

    Also the aiosmtpd handler: the ``handle_*`` hooks run in the server's thread.
    """

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.messages: list[ReceivedMessage] = []
        self._refused: dict[str, str] = {}
        self._arrived = threading.Condition()

    def refuse(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        """Answer ``reply`` (a 4xx or 5xx line) to RCPT TO for ``address`` (case-insensitive)."""
        self._refused[address.lower()] = reply

    def accept(self, address: str) -> None:
        """Accept mail for ``address`` again after :meth:`refuse`."""
        self._refused.pop(address.lower(), None)

    def wait_for(self, count: int, timeout: float = DEFAULT_WAIT_SECONDS) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages have arrived; fail the test if they do not.

        Mail is queued with the change that causes it (personvern.worker.outbox);
        this first does what the worker would: send every queued message that is
        due, through the real SMTP server.
        """
        from personvern.worker.outbox import deliver_due

        deliver_due()
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            if not arrived:
                pytest.fail(
                    f"expected {count} message(s) at the test SMTP server within {timeout}s, "
                    f"got {len(self.messages)}"
                )
            return list(self.messages)

    # --- aiosmtpd handler hooks ------------------------------------------------

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd calls
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self._refused.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        received = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            message=parsed,
        )
        with self._arrived:
            self.messages.append(received)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"


def _free_port(host: str) -> int:
    # aiosmtpd's Controller connects to its own port once started, so it needs a
    # concrete port rather than 0; the OS picks one that is free right now.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[SMTPTestServer]:
    """A real SMTP server on 127.0.0.1 that Django sends through during the test."""
    server = SMTPTestServer()
    server.port = _free_port(server.host)
    kwargs: dict[str, Any] = {"server_hostname": "personvern-test-smtp"}
    controller = Controller(server, hostname=server.host, port=server.port, **kwargs)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        # A hung server fails the test instead of hanging the run.
        settings.EMAIL_TIMEOUT = DEFAULT_WAIT_SECONDS
        yield server
    finally:
        controller.stop()
