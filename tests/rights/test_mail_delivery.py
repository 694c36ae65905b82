"""The rights e-mails travel over real SMTP: the verification code and the extension notice.

Each test sends through Django's SMTP backend to the ``smtp_server`` fixture
(tests/mail.py), a real aiosmtpd server on 127.0.0.1, and reads what the server
received: envelope sender and recipients, headers, decoded body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from django.conf import settings
from django.utils import translation

from personvern.core.models import AuditEntry, EmailIdentity
from personvern.rights import services
from personvern.rights.models import Request, RequestStatus, VerificationMethod
from personvern.worker.models import MailState, OutgoingMail
from personvern.worker.outbox import deliver_due
from tests.mail import SMTPTestServer
from tests.rights.conftest import ACTOR, oslo

pytestmark = pytest.mark.django_db

# The code stands alone on an indented line of the message (verification.txt).
CODE_LINE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


def _address(request: Request) -> str:
    return EmailIdentity.objects.get(person=request.person).address


@pytest.mark.req("R32")
@pytest.mark.req("R40")
@pytest.mark.parametrize(
    ("lang", "subject", "sentence"),
    [
        (
            "nb",
            "Personvernhenvendelsen din: bekreftelseskode",
            "Oppgi denne koden for å bekrefte at henvendelsen kommer fra deg:",
        ),
        (
            "en",
            "Your privacy request: confirmation code",
            "To confirm that the request comes from you, give us this code:",
        ),
    ],
    ids=["nb", "en"],
)
def test_verification_code_arrives_over_smtp_and_verifies_the_request(
    smtp_server: SMTPTestServer,
    make_request: Callable[..., Request],
    lang: str,
    subject: str,
    sentence: str,
) -> None:
    request = make_request()
    address = _address(request)
    # The code e-mail is written in the language active when staff (or the web
    # form) send it; the request itself carries no language.
    with translation.override(lang):
        services.request_send_verification(
            request=request, actor=ACTOR, now=oslo(2025, 3, 6, 10, 0)
        )

    received = smtp_server.wait_for(1)
    assert len(received) == 1
    sent = received[0]
    assert sent.rcpt_tos == [address]
    assert sent.mail_from == settings.DEFAULT_FROM_EMAIL
    assert sent.message["From"] == settings.DEFAULT_FROM_EMAIL
    assert sent.message["To"] == address
    assert sent.message["Subject"] == subject
    assert sentence in sent.body
    assert str(request.public_id) in sent.body

    # The code is read from the delivered message, not from the service's return value.
    codes = CODE_LINE.findall(sent.body)
    assert len(codes) == 1, sent.body
    request = services.request_verify(
        request=request, code=codes[0], actor="public", now=oslo(2025, 3, 7, 8, 0)
    )
    assert request.verification_method == VerificationMethod.CODE
    assert request.status == RequestStatus.IN_PROGRESS
    assert request.verified_at == oslo(2025, 3, 7, 8, 0)


@pytest.mark.req("R32")
@pytest.mark.req("R40")
@pytest.mark.parametrize(
    ("lang", "subject", "sentence"),
    [
        (
            "nb",
            "Personvernhenvendelsen din: vi trenger mer tid",
            "Vi svarer senest 2025-06-05.",
        ),
        (
            "en",
            "Your privacy request: we need more time",
            "We will answer at the latest on 2025-06-05.",
        ),
    ],
    ids=["nb", "en"],
)
def test_extension_notice_arrives_over_smtp_and_is_recorded(
    smtp_server: SMTPTestServer,
    make_request: Callable[..., Request],
    lang: str,
    subject: str,
    sentence: str,
) -> None:
    request = make_request(received_at=oslo(2025, 3, 5, 10, 0))
    address = _address(request)
    now = oslo(2025, 4, 7, 15, 0)
    request = services.request_extend(
        request=request,
        months=2,
        reason="Many records in archives",
        actor=ACTOR,
        now=now,
        lang=lang,
    )

    received = smtp_server.wait_for(1)
    assert len(received) == 1
    sent = received[0]
    assert sent.rcpt_tos == [address]
    assert sent.mail_from == settings.DEFAULT_FROM_EMAIL
    assert sent.message["Subject"] == subject
    assert sentence in sent.body
    assert "Many records in archives" in sent.body
    assert str(request.public_id) in sent.body
    assert request.due_legal == date(2025, 6, 5)
    assert request.extension_notified_at == now
    entry = AuditEntry.objects.get(action="rights.request.extended")
    assert entry.data["notified"] is True


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_refused_verification_mail_is_recorded_against_the_message(
    smtp_server: SMTPTestServer, make_request: Callable[..., Request]
) -> None:
    """The code is queued with the step that records it; a permanent refusal stays on the
    message for the data protection officer to see, with the server's answer (ADR 0014)."""
    request = make_request()
    smtp_server.refuse(_address(request))

    services.request_send_verification(request=request, actor=ACTOR, now=oslo(2025, 3, 6, 10, 0))
    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 1, "skipped": 0}

    assert smtp_server.messages == []
    mail = OutgoingMail.objects.get(kind="rights-verification-code")
    assert mail.state == MailState.FAILED
    assert mail.last_error.startswith("550 ")
    assert mail.recipients == _address(request)
    assert mail.person == request.person


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_extension_and_its_notice_commit_together(
    smtp_server: SMTPTestServer, make_request: Callable[..., Request]
) -> None:
    """The notice is queued in the extension's transaction and goes out once it commits."""
    request = make_request(received_at=oslo(2025, 3, 5, 10, 0))
    address = _address(request)
    request = services.request_extend(
        request=request,
        months=1,
        reason="Many records in archives",
        actor=ACTOR,
        now=oslo(2025, 4, 1, 9, 5),
    )
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [[address]]
    assert request.extended_by_months == 1
    assert request.extension_notified_at == oslo(2025, 4, 1, 9, 5)
    assert OutgoingMail.objects.get(kind="rights-extension-notice").state == MailState.SENT
