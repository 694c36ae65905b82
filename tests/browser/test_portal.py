"""Min side end to end in Chromium: sign in from the mailed link, withdraw a consent, make
an access request, get the "ready" mail when staff fulfil it, download the file; a person
with no data sees an empty page."""

from __future__ import annotations

import re
import zipfile
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from personvern.core import services as core
from personvern.core.models import ConsentEvent
from personvern.core.selectors import has_consent
from personvern.newsletter import services as newsletter
from personvern.newsletter.models import Subscription
from personvern.rights import services as rights
from personvern.rights.models import Request, RequestStatus, VerificationMethod
from tests.mail import SMTPTestServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIGN_IN_LINK = re.compile(r"(http\S+/me/sign-in/link/[^/\s]+/)")


@pytest.mark.req("R18")
@pytest.mark.req("R29")
@pytest.mark.req("R32")
@pytest.mark.req("R33")
def test_a_person_signs_in_from_the_mail_withdraws_a_consent_and_downloads_their_data(
    browser: Browser, live_server: Any, smtp_server: SMTPTestServer, settings, tmp_path
) -> None:
    base = str(live_server)
    settings.PERSONVERN_BASE_URL = base
    settings.DATA_DIR = tmp_path
    person = core.person_create(
        email="kari@example.org", given_name="Kari", family_name="Nordmann", actor="t"
    )
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    core.consent_record(person=person, scope="web-analytics-consent", action="given",
                        channel="test", text_version="t1", actor="t")
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    try:
        # Min side sends a stranger to the sign-in, which mails a link.
        page.goto(f"{base}/me/")
        expect(page.locator("h1")).to_have_text("Sign in to My page")
        page.get_by_label("E-mail address").fill("kari@example.org")
        page.get_by_role("button", name="Send me a sign-in link").click()
        expect(page.locator("h1")).to_have_text("Check your e-mail")
        mail = smtp_server.wait_for(1)[0]
        assert mail.rcpt_tos == ["kari@example.org"]
        link = SIGN_IN_LINK.search(mail.body)
        assert link is not None, mail.body

        page.goto(link.group(1))
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.locator("h1")).to_have_text("My page: Kari Nordmann")
        expect(page.locator("#newsletter\\.consents")).to_contain_text("Basis: your consent")

        # Withdraw the analytics consent in one step; the ledger records it.
        page.get_by_role("button", name="Withdraw consent: Web analytics with consent").click()
        expect(page.locator("#newsletter\\.consents")).to_contain_text("withdrawn")
        assert not has_consent(person, "web-analytics-consent")
        event = ConsentEvent.objects.filter(person=person).latest("at", "pk")
        assert (event.action, event.channel) == ("withdrawn", "portal")
        page.get_by_role("button", name="Unsubscribe from the newsletter").click()
        expect(page.locator("#newsletter\\.consents")).to_contain_text("You unsubscribed on")
        assert Subscription.objects.get(person=person).status == "unsubscribed"

        # An access request, made while signed in: verified by the sign-in.
        page.get_by_label("access (Art. 15)").check()
        page.get_by_role("button", name="Send the request").click()
        expect(page.locator(".ds-alert")).to_contain_text("We have received your request")
        request = Request.objects.get(person=person)
        assert (request.type, request.verification_method) == (
            "access", VerificationMethod.SIGNED_IN)

        # Staff fulfil it; the person is told by mail, and downloads it on Min side.
        rights.request_fulfil(request=request, actor="staff:dpo", lang="en")
        ready = smtp_server.wait_for(2)[1]
        assert "ready" in ready.message["Subject"]
        assert f"{base}/me/" in ready.body
        assert not list(ready.message.iter_attachments())
        page.goto(f"{base}/me/")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download your data").first.click()
        download = download_info.value
        assert download.suggested_filename == f"access-{request.public_id}.zip"
        saved = tmp_path / "downloaded.zip"
        download.save_as(saved)
        assert zipfile.ZipFile(saved).namelist()
        assert Request.objects.get(pk=request.pk).status == RequestStatus.COMPLETED

        page.get_by_role("button", name="Sign out").click()
        expect(page.locator("h1")).to_have_text("You are signed out")
        page.goto(f"{base}/me/")
        expect(page.locator("h1")).to_have_text("Sign in to My page")
    finally:
        context.close()


@pytest.mark.req("R33")
def test_a_person_with_no_data_sees_an_empty_page_in_norwegian(
    browser: Browser, live_server: Any, smtp_server: SMTPTestServer, settings
) -> None:
    base = str(live_server)
    settings.PERSONVERN_BASE_URL = base
    core.person_create(email="ola@example.org", given_name="Ola", family_name="Nordmann",
                       actor="t")
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    try:
        page.goto(f"{base}/me/sign-in/")
        expect(page.locator("h1")).to_have_text("Logg inn på Min side")
        page.get_by_label("E-postadresse").fill("ola@example.org")
        page.get_by_role("button", name="Send meg en innloggingslenke").click()
        link = SIGN_IN_LINK.search(smtp_server.wait_for(1)[0].body)
        assert link is not None
        page.goto(link.group(1))
        page.get_by_role("button", name="Logg inn", exact=True).click()
        expect(page.locator("h1")).to_have_text("Min side: Ola Nordmann")
        expect(page.locator("main")).to_contain_text("Vi har ingen opplysninger om deg")
        expect(page.locator("main")).to_contain_text("Send en personvernhenvendelse")
    finally:
        context.close()
