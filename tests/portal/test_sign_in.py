"""Passwordless sign-in to Min side: a single-use link mailed to an address we hold."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from personvern.core.models import AuditEntry, Person
from personvern.portal.auth import SELF_ACTOR, SESSION_PERSON, SESSION_SIGNED_IN_AT, portal_person
from personvern.portal.models import UsedSignInLink
from personvern.portal.signin import sign_in_token, used_links_purge
from personvern.worker.models import OutgoingMail
from tests.mail import SMTPTestServer

pytestmark = pytest.mark.django_db

LINK = re.compile(r"(http\S+/me/sign-in/link/[^/\s]+/)")


def _ask(client: Client, email: str, next_path: str = "") -> str:
    response = client.post("/me/sign-in/", {"email": email, "next": next_path},
                           headers={"accept-language": "en"})
    assert response.status_code == 302
    assert response["Location"] == "/me/sign-in/sent/"
    html = client.get(response["Location"], headers={"accept-language": "en"}).content.decode()
    # The page's main part (the rest carries per-client CSRF tokens).
    return html[html.index("<main"):html.index("</main>")]


@pytest.mark.req("R33")
def test_a_known_address_gets_a_link_that_signs_in_once(
    client: Client, make_person: Callable[..., Person], smtp_server: SMTPTestServer, settings
) -> None:
    settings.PERSONVERN_BASE_URL = "https://www.jus.example"
    person = make_person(email="kari@example.org")
    page = _ask(client, "Kari@Example.org ")
    assert "If we know this address, a link to sign in is on its way" in page
    message = smtp_server.wait_for(1)[0]
    assert message.rcpt_tos == ["kari@example.org"]
    assert message.message["Subject"] == "Your sign-in link to My page"
    link = LINK.search(message.body)
    assert link is not None, message.body
    path = link.group(1).removeprefix("https://www.jus.example")
    assert "15 minutes" in message.body

    # Opening the link (as a mail scanner does) spends nothing and signs nobody in.
    for _ in range(2):
        opened = client.get(path, headers={"accept-language": "en"})
        assert opened.status_code == 200
        assert b"Press the button to sign in" in opened.content
    assert UsedSignInLink.objects.count() == 0
    assert SESSION_PERSON not in client.session

    key_before = client.session.session_key
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert client.session[SESSION_PERSON] == str(person.public_id)
    assert client.session.session_key != key_before  # a new session key: no fixation
    assert AuditEntry.objects.filter(action="portal.signed_in",
                                     actor=SELF_ACTOR).count() == 1
    home = client.get("/me/", headers={"accept-language": "en"})
    assert home.status_code == 200
    assert b"My page: Kari Nordmann" in home.content

    # The link works once, in any browser.
    other = Client()
    again = other.post(path, headers={"accept-language": "en"})
    assert again.status_code == 410
    assert b"already been used" in again.content
    assert b"/me/sign-in/" in again.content  # a way to a new link
    assert other.get(path).status_code == 410


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_stored(
    client: Client, make_person: Callable[..., Person], smtp_server: SMTPTestServer
) -> None:
    make_person(email="known@example.org")
    known = _ask(client, "known@example.org")
    persons = Person.objects.count()
    unknown = _ask(Client(), "nobody@example.org")
    assert unknown == known
    assert Person.objects.count() == persons
    assert OutgoingMail.objects.count() == 1
    assert AuditEntry.objects.filter(action="portal.sign_in_link_sent").count() == 1


def test_bad_input_is_answered_next_to_the_field_and_mails_nothing(client: Client) -> None:
    response = client.post("/me/sign-in/", {"email": "not an address"},
                           headers={"accept-language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert 'aria-invalid="true"' in html or "errorlist" in html
    assert OutgoingMail.objects.count() == 0


def test_one_link_per_address_within_the_window_whatever_is_asked(
    client: Client, make_person: Callable[..., Person]
) -> None:
    make_person(email="kari@example.org")
    first = _ask(client, "kari@example.org")
    second = _ask(Client(), "kari@example.org")
    assert first == second
    assert OutgoingMail.objects.filter(kind="portal-sign-in-link").count() == 1


def test_asking_for_links_is_rate_limited_per_client(client: Client, settings) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "portal-sign-in": "2/h"}
    for n in range(2):
        _ask(client, f"x{n}@example.org")
    refused = client.post("/me/sign-in/", {"email": "x9@example.org"},
                          headers={"accept-language": "en"})
    assert refused.status_code == 429


def test_an_expired_link_is_refused_with_a_way_to_a_new_one(
    client: Client, make_person: Callable[..., Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    person = make_person()
    sixteen_minutes_ago = timezone.now() - timedelta(minutes=16)
    monkeypatch.setattr(signing.time, "time", lambda: sixteen_minutes_ago.timestamp())
    token = sign_in_token(person)
    monkeypatch.undo()
    response = client.post(f"/me/sign-in/link/{token}/", headers={"accept-language": "en"})
    assert response.status_code == 410
    assert b"The link has expired" in response.content
    assert b"Get a new sign-in link" in response.content
    assert SESSION_PERSON not in client.session
    assert UsedSignInLink.objects.count() == 0


@pytest.mark.parametrize("token", ["nonsense", "x" * 40, "eyJwIjoiMSJ9:1u:abc"])
def test_a_link_not_ours_is_refused(client: Client, token: str) -> None:
    response = client.get(f"/me/sign-in/link/{token}/", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert b"not one we sent" in response.content


def test_a_token_signed_for_another_purpose_signs_nobody_in(
    client: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person()
    token = signing.dumps({"p": str(person.public_id), "n": "abc"}, salt="something-else")
    assert client.post(f"/me/sign-in/link/{token}/").status_code == 404


def test_min_side_sends_strangers_to_sign_in_and_brings_them_back(
    client: Client, make_person: Callable[..., Person], smtp_server: SMTPTestServer, settings
) -> None:
    settings.PERSONVERN_BASE_URL = "http://testserver"
    response = client.get("/me/rights/new/")
    assert response.status_code == 302
    assert response["Location"] == "/me/sign-in/?next=%2Fme%2Frights%2Fnew%2F"
    form = client.get(response["Location"]).content.decode()
    assert 'value="/me/rights/new/"' in form
    make_person(email="kari@example.org")
    _ask(client, "kari@example.org", next_path="/me/rights/new/")
    link = LINK.search(smtp_server.wait_for(1)[0].body)
    assert link is not None
    signed_in = client.post(link.group(1).removeprefix("http://testserver"))
    assert signed_in["Location"] == "/me/rights/new/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_an_unsafe_next_is_replaced_by_min_side(
    client: Client, make_person: Callable[..., Person], smtp_server: SMTPTestServer, settings,
    target: str,
) -> None:
    settings.PERSONVERN_BASE_URL = "http://testserver"
    make_person(email="kari@example.org")
    _ask(client, "kari@example.org", next_path=target)
    link = LINK.search(smtp_server.wait_for(1)[0].body)
    assert link is not None
    assert client.post(link.group(1).removeprefix("http://testserver"))["Location"] == "/me/"


def test_the_session_ends_after_its_lifetime_and_on_sign_out(
    signed_in: tuple[Client, Person], settings
) -> None:
    client, person = signed_in
    assert client.get("/me/").status_code == 200
    session = client.session
    started = timezone.now() - timedelta(minutes=settings.PORTAL_SESSION_MINUTES + 1)
    session[SESSION_SIGNED_IN_AT] = started.isoformat()
    session.save()
    assert client.get("/me/").status_code == 302

    from tests.portal.helpers import sign_in

    sign_in(client, person)
    assert client.get("/me/").status_code == 200
    out = client.post("/me/sign-out/")
    assert out["Location"] == "/me/signed-out/"
    assert client.get("/me/")["Location"].startswith("/me/sign-in/")
    assert AuditEntry.objects.filter(action="portal.signed_out").count() == 1


def test_an_erased_person_is_signed_out(signed_in: tuple[Client, Person], rf) -> None:
    client, person = signed_in
    Person.objects.filter(pk=person.pk).delete()
    assert client.get("/me/").status_code == 302
    request = rf.get("/")
    request.session = client.session
    assert portal_person(request) is None


def test_used_link_records_are_forgotten_once_expired(
    client: Client, make_person: Callable[..., Person]
) -> None:
    from tests.portal.helpers import sign_in

    sign_in(client, make_person())
    assert used_links_purge() == 0
    assert used_links_purge(now=timezone.now() + timedelta(minutes=17)) == 1
    assert UsedSignInLink.objects.count() == 0
