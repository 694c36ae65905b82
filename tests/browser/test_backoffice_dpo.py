"""A privacy request from phone to answer, through the real back office in Chromium (R40):
a course administrator registers a request received by phone yesterday; the data
protection officer finds it on the overview with its deadline, fulfils it and sends the
access file to Min side."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone, translation
from playwright.sync_api import Browser, expect

from personvern.rights.models import Request, RequestStatus
from personvern.site.templatetags.site_tags import day
from personvern.worker.models import OutgoingMail
from tests.browser.test_backoffice import _login
from tests.mail import SMTPTestServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-test-passw0rd"


def _staff(username: str, role: str, email: str = "") -> None:
    user = User.objects.create_user(username, email=email, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))


@pytest.mark.req("R40")
@pytest.mark.req("R32")
@pytest.mark.req("R33")
def test_a_phone_request_goes_from_the_course_administrator_to_the_dpo_and_back_on_min_side(
    browser: Browser, live_server: Any, smtp_server: SMTPTestServer, settings, tmp_path
) -> None:
    base = str(live_server)
    settings.PERSONVERN_BASE_URL = base
    settings.DATA_DIR = tmp_path
    _staff("kursadmin", "course administrator")
    _staff("ombudet", "data protection officer", email="ombud@jus.example")
    yesterday = timezone.localtime() - timedelta(days=1)

    # The course administrator took the call yesterday and registers it now.
    refused: list[str] = []  # CSP violations Chromium reports on any page below
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        _login(page, base, "kursadmin", PASSWORD)
        page.get_by_role("link", name="Registrer en personvernhenvendelse").click()
        expect(page.locator("h1")).to_have_text("Registrer en personvernhenvendelse")
        page.get_by_label("Fornavn").fill("Kari")
        page.get_by_label("Etternavn").fill("Telefonsen")
        page.get_by_label("E-postadresse").fill("kari.telefonsen@example.no")
        page.get_by_label("Rettigheten personen ber om").select_option("access")
        page.get_by_label("Hvordan den kom inn").select_option("phone")
        page.get_by_label("Dato mottatt").fill(yesterday.date().isoformat())
        page.get_by_label("Klokkeslett mottatt").fill("14:30")
        page.get_by_label("Merknader").fill("Ringte og ba om en kopi av alt vi har om henne.")
        page.get_by_role("button", name="Registrer og send til personvernombudet").click()
        expect(page.locator(".messagelist")).to_contain_text("sendt til personvernombudet")
        request = Request.objects.get()
        expect(page.locator(".messagelist")).to_contain_text(str(request.public_id)[:8])
        assert request.received_at.date() == yesterday.date()
        assert timezone.localtime(request.received_at).strftime("%H:%M") == "14:30"
        # She cannot open what she registered.
        response = page.goto(f"{base}/admin/rights/request/{request.pk}/change/")
        assert response is not None and response.status in (403, 404) or "login" in page.url
    finally:
        context.close()
    mail = next(m for m in smtp_server.wait_for(1) if m.rcpt_tos == ["ombud@jus.example"])
    assert str(request.public_id)[:8] in mail.body

    # The data protection officer finds it on the overview with its deadline.
    context = browser.new_context(locale="nb-NO", accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        _login(page, base, "ombudet", PASSWORD)
        page.get_by_role("link", name="Personvernoversikt").click()
        with translation.override("nb"):
            due = day(request.due_legal)  # "4. januar 2027"
        expect(page.locator("#requests-due")).to_contain_text("1 åpen henvendelse i alt")
        row = page.locator("#requests-due tbody tr").first
        expect(row).to_contain_text(str(request.public_id)[:8])
        expect(row).to_contain_text(due)
        expect(row).to_contain_text("telefon")  # the channel
        page.get_by_role("link", name="Behandlingsprotokoll").first.click()
        expect(page.locator("h1")).to_have_text("Behandlingsprotokoll")
        page.go_back()
        page.get_by_role("link", name="Alle åpne henvendelser").click()
        expect(page.locator("#result_list")).to_contain_text(str(request.public_id)[:8])

        # Verify by phone call-back, then fulfil: the access file is written to Min side.
        page.locator(f"input[name=_selected_action][value='{request.pk}']").check()
        page.locator("select[name=action]").select_option("verify_by_staff")
        page.locator("input[name=parameter]").fill("Ringte tilbake på nummeret vi har")
        page.locator("button[name=index]").first.click()
        expect(page.locator(".messagelist")).to_contain_text("1")
        page.locator(f"input[name=_selected_action][value='{request.pk}']").check()
        page.locator("select[name=action]").select_option("fulfil")
        page.locator("button[name=index]").first.click()
        request.refresh_from_db()
        assert request.status == RequestStatus.COMPLETED

        # The case page offers the file; the DPO downloads it and sends it to Min side again.
        page.goto(f"{base}/admin/rights/request/{request.pk}/change/")
        with page.expect_download() as download:
            page.get_by_role("link", name="Last ned filen").click()
        assert download.value.suggested_filename.endswith(".zip")
        page.goto(f"{base}/admin/rights/request/")
        page.locator(f"input[name=_selected_action][value='{request.pk}']").check()
        page.locator("select[name=action]").select_option("publish_file")
        page.locator("button[name=index]").first.click()
        expect(page.locator(".messagelist")).to_contain_text("Tilgjengelig på Min side")
    finally:
        context.close()
    assert not refused, refused
    assert OutgoingMail.objects.filter(kind="rights-bundle-ready").count() == 2
    ready = [m for m in smtp_server.wait_for(3) if m.rcpt_tos == ["kari.telefonsen@example.no"]]
    assert ready and f"{base}/me/" in ready[-1].body
