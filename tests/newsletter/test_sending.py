"""Sending a newsletter and its unsubscribe link (R16, R18; RFC 8058).

Mail goes through the real SMTP server the tests start (tests/mail.py).
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from personvern.core import services as core
from personvern.core.models import AuditEntry, ConsentEvent, Objection, Person
from personvern.newsletter import services
from personvern.newsletter.models import Newsletter, Subscription

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)
SEND_AT = T0 + timedelta(days=1)


def _subscriber(email: str) -> Subscription:
    person = core.person_create(email=email, given_name="Kari", actor="test", now=T0)
    return services.newsletter_subscribe(
        person=person, source="form", text_version="v1", actor="test", now=T0
    )


def _newsletter(text: str = "Nye kurs i arbeidsrett til våren.") -> Newsletter:
    newsletter = services.newsletter_create(subject="Nytt fra JUS", actor="test", now=T0)
    Newsletter.objects.filter(pk=newsletter.pk).update(body=text)
    newsletter.refresh_from_db()
    return newsletter


def _link(body: str) -> str:
    lines = [line for line in body.splitlines() if "/newsletter/unsubscribe/" in line]
    assert len(lines) == 1, body
    return lines[0].strip()


@pytest.mark.req("R18")
@pytest.mark.req("R16")
def test_each_recipient_gets_one_copy_with_their_own_unsubscribe_link(smtp_server, settings):
    settings.PERSONVERN_BASE_URL = "https://www.jus.no"
    subscribers = [_subscriber(f"abonnent{i}@example.no") for i in range(5)]
    objecting = subscribers[4].person
    core.objection_record(person=objecting, activity=Objection.DIRECT_MARKETING,
                          actor="test", now=T0)
    newsletter = _newsletter()

    sent = services.newsletter_send(newsletter=newsletter, actor="test", batch_size=2,
                                    now=SEND_AT)

    messages = smtp_server.wait_for(4)
    assert sorted(m.rcpt_tos[0] for m in messages) == [f"abonnent{i}@example.no" for i in range(4)]
    links = {m.rcpt_tos[0]: _link(m.body) for m in messages}
    assert len(set(links.values())) == 4  # a link of their own each
    for message in messages:
        assert message.message["Subject"] == "Nytt fra JUS"
        assert "Nye kurs i arbeidsrett til våren." in message.body
        link = links[message.rcpt_tos[0]]
        assert link.startswith("https://www.jus.no/newsletter/unsubscribe/")
        # RFC 8058: the same address in the header, and the one-click marker.
        # (A long header is folded onto a continuation line: compare without the fold.)
        assert str(message.message["List-Unsubscribe"]).strip() == f"<{link}>"
        assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # The footer says it in both languages.
        assert "To stop receiving it" in message.body
        assert "For å slutte å få det" in message.body
    assert (sent.sent_at, sent.recipient_count, sent.send_cursor) == (SEND_AT, 4, None)
    batches = AuditEntry.objects.filter(action="newsletter.batch_sent")
    assert [e.data["copies"] for e in batches.order_by("id")] == [2, 2]
    assert AuditEntry.objects.filter(action="newsletter.sent").get().data["recipients"] == 4
    with pytest.raises(ValidationError, match="already been sent"):
        services.newsletter_send(newsletter=sent, actor="test", now=SEND_AT)


@pytest.mark.req("R16")
def test_a_newsletter_without_text_is_not_sent(smtp_server):
    _subscriber("kari@example.no")
    newsletter = _newsletter(text="  ")
    with pytest.raises(ValidationError, match="needs a text"):
        services.newsletter_send(newsletter=newsletter, actor="test", now=SEND_AT)
    assert smtp_server.messages == []


@pytest.mark.req("R16")
def test_a_refused_address_does_not_stop_the_others(smtp_server):
    for name in ("a", "b", "c"):
        _subscriber(f"{name}@example.no")
    smtp_server.refuse("b@example.no")

    sent = services.newsletter_send(newsletter=_newsletter(), actor="test", now=SEND_AT)

    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(2)) == [
        "a@example.no", "c@example.no"
    ]
    assert sent.recipient_count == 2
    assert AuditEntry.objects.get(action="newsletter.batch_sent").data == {
        "newsletter": sent.pk, "copies": 2, "refused": 1, "retried_later": 0
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.req("R16")
def test_an_interrupted_send_resumes_without_sending_twice(smtp_server, settings):
    for i in range(5):
        _subscriber(f"p{i}@example.no")
    newsletter = _newsletter()
    working_port = settings.EMAIL_PORT

    def mail_server_goes_away(sent: int, total: int) -> None:
        if sent == 2:
            settings.EMAIL_PORT = _closed_port()

    with pytest.raises(OSError):
        services.newsletter_send(newsletter=newsletter, actor="test", batch_size=2,
                                 progress=mail_server_goes_away, now=SEND_AT)
    newsletter.refresh_from_db()
    assert newsletter.sent_at is None and newsletter.recipient_count == 2
    assert newsletter.send_cursor is not None

    settings.EMAIL_PORT = working_port
    services.newsletter_send(newsletter=newsletter, actor="test", batch_size=2,
                             now=SEND_AT + timedelta(minutes=5))

    received = [m.rcpt_tos[0] for m in smtp_server.wait_for(5)]
    assert sorted(received) == [f"p{i}@example.no" for i in range(5)]  # each exactly once
    newsletter.refresh_from_db()
    assert newsletter.recipient_count == 5 and newsletter.sent_at is not None


@pytest.mark.req("R18")
def test_opening_the_link_changes_nothing_until_the_button_is_pressed(smtp_server):
    subscription = _subscriber("kari@example.no")
    services.newsletter_send(newsletter=_newsletter(), actor="test", now=SEND_AT)
    path = urlsplit(_link(smtp_server.wait_for(1)[0].body)).path
    client = Client(enforce_csrf_checks=True)

    with translation.override("en"):
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b"Unsubscribe" in page.content and b"<form method=\"post\">" in page.content
    subscription.refresh_from_db()
    assert subscription.status == "active"  # a link checker opening it unsubscribes no one

    done = client.post(path)  # the page's button: no CSRF token needed, the link is the key
    assert done.status_code == 200
    subscription.refresh_from_db()
    assert (subscription.status, subscription.unsubscribe_channel) == ("unsubscribed", "link")
    event = ConsentEvent.objects.filter(person=subscription.person).latest("at")
    assert (event.action, event.channel) == ("withdrawn", "link")
    assert AuditEntry.objects.filter(action="newsletter.unsubscribed").count() == 1

    again = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert b"not subscribed to the newsletter any more" in again.content
    main = again.content.split(b"<main")[1].split(b"</main>")[0]
    assert b"<form" not in main  # no button to press again


@pytest.mark.req("R18")
def test_a_mail_programs_one_click_post_unsubscribes(smtp_server):
    subscription = _subscriber("kari@example.no")
    services.newsletter_send(newsletter=_newsletter(), actor="test", now=SEND_AT)
    message = smtp_server.wait_for(1)[0].message
    url = str(message["List-Unsubscribe"]).strip().strip("<>")

    # What RFC 8058 prescribes: a POST with this body, no cookies, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        urlsplit(url).path, data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"
    person = Person.objects.get(pk=subscription.person_id)
    assert person.newsletter_subscription.unsubscribe_channel == "link"


@pytest.mark.req("R18")
def test_a_forged_or_damaged_link_is_refused_and_changes_nothing():
    subscription = _subscriber("kari@example.no")
    from personvern.newsletter.selectors import unsubscribe_token

    token = unsubscribe_token(subscription)
    client = Client(enforce_csrf_checks=True)
    for bad in (token[:-3] + "abc", "eyJzIjo5OX0:forged:sig", token.replace(":", "x", 1)):
        response = client.post(f"/newsletter/unsubscribe/{bad}/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404
        assert b"The link is not valid" in response.content
    subscription.refresh_from_db()
    assert subscription.status == "active"


@pytest.mark.req("R16")
def test_the_text_can_change_until_the_newsletter_goes_out(smtp_server):
    _subscriber("kari@example.no")
    newsletter = _newsletter("Utkast")
    changed = services.newsletter_update(newsletter=newsletter, subject="Nytt fra JUS",
                                         body="Ferdig tekst", actor="test")
    assert changed.body == "Ferdig tekst"
    services.newsletter_send(newsletter=changed, actor="test", now=SEND_AT)
    assert "Ferdig tekst" in smtp_server.wait_for(1)[0].body
    with pytest.raises(ValidationError, match="cannot change"):
        services.newsletter_update(newsletter=changed, subject="Nytt", body="Endret",
                                   actor="test")
    changed.refresh_from_db()
    assert changed.body == "Ferdig tekst"


def _parts(received) -> tuple[str, str]:
    message = received.message
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


@pytest.mark.req("R16")
def test_links_are_tracked_and_opens_recorded_once_per_copy(smtp_server, settings):
    from personvern.newsletter.models import Interaction

    settings.PERSONVERN_BASE_URL = "https://www.jus.no"
    subscription = _subscriber("kari@example.no")
    newsletter = _newsletter("Se vårens kurs: https://www.jus.no/kurs?tema=arbeidsrett&x=1.\n\n"
                             "Og <b>ikke</b> glem påmeldingen.")
    services.newsletter_send(newsletter=newsletter, actor="test", now=SEND_AT)
    text, html = _parts(smtp_server.wait_for(1)[0])

    # The text's link now leads through this copy's tracked address; the full stop stays out.
    assert "https://www.jus.no/kurs?tema" not in text
    [tracked] = [w for w in text.split() if "/newsletter/c/" in w]
    assert tracked.endswith("/.")
    click_path = urlsplit(tracked.rstrip(".")).path
    # The HTML part: the staff's text escaped (no markup of its own), the pixel, the footer.
    assert "&lt;b&gt;ikke&lt;/b&gt;" in html and "<b>" not in html
    [pixel] = [p for p in html.split('"') if "/newsletter/o/" in p]
    assert "/newsletter/unsubscribe/" in html

    client = Client()
    first = client.get(urlsplit(pixel).path)
    second = client.get(urlsplit(pixel).path)
    assert first.status_code == second.status_code == 200
    assert first["Content-Type"] == "image/gif" and first["Cache-Control"] == "no-store"
    assert Interaction.objects.filter(kind="open").count() == 1  # opened once, however often

    response = client.get(click_path)
    assert response.status_code == 302
    assert response["Location"] == "https://www.jus.no/kurs?tema=arbeidsrett&x=1"
    click = Interaction.objects.get(kind="click")
    assert (click.subscription, click.newsletter, click.url) == (
        subscription, newsletter, "https://www.jus.no/kurs?tema=arbeidsrett&x=1")
    assert AuditEntry.objects.filter(action="newsletter.interaction_recorded").count() == 2


@pytest.mark.req("R16")
@pytest.mark.req("R36")
def test_tracking_records_nothing_after_unsubscribing_or_under_restriction_but_links_work(
    smtp_server
):
    from personvern.core.models import RestrictionGround
    from personvern.newsletter.models import Interaction

    kari, ola = _subscriber("kari@example.no"), _subscriber("ola@example.no")
    services.newsletter_send(newsletter=_newsletter("Les mer: https://www.jus.no/kurs"),
                             actor="test", now=SEND_AT)
    links = {m.rcpt_tos[0]: _link_to(m, "/newsletter/c/") for m in smtp_server.wait_for(2)}
    services.newsletter_unsubscribe(subscription=kari, channel="link", actor="test")
    core.restriction_place(person=ola.person, ground=RestrictionGround.ACCURACY,
                           actor="test")

    for address in ("kari@example.no", "ola@example.no"):
        response = Client().get(links[address])
        assert response.status_code == 302 and response["Location"] == "https://www.jus.no/kurs"
    assert not Interaction.objects.exists()


def _link_to(received, marker: str) -> str:
    text, _html = _parts(received)
    [word] = [w for w in text.split() if marker in w]
    return urlsplit(word).path


def test_forged_tracking_tokens_go_nowhere():
    from personvern.newsletter.selectors import click_token

    subscription = _subscriber("kari@example.no")
    newsletter = _newsletter()
    token = click_token(subscription, newsletter, "https://www.jus.no/")
    client = Client()
    assert client.get(f"/newsletter/c/{token[:-2]}xx/").status_code == 404
    assert client.get("/newsletter/c/eyJ1IjoiaHR0cHM6Ly9ldmlsLmV4YW1wbGUifQ:x:y/").status_code == (
        404
    )
    assert client.get(f"/newsletter/o/{token}/").status_code == 404  # a click token is no pixel


@pytest.mark.req("R18")
def test_whoever_unsubscribes_during_a_send_gets_nothing_from_the_batches_after(smtp_server):
    subscribers = [_subscriber(f"s{i}@example.no") for i in range(3)]

    def leaves(sent: int, total: int) -> None:
        if sent == 1:  # after the first batch, the second subscriber unsubscribes
            services.newsletter_unsubscribe(subscription=subscribers[1], channel="link",
                                            actor="test")

    sent = services.newsletter_send(newsletter=_newsletter(), actor="test", batch_size=1,
                                    progress=leaves, now=SEND_AT)

    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(2)) == [
        "s0@example.no", "s2@example.no"]
    assert sent.recipient_count == 2


@pytest.mark.req("R16")
def test_a_mailing_going_out_is_claimed(smtp_server):
    _subscriber("a@example.no")
    _subscriber("b@example.no")
    newsletter = _newsletter()
    attempts: list[str] = []

    def meanwhile(sent: int, total: int) -> None:
        if sent == 1:
            for attempt in (
                lambda: services.newsletter_update(newsletter=newsletter, subject="Nytt",
                                                   body="Endret", actor="test"),
                lambda: services.newsletter_mark_sent(newsletter=newsletter, actor="test"),
            ):
                with pytest.raises(ValidationError) as refused:
                    attempt()
                attempts.append(str(refused.value))

    services.newsletter_send(newsletter=newsletter, actor="test", batch_size=1,
                             progress=meanwhile, now=SEND_AT)
    assert "cannot change" in attempts[0] and "being sent" in attempts[1]
    newsletter.refresh_from_db()
    assert newsletter.recipient_count == 2 and newsletter.sent_at == SEND_AT


def test_a_second_run_of_the_same_mailing_stops_instead_of_sending_twice(smtp_server):
    for i in range(3):
        _subscriber(f"p{i}@example.no")
    newsletter = _newsletter()
    outcome: list[BaseException] = []

    def second_run_starts(sent: int, total: int) -> None:
        if sent == 1 and not outcome:
            try:
                services.newsletter_send(newsletter=Newsletter.objects.get(pk=newsletter.pk),
                                         actor="test", batch_size=1, now=SEND_AT)
            except ValidationError as exc:
                outcome.append(exc)

    sent = services.newsletter_send(newsletter=newsletter, actor="test", batch_size=1,
                                    progress=second_run_starts, now=SEND_AT)
    # The second run was refused at once (the first holds the mailing's lease) and sent
    # nothing; the first finished the mailing, one copy each.
    assert len(outcome) == 1 and isinstance(outcome[0], services.MailingBusy)
    assert "Another run" in str(outcome[0])
    received = [m.rcpt_tos[0] for m in smtp_server.wait_for(3)]
    assert sorted(received) == ["p0@example.no", "p1@example.no", "p2@example.no"]
    assert sent.recipient_count == 3


def test_a_subject_of_more_than_one_line_is_refused():
    with pytest.raises(ValidationError, match="one line"):
        services.newsletter_create(subject="Nytt\r\nBcc: alle@example.no", actor="test")
