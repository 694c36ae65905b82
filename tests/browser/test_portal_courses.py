"""A lawyer signs in to Min side from the mailed link and reads the CLE record, downloads a
course certificate and cancels a registration (Chromium)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from personvern.core.models import AuditEntry, Person
from personvern.courses.models import Registration, RegistrationStatus
from personvern.portal.signin import sign_in_token
from personvern.worker.models import OutgoingMail
from tests.browser.pages_portal_courses import course_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, person: Person) -> None:
    """Follow a sign-in link as the mail gives it, and press the button."""
    page.goto(f"{base}/me/sign-in/link/{sign_in_token(person)}/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/me/")


@pytest.mark.req("R14")
@pytest.mark.parametrize(("lang", "locale"), [("nb", "nb-NO"), ("en", "en-GB")])
def test_a_lawyer_sees_the_cle_record_and_downloads_a_certificate(
    browser: Browser, live_server: Any, tmp_path: Path, lang: str, locale: str
) -> None:
    base = str(live_server)
    history = course_history("aase@example.no")
    context = browser.new_context(locale=locale, accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, base, Person.objects.get(emails__address="aase@example.no"))
        page.goto(f"{base}/me/")
        cle = page.locator("#courses\\.cle")
        expect(cle).to_be_visible()
        # The ethics course of 40 days ago: 10 legal, 4 ethics, 2 non-legal hours. The
        # older one (6 non-legal hours) may fall in this or the previous period.
        current = cle.locator("table").first
        legal = "Juridisk" if lang == "nb" else "Legal"
        expect(current.locator("tbody tr").first).to_contain_text(legal)
        ethics_row = current.locator("tbody tr").nth(1)
        expect(ethics_row.locator("td").first).to_have_text("4")
        expect(cle).to_contain_text("80")
        registrations = page.locator("#courses\\.registrations")
        waiting = "På venteliste, nummer 1" if lang == "nb" else "On the waiting list, number 1"
        expect(registrations).to_contain_text(waiting)

        # Each certificate link is named by its course (the title visually hidden).
        label = "Kursbevis (PDF)" if lang == "nb" else "Course certificate (PDF)"
        title = history["ethics"].course.title
        card = page.locator(f"#registration-{history['ethics'].pk}")
        link = page.get_by_role("link", name=f"{label} – {title}", exact=True)
        expect(link).to_have_count(1)
        expect(link.locator(".ds-sr-only")).to_have_text(f" – {title}")
        with page.expect_download() as info:
            card.get_by_role("link", name=f"{label} – {title}", exact=True).click()
        download = info.value
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        assert download.suggested_filename.startswith(
            "kursbevis-" if lang == "nb" else "course-certificate-"
        )
        reader = PdfReader(io.BytesIO(target.read_bytes()))
        text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
        assert "Åse Bjørnstad" in text
        assert history["ethics"].course.title in text
        assert "Taushetsplikt, interessekonflikter og god advokatskikk." in text
        if lang == "nb":
            assert "Kursbevis" in text and "Advokatetikk 4" in text and "Sum 16" in text
        else:
            assert "Course certificate" in text and "Legal ethics 4" in text
            assert "Total 16" in text
        assert AuditEntry.objects.filter(
            action="registration.certificate_downloaded",
            data__registration=history["ethics"].pk,
        ).exists()
    finally:
        context.close()


@pytest.mark.req("R13")
def test_a_participant_cancels_from_min_side(browser: Browser, live_server: Any) -> None:
    base = str(live_server)
    history = course_history("aase@example.no")
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    try:
        sign_in(page, base, Person.objects.get(emails__address="aase@example.no"))
        page.goto(f"{base}/me/")
        card = page.locator(f"#registration-{history['upcoming'].pk}")
        card.get_by_role("link", name="Meld meg av").click()
        expect(page.locator("h1")).to_have_text("Meld deg av kurset")
        page.get_by_role("button", name="Meld meg av").click()
        expect(page.locator("main .ds-alert[data-color=success]")).to_contain_text("Du er meldt av")
        registration = Registration.objects.get(pk=history["upcoming"].pk)
        assert registration.status == RegistrationStatus.CANCELLED
        assert OutgoingMail.objects.filter(
            person=registration.person, kind="registration-cancelled"
        ).exists()
        page.goto(f"{base}/me/")
        expect(page.locator(f"#registration-{history['upcoming'].pk}")).to_contain_text("Avmeldt")
        # Cancelled, it can no longer be cancelled: the only link left is the course's page
        # (the course is still ahead).
        links = page.locator(f"#registration-{history['upcoming'].pk}").get_by_role("link")
        expect(links).to_have_count(1)
        expect(links).to_have_attribute(
            "href", f"/courses/{history['upcoming'].course.slug}/")
    finally:
        context.close()
