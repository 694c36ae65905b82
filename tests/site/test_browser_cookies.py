"""The cookie banner in a real Chromium: decline, then accept on the choice page."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from personvern.webstats.models import AnalyticsConsent, ConsentChoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("R29")
@pytest.mark.req("R28")
def test_banner_decline_then_accept_records_consent_and_hides_the_banner(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    page.goto(f"{base}/")
    banner = page.locator("#cookie-banner")
    expect(banner).to_be_visible()
    accept = banner.get_by_role("button", name="Accept analytics cookies")
    decline = banner.get_by_role("button", name="Decline analytics cookies")
    # Equal weight: both buttons are drawn the same size.
    accept_box, decline_box = accept.bounding_box(), decline.bounding_box()
    assert accept_box is not None and decline_box is not None
    assert abs(accept_box["height"] - decline_box["height"]) < 1

    decline.click()
    expect(page.locator("#cookie-banner")).to_have_count(0)
    assert page.url == f"{base}/"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("personvern_consent") == "declined"
    assert "_pk_id" not in cookies
    assert not AnalyticsConsent.objects.exists()

    page.get_by_role("link", name="Change your cookie choice").click()
    expect(page.locator("#current-choice")).to_contain_text("You have declined")
    page.get_by_role("button", name="Accept analytics cookies").click()
    expect(page.locator("#current-choice")).to_contain_text("You have accepted")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    row = AnalyticsConsent.objects.get()
    assert row.choice == ConsentChoice.GRANTED
    assert uuid.UUID(cookies["_pk_id"]) == row.visitor_id

    page.goto(f"{base}/")
    expect(page.locator("#cookie-banner")).to_have_count(0)
