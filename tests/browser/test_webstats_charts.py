"""Marketing reads the web statistics (R30) as charts in the back office, in a real Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import Browser, expect

from personvern.webstats.services import Bucket, pageviews_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("R30")
def test_marketing_opens_the_statistics_and_sees_the_charts(
    browser: Browser, live_server: object
) -> None:
    today = timezone.localdate()
    pageviews_add(counts={
        Bucket(today, 10, "/courses/", "", "desktop", "firefox"): 12,
        Bucket(today - timedelta(days=1), 14, "/", "arbeidsrett", "mobile", "safari"): 5,
        Bucket(today - timedelta(days=40), 9, "/jobs/", "", "desktop", "chrome"): 7,
    })
    user = User.objects.create_user("marked", password="a-Long-test-passw0rd", is_staff=True)
    user.groups.add(Group.objects.get(name="marketing"))
    context = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    base = str(live_server)

    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "marked")
    page.fill("#id_password", "a-Long-test-passw0rd")
    page.click("input[type=submit]")
    page.locator("#content-main").get_by_role("link", name="Sidevisningstall").click()
    page.get_by_role("link", name="Diagrammer").click()

    expect(page.locator("h1")).to_have_text("Besøksstatistikk i diagrammer")
    expect(page.locator(".stats-total")).to_contain_text("17 sidevisninger")
    charts = page.locator("section.stats-chart svg[role=img]")
    expect(charts).to_have_count(5)
    expect(page.locator("#chart-pages svg rect.bar")).to_have_count(2)
    # Each chart's numbers are in a table too.
    page.locator("#chart-searches summary").click()
    expect(page.locator("#chart-searches table")).to_contain_text("arbeidsrett")

    page.get_by_role("link", name="Siste 90 dager").click()
    expect(page.locator(".stats-total")).to_contain_text("24 sidevisninger")
    expect(page.locator("#chart-pages svg rect.bar")).to_have_count(3)
    context.close()
