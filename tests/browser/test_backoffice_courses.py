"""A course administrator's day in the real back office, through Chromium (issue 9).

A phone booking on a course with a hotel stay, the check-in list, then the
hotel list looked at and sent to the hotel.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.test_backoffice import _login, _staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("R12", "R11", "R13")
def test_course_administrator_books_by_phone_checks_in_and_sends_the_hotel_list(
    page: Page, live_server: object
) -> None:
    from personvern.core.models import AuditEntry
    from personvern.courses.models import (
        CourseKind,
        HotelTransfer,
        Registration,
        RegistrationStatus,
    )
    from personvern.worker.models import OutgoingMail
    from tests.courses.factories import make_course

    starts = timezone.now().replace(microsecond=0) + timedelta(days=14)
    course = make_course(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2,
                         title="Arverett på fjellet", starts_at=starts)
    first_day = timezone.localtime(course.starts_at).date()
    base = str(live_server)
    password = _staff("kursadmin", "course administrator")
    page.set_extra_http_headers({"Accept-Language": "en"})
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    _login(page, base, "kursadmin", password)

    # The phone booking, from the course's page.
    page.goto(f"{base}/admin/courses/course/{course.pk}/change/")
    page.get_by_role("link", name="Register a participant").click()
    page.get_by_label("Given name").fill("Per")
    page.get_by_label("Family name").fill("Telefon")
    page.get_by_label("E-mail address").fill("per.telefon@example.no")
    page.get_by_label("Employer").fill("Advokatfirma AS")
    page.get_by_label("Dietary needs").fill("Nøtteallergi")
    page.get_by_label("Stays overnight at the course hotel").check()
    page.get_by_label("Arrival").fill(first_day.isoformat())
    page.get_by_label("Departure").fill((first_day + timedelta(days=1)).isoformat())
    page.get_by_label("Language of the participant's mails").select_option("nb")
    expect(page.get_by_label("Send the confirmation (or waiting-list place) by e-mail")) \
        .to_be_checked()
    page.get_by_role("button", name="Register the participant").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Per Telefon has a seat. The confirmation is sent to per.telefon@example.no.")
    registration = Registration.objects.get()
    assert (registration.status, registration.language) == (RegistrationStatus.CONFIRMED, "nb")
    assert OutgoingMail.objects.filter(kind="registration-confirmed").count() == 1

    # The check-in list: printable, a box per participant.
    page.get_by_role("link", name="Check-in list").click()
    table = page.locator("table.checkin-list")
    expect(table).to_contain_text("Telefon")
    expect(table).to_contain_text("Advokatfirma AS")
    expect(table).not_to_contain_text("Nøtteallergi")
    assert AuditEntry.objects.filter(action="checkin_list.viewed",
                                     actor="staff:kursadmin").exists()

    # The hotel list: what goes, then sent.
    page.goto(f"{base}/admin/courses/course/{course.pk}/change/")
    page.get_by_role("link", name="Send the hotel list").click()
    preview = page.locator("table.checkin-list")
    expect(preview).to_contain_text("Telefon")
    expect(preview).not_to_contain_text("Advokatfirma AS")
    expect(page.locator("#content-main")).to_contain_text(course.venue.hotel_email)
    page.get_by_role("button", name="Send to the hotel").click()
    expect(page.locator(".messagelist")).to_contain_text("the hand-over is recorded")
    transfer = HotelTransfer.objects.get()
    assert (transfer.actor, transfer.row_count) == ("staff:kursadmin", 1)
    assert OutgoingMail.objects.filter(kind="hotel-list").exists()
    assert violations == []  # no page of the task broke the Content Security Policy
