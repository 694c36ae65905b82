"""Sending an open job application in a real Chromium (R24, R27, R21)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from personvern.core.models import Person
from personvern.core.scanning import ScanStatus
from personvern.recruitment.models import Application, ApplicationDocument
from personvern.worker.models import OutgoingMail
from tests.mail import SMTPTestServer
from tests.scanning import SIGNATURE, eicar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LETTER = "Jeg søker fast stilling som jurist hos dere.\n".encode()


def _fill(page: Page) -> None:
    page.get_by_label("Given name").fill("Kari")
    page.get_by_label("Family name").fill("Nordmann")
    page.get_by_label("E-mail address").fill("kari@example.no")
    page.get_by_label("Phone (optional)").fill("+47 22 33 44 55")
    page.get_by_label("Short message").fill("Jeg ser etter arbeid innen personvernrett.")


@pytest.mark.req("R24")
@pytest.mark.req("R27")
@pytest.mark.req("R21")
def test_an_open_application_with_cv_and_letter_infected_refused_then_clean_stored(
    page: Page, live_server: object, clamd: str, smtp_server: SMTPTestServer
) -> None:
    base = str(live_server)
    page.goto(f"{base}/jobs/apply/")
    expect(page.locator("main")).to_contain_text("for 210 days after we receive it")
    expect(page.locator("main")).to_contain_text("job portal")
    _fill(page)
    page.get_by_label("CV", exact=True).set_input_files(
        {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_label("Application letter").set_input_files(
        {"name": "søknad.txt", "mimeType": "text/plain", "buffer": eicar()})
    page.get_by_role("button", name="Send the application").click()

    # The infected letter is refused next to its field; nothing is stored.
    error = page.locator("#id_letter_error")
    expect(error).to_contain_text("søknad.txt was not accepted")
    expect(error).to_contain_text(SIGNATURE)
    expect(page.locator("#id_cv_error")).to_have_count(0)
    assert not Application.objects.exists() and not ApplicationDocument.objects.exists()
    assert not Person.objects.exists() and not OutgoingMail.objects.exists()

    # The text is kept; both files are chosen again, clean this time.
    expect(page.get_by_label("Given name")).to_have_value("Kari")
    page.get_by_label("CV", exact=True).set_input_files(
        {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_label("Application letter").set_input_files(
        {"name": "søknad.txt", "mimeType": "text/plain", "buffer": LETTER})
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url(f"{base}/jobs/apply/received/")
    expect(page.locator("h1")).to_have_text("Application received")

    application = Application.objects.get()
    assert application.position is None  # an open application: the 210-day rule (R27)
    documents = {d.kind: d for d in application.documents.all()}
    assert bytes(documents["cv"].content) == PDF
    assert bytes(documents["letter"].content) == LETTER
    assert {d.scan_status for d in documents.values()} == {ScanStatus.CLEAN}

    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["kari@example.no"]
    assert "210 days" in mail.body and "personvernrett" not in mail.body


@pytest.mark.req("R24")
def test_bad_input_is_shown_next_to_each_field_in_norwegian(
    browser: Browser, live_server: object
) -> None:
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.goto(f"{live_server}/jobs/apply/")
    expect(page.locator("h1")).to_have_text("Send en åpen jobbsøknad")
    expect(page.locator("main")).to_contain_text("210 dager")
    page.get_by_label("E-postadresse").fill("ikke en adresse")
    page.get_by_label("Telefon (valgfritt)").fill("ring meg")
    page.get_by_role("button", name="Send søknaden").click()
    expect(page.locator("#id_email_error")).to_be_visible()
    expect(page.locator("#id_phone_error")).to_contain_text("Skriv telefonnummeret med sifre")
    expect(page.locator("#id_cv_error")).to_contain_text("Velg en fil")
    expect(page.locator("#id_letter_error")).to_contain_text("Velg en fil")
    assert not Application.objects.exists() and not Person.objects.exists()
    context.close()
