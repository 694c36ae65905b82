"""The public course pages for the axe checks: the list, the course page in each
state, and the pages of the mailed cancel link (see test_accessibility.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import Page, expect

from personvern.courses import services
from personvern.courses.mails import cancel_token
from personvern.courses.models import Course, CourseKind, Registration
from tests.browser.openers import Opener, goto, seq
from tests.courses.factories import OSLO, make_course, make_venue


def _start(days: int) -> datetime:
    day = timezone.localtime(timezone.now(), OSLO).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 9, tzinfo=OSLO)


def _hotel_course(**kwargs: object) -> Course:
    n = next(seq)
    venue = make_venue(name=f"Fjellstua {n}", address="Fjellvegen 2, 2640 Vinstra")
    values: dict[str, object] = {
        "kind": CourseKind.PHYSICAL, "venue": venue, "hotel_stay_offered": True, "days": 2,
        "starts_at": _start(30), "title": f"Arverett på fjellet {n}", "subject": "Arverett",
        "summary": "To dager om testamenter, uskifte og arveoppgjør.",
        "description": "Vi går gjennom ny rettspraksis.\n\nMed gruppeoppgaver.",
        "programme": "09:00 Velkommen\n10:00 Testamenter\n12:00 Lunsj",
        "price": Decimal("6900"), "legal_hours": 10, "non_legal_hours": Decimal("1.5"),
        "ethics_hours": 2,
    }
    values.update(kwargs)
    return make_course(**values)  # type: ignore[arg-type]


def _register(course: Course) -> Registration:
    n = next(seq)
    return services.registration_create(
        course=course, email=f"deltaker{n}@example.no", given_name="Kari",
        family_name="Nordmann", actor="test")


def _list(page: Page, base: str, lang: str) -> None:
    _hotel_course()
    full = make_course(starts_at=_start(45), capacity=1, title=f"Skatterett digitalt {next(seq)}",
                       subject="Skatterett", summary="Nytt i skatteretten.")
    _register(full)
    goto("/courses/")(page, base, lang)


def _list_filtered_no_match(page: Page, base: str, lang: str) -> None:
    _hotel_course()
    goto("/courses/?q=ingenting+slikt&kind=digital&subject=Ukjent")(page, base, lang)


def _course_page(page: Page, base: str, lang: str) -> None:
    goto(f"/courses/{_hotel_course().slug}/")(page, base, lang)


def _course_page_errors(page: Page, base: str, lang: str) -> None:
    _course_page(page, base, lang)
    page.locator("#id_email").fill("not an address")
    page.locator("main form.registration-form button[type=submit]").click()
    expect(page.locator("#id_given_name")).to_be_visible()
    page.wait_for_load_state("load")


def _course_page_full(page: Page, base: str, lang: str) -> None:
    course = make_course(starts_at=_start(20), capacity=1, title=f"Fullt kurs {next(seq)}",
                         digital_link="https://meet.example/kurs")
    _register(course)
    goto(f"/courses/{course.slug}/")(page, base, lang)
    expect(page.locator("#waiting-list-notice")).to_be_visible()


def _course_page_over(page: Page, base: str, lang: str) -> None:
    course = _hotel_course(starts_at=_start(-20))
    goto(f"/courses/{course.slug}/")(page, base, lang)


def _cancel(page: Page, base: str, lang: str) -> None:
    registration = _register(_hotel_course())
    goto(f"/courses/cancel/{cancel_token(registration)}/")(page, base, lang)


def _cancelled(page: Page, base: str, lang: str) -> None:
    _cancel(page, base, lang)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main form")).to_have_count(0)


def _cancel_used(page: Page, base: str, lang: str) -> None:
    registration = _register(_hotel_course())
    services.participant_cancel(registration=registration, actor="test")
    response = page.goto(f"{base}/courses/cancel/{cancel_token(registration)}/")
    assert response is not None and response.status == 410


def _cancel_invalid(page: Page, base: str, lang: str) -> None:
    response = page.goto(f"{base}/courses/cancel/not-a-token/")
    assert response is not None and response.status == 404


PAGES: dict[str, Opener] = {
    "course list": _list,
    "course list, filters without a match": _list_filtered_no_match,
    "course page with a hotel stay": _course_page,
    "course page, form with errors": _course_page_errors,
    "course page of a full course": _course_page_full,
    "course page of a course that is over": _course_page_over,
    "cancel link": _cancel,
    "cancel link, cancelled": _cancelled,
    "cancel link, already used (410)": _cancel_used,
    "cancel link, invalid (404)": _cancel_invalid,
}
