"""The secure channel in a real Chromium: a file with malware is refused on the form (R21)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from personvern.inquiries.models import Inquiry
from personvern.site.models import SecureUpload
from tests.scanning import SIGNATURE, eicar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("R21")
def test_an_infected_file_is_refused_and_a_clean_one_accepted(
    page: Page, live_server: object, clamd: str
) -> None:
    base = str(live_server)
    page.goto(f"{base}/secure-message/")
    page.get_by_label("Something else").check()
    page.get_by_label("E-mail address").fill("kari@example.no")
    page.get_by_label("Subject").fill("Innsyn")
    page.get_by_label("Message").fill("Dokumentasjonen ligger ved.")
    page.get_by_label("File (optional)").set_input_files(
        {"name": "vedlegg.txt", "mimeType": "text/plain", "buffer": eicar()}
    )
    page.get_by_role("button", name="Send").click()
    error = page.locator("#id_attachment_error")
    expect(error).to_contain_text("vedlegg.txt was not accepted")
    expect(error).to_contain_text(SIGNATURE)
    assert not Inquiry.objects.exists() and not SecureUpload.objects.exists()

    # The visitor's text is kept; only the file has to be chosen again.
    expect(page.get_by_label("Subject")).to_have_value("Innsyn")
    page.get_by_label("File (optional)").set_input_files(
        {"name": "vedlegg.txt", "mimeType": "text/plain", "buffer": b"Bare tekst.\n"}
    )
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{base}/secure-message/sent/?case=*")
    assert SecureUpload.objects.get().scan_status == "clean"
