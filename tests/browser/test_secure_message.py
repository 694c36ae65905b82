"""The secure-message form in a real Chromium: a privacy question becomes a privacy
request the data protection officer sees, not an inquiry in marketing's list (R5, R32);
every message is answered with a case number on the page and in the receipt mail."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import Browser, Page, expect

from personvern.core.roles import DPO, MARKETING
from personvern.inquiries.models import Inquiry
from personvern.rights.models import Request
from tests.mail import SMTPTestServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-test-passw0rd"


def _staff(browser: Browser, base: str, username: str, role: str) -> Page:
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    return page


def _send(page: Page, base: str, topic: str, subject: str) -> str:
    page.goto(f"{base}/secure-message/")
    page.get_by_label(topic).check()
    page.get_by_label("Given name").fill("Kari")
    page.get_by_label("Family name").fill("Nordmann")
    page.get_by_label("E-mail address").fill("kari@example.no")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill("Hvilke opplysninger har dere om meg?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{base}/secure-message/sent/?case=*")
    return page.locator("#case-number").inner_text()


@pytest.mark.req("R5")
@pytest.mark.req("R32")
@pytest.mark.req("R20")
def test_a_privacy_message_becomes_a_request_the_dpo_sees_not_an_inquiry(
    page: Page, browser: Browser, live_server: object, smtp_server: SMTPTestServer
) -> None:
    base = str(live_server)
    case = _send(page, base, "Privacy (personvern)", "Innsyn")
    expect(page.locator("main")).to_contain_text("data protection officer")
    request = Request.objects.get()
    assert case == str(request.public_id)
    assert request.type == "unclassified" and request.channel == "web"
    assert not Inquiry.objects.exists()

    [mail] = smtp_server.wait_for(1)
    assert case in mail.message["Subject"] and f"Case number: {case}" in mail.body
    assert "Hvilke opplysninger" not in mail.body and "Innsyn" not in mail.body

    officer = _staff(browser, base, "personvernombud", DPO)
    officer.goto(f"{base}/admin/rights/request/?q={case}")
    officer.locator("#result_list tbody th a").first.click()
    expect(officer.locator("#content")).to_contain_text("Hvilke opplysninger har dere om meg?")
    expect(officer.locator("#content")).to_contain_text("not yet classified")

    seller = _staff(browser, base, "marked", MARKETING)
    seller.goto(f"{base}/admin/inquiries/inquiry/")
    expect(seller.locator("#content")).to_contain_text("0 inquiries")
    response = seller.goto(f"{base}/admin/rights/request/")
    assert response is not None and response.status == 403


@pytest.mark.req("R20")
def test_an_ordinary_message_is_an_inquiry_with_its_case_number(
    page: Page, browser: Browser, live_server: object, smtp_server: SMTPTestServer
) -> None:
    base = str(live_server)
    case = _send(page, base, "Invoice", "Faktura 1234")
    inquiry = Inquiry.objects.get()
    assert inquiry.subject.startswith(f"[{case}] ")
    assert not Request.objects.exists()
    [mail] = smtp_server.wait_for(1)
    assert f"Case number: {case}" in mail.body

    seller = _staff(browser, base, "marked", MARKETING)
    seller.goto(f"{base}/admin/inquiries/inquiry/?q={case}")
    expect(seller.locator("#result_list")).to_contain_text("Faktura 1234")


@pytest.mark.req("R5")
def test_bad_input_and_a_file_with_a_privacy_question_are_shown_next_to_the_field(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    page.goto(f"{base}/secure-message/")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#id_topic_error")).to_contain_text("Choose what your message is about.")
    expect(page.locator("#id_email_error")).to_be_visible()
    expect(page.locator("#id_message_error")).to_be_visible()

    page.get_by_label("Privacy (personvern)").check()
    page.get_by_label("E-mail address").fill("kari@example.no")
    page.get_by_label("Subject").fill("Innsyn")
    page.get_by_label("Message").fill("Vedlagt kopi av pass.")
    page.get_by_label("File (optional)").set_input_files(
        {"name": "pass.txt", "mimeType": "text/plain", "buffer": b"Kopi\n"})
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#id_attachment_error")).to_contain_text(
        "cannot be sent with a privacy question")
    assert not Request.objects.exists() and not Inquiry.objects.exists()
