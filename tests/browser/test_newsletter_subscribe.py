"""Subscribing to the newsletter in a real browser, with double opt-in (R16, R17, R18).

The form is filled in Chromium, the confirmation mail is read from the suite's
SMTP server, its link opened in the browser and confirmed; the consent ledger
then holds the text version the page showed.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone, translation
from playwright.sync_api import Browser, Page, expect

from personvern.core import services as core
from personvern.core.models import ConsentEvent, Person
from personvern.newsletter import services
from personvern.newsletter.models import Subscription, SubscriptionBasis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LINK = re.compile(r"https?://\S+/newsletter/confirm/\S+/")


def _sign_up(page: Page, base: str, email: str, given_name: str = "") -> None:
    page.goto(f"{base}/newsletter/subscribe/")
    page.get_by_label("E-mail address").fill(email)
    if given_name:
        page.get_by_label("Given name (optional)").fill(given_name)
    page.locator("main form button[type=submit]").click()


def _link(smtp_server: Any, count: int, to: str) -> str:
    mail = next(m for m in smtp_server.wait_for(count) if m.rcpt_tos == [to])
    match = LINK.search(mail.body)
    assert match, mail.body
    return match.group(0)


@pytest.mark.req("R16", "R17")
def test_a_visitor_subscribes_and_confirms_from_the_mailed_link(
    page: Page, live_server: Any, smtp_server: Any, settings: Any
) -> None:
    base = str(live_server)
    settings.PERSONVERN_BASE_URL = base
    _sign_up(page, base, "kari@example.no", "Kari")
    expect(page.locator("h1")).to_have_text("Check your e-mail")
    assert Person.objects.count() == 0 and Subscription.objects.count() == 0

    page.goto(_link(smtp_server, 1, "kari@example.no"))
    expect(page.locator("h1")).to_have_text("Confirm your subscription")
    with translation.override("en"):
        consent_text = str(services.CONSENT_TEXTS[services.CONSENT_TEXT_VERSION])
    expect(page.locator("main")).to_contain_text(consent_text)
    assert Subscription.objects.count() == 0  # opening the link changed nothing
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.locator("h1")).to_have_text("You are subscribed")

    subscription = Subscription.objects.select_related("person").get()
    assert (subscription.person.given_name, subscription.basis) == ("Kari", "consent")
    event = ConsentEvent.objects.get(person=subscription.person, scope="newsletter")
    assert (event.action, event.channel, event.text_version) == (
        "given", "form", services.CONSENT_TEXT_VERSION)

    # The newsletter reaches the new subscriber, and its unsubscribe link works (R18).
    newsletter = services.newsletter_create(subject="Nytt fra JUS", body="Hei!", actor="t")
    services.newsletter_send(newsletter=newsletter, actor="t")
    body = smtp_server.wait_for(2)[-1].body
    page.goto(next(line for line in body.splitlines() if "/newsletter/unsubscribe/" in line))
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("You are unsubscribed")


@pytest.mark.req("R17")
def test_a_member_of_advokatforeningen_is_told_the_basis(
    browser: Browser, live_server: Any, smtp_server: Any, settings: Any
) -> None:
    base = str(live_server)
    settings.PERSONVERN_BASE_URL = base
    member = core.person_create(email="advokat@example.no", actor="t")
    core.membership_add(person=member, organisation="advokatforeningen",
                        valid_from=date(2015, 1, 1), actor="t")
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    try:
        _sign_up_nb(page, base, "advokat@example.no")
        expect(page.locator("h1")).to_have_text("Sjekk e-posten din")
        page.goto(_link(smtp_server, 1, "advokat@example.no"))
        expect(page.locator("main")).to_contain_text("Du er medlem av Advokatforeningen")
        expect(page.locator("main")).to_contain_text("aktivt medlemskap")
        page.get_by_role("button", name="Bekreft abonnement").click()
        expect(page.locator("h1")).to_have_text("Du er påmeldt")
        expect(page.locator("main")).to_contain_text("aktivt medlemskap")
    finally:
        context.close()
    subscription = Subscription.objects.get(person=member)
    assert subscription.basis == SubscriptionBasis.MEMBERSHIP
    assert not ConsentEvent.objects.filter(person=member).exists()


def _sign_up_nb(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/newsletter/subscribe/")
    page.get_by_label("E-postadresse").fill(email)
    page.get_by_role("button", name="Abonner").click()


@pytest.mark.req("R17")
def test_bad_input_is_named_next_to_the_field_and_nothing_is_sent(
    page: Page, live_server: Any, smtp_server: Any
) -> None:
    base = str(live_server)
    for bad in ("", "kari.example.no"):
        _sign_up(page, base, bad)
        field = page.get_by_label("E-mail address")
        expect(field).to_have_attribute("aria-invalid", "true")
        error = page.locator(".errorlist").first
        expect(error).to_be_visible()
        described = field.get_attribute("aria-describedby") or ""
        error_id = error.get_attribute("id") or ""
        assert error_id and error_id in described, (error_id, described)
    assert smtp_server.messages == []
    assert Person.objects.count() == 0


@pytest.mark.req("R17")
def test_a_known_and_an_unknown_address_get_the_same_answer(
    page: Page, live_server: Any, smtp_server: Any
) -> None:
    base = str(live_server)
    known = core.person_create(email="known@example.no", actor="t")
    services.newsletter_subscribe(person=known, source="form", text_version="v1", actor="t")
    answers = []
    for email in ("known@example.no", "nobody@example.no"):
        _sign_up(page, base, email)
        answers.append((page.url, page.locator("main").inner_text()))
    assert answers[0] == answers[1]


@pytest.mark.req("R17")
def test_an_expired_or_forged_link_fails_clearly(
    page: Page, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = str(live_server)
    forged = signing.dumps({"e": "kari@example.no", "v": services.CONSENT_TEXT_VERSION},
                           salt="not-ours")
    response = page.goto(f"{base}/newsletter/confirm/{forged}/")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("The link is not valid")
    expect(page.locator("main").get_by_role("button")).to_have_count(0)

    real_time = time.time
    monkeypatch.setattr(signing.time, "time",
                        lambda: real_time() - services.CONFIRMATION_MAX_AGE.total_seconds() - 60)
    token = services.signup_token(services.SignUp(
        email="kari@example.no", given_name="", family_name="",
        text_version=services.CONSENT_TEXT_VERSION,
        issued_at=timezone.now() - services.CONFIRMATION_MAX_AGE,
    ))
    monkeypatch.undo()
    response = page.goto(f"{base}/newsletter/confirm/{token}/")
    assert response is not None and response.status == 410
    expect(page.locator("h1")).to_have_text("The link has expired")
    page.get_by_role("link", name="Sign up for the newsletter").click()
    expect(page.locator("h1")).to_have_text("Subscribe to the newsletter")
    assert Subscription.objects.count() == 0
