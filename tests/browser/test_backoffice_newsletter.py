"""Marketing's day in the real back office, through Chromium (issue 9; R16–R18).

A newsletter written, previewed and sent; the worker sends it to the real SMTP
server the test starts, and its page follows the send until it is done.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_backoffice import _login, _staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("R16", "R18")
def test_marketing_writes_previews_and_sends_a_newsletter_and_sees_it_finish(
    page: Page, live_server: object, smtp_server, settings
) -> None:
    from personvern.core import services as core
    from personvern.newsletter import services
    from personvern.newsletter.models import Newsletter
    from personvern.worker.runner import Worker

    settings.PERSONVERN_BASE_URL = str(live_server)
    for i in range(3):
        person = core.person_create(email=f"abonnent{i}@example.no", actor="t")
        services.newsletter_subscribe(person=person, source="form", text_version="v1",
                                      actor="t")
    base = str(live_server)
    password = _staff("marked", "marketing")
    page.set_extra_http_headers({"Accept-Language": "en"})
    _login(page, base, "marked", password)

    page.goto(f"{base}/admin/newsletter/newsletter/add/")
    page.get_by_label("Subject").fill("Nytt fra JUS i mai")
    page.get_by_label("Text").fill("Nye kurs i arbeidsrett: https://www.jus.no/kurs/\n\nVel møtt!")
    page.get_by_role("button", name="Save and continue editing").click()

    page.get_by_role("link", name="Preview").click()
    preview = page.locator(".newsletter-preview")
    expect(preview).to_contain_text("Nye kurs i arbeidsrett")
    link = preview.get_by_role("link").first.get_attribute("href")
    assert link and "/newsletter/" in link  # the link as a recipient's copy tracks it
    expect(page.locator(".newsletter-preview-text")).to_contain_text("Vel møtt!")
    expect(page.locator("#content-main")).to_contain_text("kari.nordmann@example.no")
    assert not [m for m in smtp_server.messages if m.rcpt_tos[0].endswith("@example.no")]

    page.get_by_role("link", name="Send…").click()
    expect(page.locator("#content-main")).to_contain_text("to 3 subscribers now?")
    page.get_by_role("button", name="Send now").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Waiting for the worker")
    expect(status).to_contain_text("0 of 3 copies")
    assert page.locator('meta[http-equiv="refresh"]').count() == 1

    Worker(worker_id="browser-test").start(once=True)
    smtp_server.wait_for(3)
    # The page refreshes itself; it shows the send finished, then stops refreshing.
    expect(status).to_contain_text("Sent", timeout=15_000)
    expect(status).to_contain_text("3 of 3 copies")
    expect(status.locator("progress")).to_have_attribute("value", "3")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    expect(page.get_by_role("link", name="Send", exact=True)).to_have_count(0)
    newsletter = Newsletter.objects.get(subject="Nytt fra JUS i mai")
    assert newsletter.sent_at is not None and newsletter.recipient_count == 3
    copies = sorted(m.rcpt_tos[0] for m in smtp_server.messages
                    if m.rcpt_tos[0].endswith("@example.no"))
    assert copies == [f"abonnent{i}@example.no" for i in range(3)]
