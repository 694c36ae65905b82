"""Min side's competition pages for the axe checks (the section with entries, withdrawing
an entry, its answer, too late to withdraw), and a course registration with a hotel stay
(its card and its cancel page)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from personvern.competitions import services as competitions
from personvern.competitions.models import Competition, Entry
from personvern.core.models import Person
from personvern.courses.models import CourseKind, Registration
from tests.browser.openers import Opener, seq
from tests.browser.pages_portal_courses import _day, sign_in
from tests.courses.factories import make_course, register


def _entrant(email: str) -> dict[str, Entry]:
    n = next(seq)
    now = timezone.now()
    running = competitions.competition_create(
        title=f"Årets beste kursidé {n}", ends_at=now + timedelta(days=20), actor="t"
    )
    ended = competitions.competition_create(
        title=f"Sommerquiz {n}", ends_at=now - timedelta(days=3), actor="t"
    )
    old = competitions.entry_submit(
        competition=ended, email=email, contribution="Svar: 42", actor="t",
        now=ended.ends_at - timedelta(days=4),
    )
    entry = competitions.entry_submit(
        competition=running, email=email, contribution="Et kurs om personvern",
        given_name="Kari", family_name="Nordmann", workplace="Advokatfirma AS", actor="t",
        now=now,
    )
    return {"entry": entry, "old": old}


def _hotel_guest(email: str) -> Registration:
    course = make_course(kind=CourseKind.PHYSICAL, starts_at=_day(30), days=2,
                         hotel_stay_offered=True, title=f"Prosedyre i praksis {next(seq)}")
    return register(course, email=email, now=timezone.now(), overnight_stay=True,
                    arrival_date=_day(30).date(), departure_date=_day(31).date())


def _person(page: Page, base: str) -> tuple[dict[str, Entry], Registration]:
    email = f"deltaker{next(seq)}@example.no"
    entries = _entrant(email)
    registration = _hotel_guest(email)
    sign_in(page, base, Person.objects.get(emails__address=email))
    return entries, registration


def _min_side(page: Page, base: str, lang: str) -> None:
    _person(page, base)
    response = page.goto(f"{base}/me/")
    assert response is not None and response.ok
    expect(page.locator("#competitions\\.entries .ds-card").first).to_be_visible()


def _withdraw(page: Page, base: str, lang: str) -> None:
    entries, _registration = _person(page, base)
    response = page.goto(f"{base}/me/competitions/entries/{entries['entry'].pk}/withdraw/")
    assert response is not None and response.ok


def _withdrawn(page: Page, base: str, lang: str) -> None:
    _withdraw(page, base, lang)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/me/competitions/withdrawn/")
    expect(page.locator("main .ds-alert[data-color=success]")).to_be_visible()


def _too_late(page: Page, base: str, lang: str) -> None:
    entries, _registration = _person(page, base)
    response = page.goto(f"{base}/me/competitions/entries/{entries['old'].pk}/withdraw/")
    assert response is not None and response.ok
    assert Competition.objects.get(pk=entries["old"].competition_id).ends_at < timezone.now()


def _cancel_hotel(page: Page, base: str, lang: str) -> None:
    _entries, registration = _person(page, base)
    response = page.goto(f"{base}/me/courses/registrations/{registration.pk}/cancel/")
    assert response is not None and response.ok


PAGES: dict[str, Opener] = {
    "Min side with competition entries and a hotel stay": _min_side,
    "Min side: withdraw a competition entry": _withdraw,
    "Min side: competition entry withdrawn": _withdrawn,
    "Min side: withdrawing after the competition ended": _too_late,
    "Min side: cancel a registration with a hotel stay": _cancel_hotel,
}
