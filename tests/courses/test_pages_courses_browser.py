"""Finding a course and registering, in a real Chromium (R12, R11, R13).

A participant finds the course in /courses/ with the search and filters,
registers on the course page (physical with a hotel stay, digital in Norwegian,
a full course onto the waiting list), gets the mails at the suite's SMTP server
(the calendar file read back), and cancels with the link in the mail, which
moves the first on the waiting list up and tells them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from personvern.core.models import Person
from personvern.courses import services
from personvern.courses.models import Course, CourseKind, Registration, RegistrationStatus

from .factories import OSLO, make_course, make_venue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ahead(days: int, hour: int = 9) -> datetime:
    day = timezone.localtime(timezone.now(), OSLO).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=OSLO)


def _body(mail: Any) -> str:
    return str(mail.body).replace("\r\n", "\n")


def _event(mail: Any) -> Any:
    [attachment] = list(mail.message.iter_attachments())
    content = attachment.get_content()
    calendar = Calendar.from_ical(content if isinstance(content, bytes) else content.encode())
    return calendar.walk("VEVENT")[0]


def _link(body: str) -> str:
    return next(line.strip() for line in body.splitlines() if "/courses/cancel/" in line)


@pytest.fixture
def base(live_server: Any, settings: Any) -> str:
    settings.PERSONVERN_BASE_URL = str(live_server)
    return str(live_server)


@pytest.mark.req("R12", "R11", "R13")
def test_finding_a_course_with_a_hotel_stay_and_registering(
    page: Page, base: str, smtp_server: Any, clamd: str
) -> None:
    venue = make_venue(name="Fjellstua", address="Fjellvegen 2, 2640 Vinstra",
                       hotel_name="Fjellstua hotell", hotel_email="booking@fjellstua.example")
    course = make_course(
        kind=CourseKind.PHYSICAL, venue=venue, hotel_stay_offered=True, days=2,
        starts_at=_ahead(40), title="Arverett på fjellet", subject="Arverett",
        summary="To dager om testamenter og uskifte.", price=Decimal("6900"),
        legal_hours=10, non_legal_hours=1, ethics_hours=2,
    )
    make_course(kind=CourseKind.DIGITAL, starts_at=_ahead(41), title="Arverett digitalt",
                subject="Arverett", summary="Om testamenter, på nett.")
    make_course(kind=CourseKind.PHYSICAL, starts_at=_ahead(42), title="Skatt for rådgivere",
                subject="Skatterett")

    page.goto(f"{base}/courses/")
    expect(page.locator("main h2")).to_have_count(3)
    page.get_by_label("Search").fill("testamenter")
    page.get_by_label("Subject").select_option("Arverett")
    page.get_by_label("Format").select_option("physical")
    page.get_by_role("button", name="Show courses").click()
    assert "q=testamenter" in page.url and "kind=physical" in page.url  # a plain GET form
    expect(page.locator("main h2")).to_have_text(["Arverett på fjellet"])
    expect(page.locator("main")).to_contain_text("Fjellstua, Vinstra")

    page.get_by_role("link", name="Arverett på fjellet").click()
    expect(page.locator("h1")).to_have_text("Arverett på fjellet")
    expect(page.locator("main")).to_contain_text("NOK 6,900")
    expect(page.locator("main")).to_contain_text("Offered at Fjellstua hotell")
    expect(page.locator("#waiting-list-notice")).to_have_count(0)
    start = course.starts_at.astimezone(OSLO).date()
    page.get_by_label("Given name").fill("Gro")
    page.get_by_label("Family name").fill("Gjest")
    page.get_by_label("E-mail address").fill("gro@example.no")
    page.get_by_label("Employer").fill("Advokatfirma Vest DA")
    page.get_by_label("I want to stay overnight at the course hotel").check()
    page.get_by_label("Arrival").fill((start - timedelta(days=1)).isoformat())
    page.get_by_label("Departure").fill((start + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Register").click()
    expect(page.locator("h1")).to_have_text("Registration received")

    registration = Registration.objects.get()
    assert (registration.status, registration.overnight_stay, registration.language) == (
        RegistrationStatus.CONFIRMED, True, "en")
    [mail] = smtp_server.wait_for(1)
    body = _body(mail)
    assert mail.rcpt_tos == ["gro@example.no"]
    assert "You have a seat at Arverett på fjellet." in body
    assert "Where: Fjellstua\nFjellvegen 2, 2640 Vinstra" in body
    assert "Hotel: 2 nights at Fjellstua hotell" in body
    event = _event(mail)
    assert event.decoded("dtstart") == course.starts_at.astimezone(UTC)
    assert str(event["location"]) == "Fjellstua, Fjellvegen 2, 2640 Vinstra"
    assert _link(body).startswith(f"{base}/courses/cancel/")


@pytest.mark.req("R12", "R13")
def test_registering_for_a_digital_course_in_norwegian(
    browser: Browser, base: str, smtp_server: Any, clamd: str
) -> None:
    course = make_course(kind=CourseKind.DIGITAL, starts_at=_ahead(20), title="Personvern på nett",
                         subject="Personvern", digital_link="https://meet.example/pv")
    make_course(kind=CourseKind.PHYSICAL, starts_at=_ahead(21), title="Personvern i Bergen",
                subject="Personvern")
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    try:
        page.goto(f"{base}/courses/")
        page.get_by_label("Kursform").select_option("digital")
        page.get_by_role("button", name="Vis kurs").click()
        expect(page.locator("main h2")).to_have_text(["Personvern på nett"])
        page.get_by_role("link", name="Personvern på nett").click()
        expect(page.locator("main")).to_contain_text("Digitalt: lenken til kurset kommer")
        expect(page.get_by_label("Matbehov")).to_have_count(0)
        page.get_by_label("Fornavn").fill("Ola")
        page.get_by_label("Etternavn").fill("Nordmann")
        page.get_by_label("E-postadresse").fill("ola@example.no")
        page.get_by_role("button", name="Meld deg på").click()
        expect(page.locator("h1")).to_have_text("Påmeldingen er mottatt")
    finally:
        context.close()

    assert Registration.objects.get().language == "nb"
    [mail] = smtp_server.wait_for(1)
    body = _body(mail)
    assert mail.message["Subject"] == "Bekreftet: Personvern på nett"
    assert "Hvor: digitalt\nBli med her: https://meet.example/pv" in body
    assert str(_event(mail)["location"]) == "https://meet.example/pv"
    assert course.title in str(_event(mail)["summary"])


@pytest.mark.req("R12", "R13")
def test_a_full_course_the_waiting_list_and_the_cancel_link(
    page: Page, base: str, smtp_server: Any, clamd: str
) -> None:
    course = make_course(kind=CourseKind.DIGITAL, starts_at=_ahead(15), capacity=1,
                         title="Fullt kurs")
    seated = services.registration_create(
        course=course, email="kari@example.no", given_name="Kari", family_name="Først",
        language="en", actor="test")
    services.registration_receipt_send(registration=seated, email="kari@example.no",
                                       actor="test")
    confirmation = smtp_server.wait_for(1)[0]

    page.goto(f"{base}/courses/{course.slug}/")
    notice = page.locator("#waiting-list-notice")
    expect(notice).to_contain_text("If you register now, you are put on the waiting list")
    page.get_by_label("Given name").fill("Per")
    page.get_by_label("Family name").fill("Venter")
    page.get_by_label("E-mail address").fill("per@example.no")
    page.get_by_role("button", name="Join the waiting list").click()
    # The receipt page is the one a seat gets too (ADR 0012): the mail tells.
    expect(page.locator("h1")).to_have_text("Registration received")
    waiting_mail = smtp_server.wait_for(2)[1]
    assert "so you are on the waiting list. Your place in line: 1." in _body(waiting_mail)
    waiting = Registration.objects.get(person__emails__address="per@example.no")

    page.goto(_link(_body(confirmation)))  # Kari cannot come after all
    expect(page.locator("h1")).to_have_text("Cancel your registration")
    expect(page.locator("main")).to_contain_text("Fullt kurs")
    seated.refresh_from_db()
    assert seated.status == RegistrationStatus.CONFIRMED  # opening the link changed nothing
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.locator("h1")).to_have_text("Registration cancelled")

    seated.refresh_from_db()
    waiting.refresh_from_db()
    assert (seated.status, waiting.status) == (RegistrationStatus.CANCELLED,
                                               RegistrationStatus.CONFIRMED)
    received = {m.rcpt_tos[0]: m for m in smtp_server.wait_for(4)[2:]}
    assert "Your registration for Fullt kurs" in _body(received["kari@example.no"])
    promoted = received["per@example.no"]
    assert promoted.message["Subject"] == "You have a seat: Fullt kurs"
    assert "You have moved up from the waiting list" in _body(promoted)
    assert _event(promoted).decoded("dtstart") == course.starts_at.astimezone(UTC)

    # The used link, and a forged one, fail clearly.
    response = page.goto(_link(_body(confirmation)))
    assert response is not None and response.status == 410
    expect(page.locator("h1")).to_have_text("Already cancelled")
    forged = page.goto(_link(_body(confirmation))[:-5] + "xxxx/")
    assert forged is not None and forged.status == 404
    expect(page.locator("h1")).to_have_text("Not a valid cancel link")
    assert Registration.objects.filter(status=RegistrationStatus.CONFIRMED).count() == 1


def _error_beside(page: Page, field_id: str, message: str) -> None:
    """``message`` is shown in the field's own group: the nearest ancestor of the
    input that shows the message holds no other input."""
    group = page.locator(f"#{field_id}").locator(
        f"xpath=ancestor::*[contains(normalize-space(.), {message!r})][1]")
    expect(group).to_have_count(1)
    assert group.locator("input, textarea, select").count() == 1


@pytest.mark.req("R12")
def test_bad_input_gets_a_message_beside_the_field_and_stores_nothing(
    page: Page, base: str, smtp_server: Any
) -> None:
    course: Course = make_course(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2,
                                 starts_at=_ahead(30))
    start = course.starts_at.astimezone(OSLO).date()
    page.goto(f"{base}/courses/{course.slug}/")
    page.get_by_label("Family name").fill("Gjest")
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_label("I want to stay overnight at the course hotel").check()
    page.get_by_label("Arrival").fill((start + timedelta(days=1)).isoformat())
    page.get_by_label("Departure").fill((start - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Register").click()

    expect(page.locator("h1")).to_have_text(course.title)
    _error_beside(page, "id_given_name", "This field is required.")
    _error_beside(page, "id_email", "Enter a valid email address.")
    assert page.get_by_label("Family name").input_value() == "Gjest"  # kept for correcting
    assert not Registration.objects.exists() and not Person.objects.exists()

    page.get_by_label("Given name").fill("Gro")
    page.get_by_label("E-mail address").fill("gro@example.no")
    page.get_by_role("button", name="Register").click()
    _error_beside(page, "id_departure_date", "Departure must be after arrival.")
    assert not Registration.objects.exists() and not Person.objects.exists()
    assert smtp_server.messages == []
