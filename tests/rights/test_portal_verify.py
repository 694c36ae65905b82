"""The page to enter a privacy request's confirmation code, linked from the code mail."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import translation

from personvern.rights import services
from personvern.rights.models import Request, RequestStatus, VerificationMethod
from personvern.rights.verification import VERIFICATION_MAX_ATTEMPTS
from tests.mail import SMTPTestServer
from tests.rights.conftest import ACTOR

pytestmark = pytest.mark.django_db

CODE_LINE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
VERIFY_LINK = re.compile(r"(http\S+/privacy/requests/[0-9a-f-]+/verify/)")


def _mailed(smtp_server: SMTPTestServer, request: Request, lang: str = "en") -> tuple[str, str]:
    with translation.override(lang):
        services.request_send_verification(request=request, actor=ACTOR)
    body = smtp_server.wait_for(1)[-1].body
    code, link = CODE_LINE.search(body), VERIFY_LINK.search(body)
    assert code is not None and link is not None, body
    return code.group(1), link.group(1)


@pytest.mark.req("R32")
def test_the_mail_links_to_the_page_where_the_code_confirms_the_request(
    client: Client, make_request: Callable[..., Request], smtp_server: SMTPTestServer, settings
) -> None:
    settings.PERSONVERN_BASE_URL = "https://www.jus.example"
    request = make_request()
    code, link = _mailed(smtp_server, request)
    assert link == f"https://www.jus.example/privacy/requests/{request.public_id}/verify/"
    path = link.removeprefix("https://www.jus.example")
    page = client.get(path, headers={"accept-language": "en"})
    assert page.status_code == 200
    assert b"Confirm your privacy request" in page.content

    response = client.post(path, {"code": f" {code} "}, headers={"accept-language": "en"})
    assert response.status_code == 200
    assert b"Thank you: your request is confirmed" in response.content
    request.refresh_from_db()
    assert request.verification_method == VerificationMethod.CODE
    assert request.status == RequestStatus.IN_PROGRESS
    # Done once: the page now says there is nothing more to do.
    done = client.get(path, headers={"accept-language": "en"})
    assert b"This request needs no code" in done.content


def test_the_norwegian_mail_links_to_the_page(
    make_request: Callable[..., Request], smtp_server: SMTPTestServer
) -> None:
    request = make_request()
    with translation.override("nb"):
        services.request_send_verification(request=request, actor=ACTOR)
    body = smtp_server.wait_for(1)[0].body
    assert "Skriv den inn på denne siden:" in body
    assert f"/privacy/requests/{request.public_id}/verify/" in body


def test_wrong_codes_are_answered_next_to_the_field_and_counted(
    client: Client, make_request: Callable[..., Request], smtp_server: SMTPTestServer
) -> None:
    request = make_request()
    code, _link = _mailed(smtp_server, request)
    path = f"/privacy/requests/{request.public_id}/verify/"
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(1, VERIFICATION_MAX_ATTEMPTS + 1):
        response = client.post(path, {"code": wrong}, headers={"accept-language": "en"})
        assert response.status_code == 200
        assert "The code is wrong." in response.content.decode()
        request.refresh_from_db()
        assert request.verification_attempts == attempt
    # Then even the right code is refused: a new one must be sent.
    response = client.post(path, {"code": code}, headers={"accept-language": "en"})
    assert "Too many wrong codes" in response.content.decode()
    request.refresh_from_db()
    assert request.verified_at is None


@pytest.mark.parametrize("bad", ["", "12345", "abcdef", "1234567"])
def test_a_malformed_code_is_refused_and_not_counted(
    client: Client, make_request: Callable[..., Request], bad: str
) -> None:
    request = make_request()
    path = f"/privacy/requests/{request.public_id}/verify/"
    response = client.post(path, {"code": bad}, headers={"accept-language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The code is six digits." in html or "This field is required." in html
    request.refresh_from_db()
    assert (request.verification_attempts, request.verified_at) == (0, None)


def test_an_unknown_request_is_not_found(client: Client, db: None) -> None:
    assert client.get(
        "/privacy/requests/00000000-0000-0000-0000-000000000000/verify/"
    ).status_code == 404
    assert client.get("/privacy/requests/not-a-uuid/verify/").status_code == 404


def test_entering_codes_is_rate_limited_per_client(
    client: Client, make_request: Callable[..., Request], settings
) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "verify-code": "2/h"}
    request = make_request()
    path = f"/privacy/requests/{request.public_id}/verify/"
    for _ in range(2):
        assert client.post(path, {"code": "123456"}).status_code == 200
    assert client.post(path, {"code": "123456"}).status_code == 429
