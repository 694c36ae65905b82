"""The newsletter's unsubscribe link, followed in a real browser (R18)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from personvern.core import services as core
from personvern.newsletter import services
from personvern.newsletter.models import Newsletter, Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("R18")
def test_subscriber_follows_the_link_in_the_newsletter_and_unsubscribes(
    page: Page, live_server: object, smtp_server, settings
) -> None:
    settings.PERSONVERN_BASE_URL = str(live_server)
    person = core.person_create(email="kari@example.no", actor="t")
    subscription = services.newsletter_subscribe(
        person=person, source="form", text_version="v1", actor="t"
    )
    newsletter = services.newsletter_create(subject="Nytt fra JUS", body="Hei!", actor="t")
    services.newsletter_send(newsletter=newsletter, actor="t")
    body = smtp_server.wait_for(1)[0].body
    link = next(line for line in body.splitlines() if "/newsletter/unsubscribe/" in line)
    assert urlsplit(link).netloc == urlsplit(str(live_server)).netloc

    page.goto(link.strip())
    expect(page.locator("h1")).to_have_text("Unsubscribe from the newsletter")
    subscription.refresh_from_db()
    assert subscription.status == "active"  # opening the page changed nothing

    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.unsubscribe_channel) == ("unsubscribed", "link")
    assert Newsletter.objects.get(pk=newsletter.pk).recipient_count == 1
    assert Subscription.objects.count() == 1
