"""HR's day in the real back office, through Chromium (issue 9; R24, R27).

An interview note written on the application's own page, the applicant hired,
and the employment ended later: each through the services, audited.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_backoffice import _login, _staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("R24", "R27")
def test_hr_adds_an_interview_note_and_hires_the_applicant(
    page: Page, live_server: object
) -> None:
    from personvern.core.models import AuditEntry
    from personvern.recruitment import services
    from personvern.recruitment.models import Application, ApplicationNote

    position = services.position_create(title="Kursrådgiver", actor="t")
    application = services.application_receive(
        email="siv.soker@example.no", given_name="Siv", family_name="Søkersen",
        source="direct", position=position, letter="Jeg søker stillingen.", actor="site",
    )
    base = str(live_server)
    password = _staff("personal", "hr")
    page.set_extra_http_headers({"Accept-Language": "en"})
    _login(page, base, "personal", password)

    page.goto(f"{base}/admin/recruitment/application/")
    page.get_by_role("link", name="Siv Søkersen").first.click()
    # The note, on the application's page: no raw id to look up.
    page.get_by_label("Kind").first.select_option("interview")
    page.get_by_role("textbox", name="Note").first.fill("Godt intervju: kjenner kursmarkedet godt.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator("#content-main")).to_contain_text("Godt intervju")
    note = ApplicationNote.objects.get(application=application)
    assert (note.kind, note.written_by) == ("interview", "staff:personal")

    page.get_by_role("link", name="Hire").click()
    expect(page.locator("#content-main")).to_contain_text("Hire Siv Søkersen?")
    page.get_by_role("button", name="Hire").click()
    expect(page.locator(".messagelist")).to_contain_text("Siv Søkersen is hired")
    application.refresh_from_db()
    assert application.status == "hired" and application.hired_at is not None
    assert application.employment_ended_at is None  # kept: no retention clock runs yet

    page.get_by_role("link", name="End the employment").click()
    last_day = page.get_by_label("Last day of the employment")
    last_day.fill("2031-06-30")
    page.get_by_role("button", name="Record the end of the employment").click()
    expect(page.locator(".messagelist")).to_contain_text("deleted after")
    application = Application.objects.get(pk=application.pk)
    assert application.employment_ended_at is not None
    assert application.employment_ended_at.date().isoformat() == "2031-06-30"
    actions = list(AuditEntry.objects.filter(actor="staff:personal")
                   .values_list("action", flat=True))
    assert {"recruitment.note_added", "recruitment.application_status",
            "recruitment.employment_ended"} <= set(actions)
