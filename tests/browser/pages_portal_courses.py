"""Min side's course pages for the axe checks: the page with the course sections, cancelling.

Also the helpers the end-to-end test of these pages uses: a person with a
course history, and a browser signed in to Min side as that person (the
session the mailed sign-in link leaves, made directly).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from playwright.sync_api import Page, expect

from personvern.core.models import Person
from personvern.courses import services
from personvern.courses.models import Course, CourseKind, Registration
from personvern.portal import auth
from tests.browser.openers import Opener, seq
from tests.courses.factories import OSLO, make_course, register


def _day(offset: int, hour: int = 9) -> datetime:
    today = timezone.localtime(timezone.now(), OSLO).date() + timedelta(days=offset)
    return datetime(today.year, today.month, today.day, hour, tzinfo=OSLO)


def _attended(course: Course, email: str) -> Registration:
    registration = register(course, email=email, now=course.starts_at - timedelta(days=2))
    services.attendance_record(
        course=course, registration_ids=[registration.pk], attended=True, actor="test",
        now=course.ends_at,
    )
    return registration


def course_history(email: str) -> dict[str, Registration]:
    """A lawyer's registrations: two upcoming (one on the waiting list), two attended."""
    n = next(seq)
    upcoming = make_course(starts_at=_day(25), title=f"Arverett i praksis {n}", capacity=5)
    full = make_course(starts_at=_day(35), capacity=1, title=f"Skatterett for advokater {n}")
    register(full, now=_day(-1))
    ethics = make_course(
        kind=CourseKind.PHYSICAL, starts_at=_day(-40), days=2,
        title=f"Advokatetikk i hverdagen {n}",
        summary="Taushetsplikt, interessekonflikter og god advokatskikk.",
        legal_hours=10, ethics_hours=4, non_legal_hours=2,
    )
    older = make_course(starts_at=_day(-400), title=f"Årsoppgjør for jurister {n}",
                        legal_hours=0, ethics_hours=0, non_legal_hours=6)
    now = timezone.now()
    return {
        "upcoming": register(upcoming, email=email, given_name="Åse", family_name="Bjørnstad",
                             now=now),
        "waitlisted": register(full, email=email, now=now),
        "ethics": _attended(ethics, email),
        "older": _attended(older, email),
    }


def sign_in(page: Page, base: str, person: Person) -> None:
    """Give the browser a Min side session of ``person``."""
    session = SessionStore()
    session[auth.SESSION_PERSON] = str(person.public_id)
    session[auth.SESSION_SIGNED_IN_AT] = timezone.now().isoformat()
    session.create()
    page.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME, "value": session.session_key or "",
        "url": base, "httpOnly": True, "sameSite": "Lax",
    }])


def _lawyer(page: Page, base: str) -> dict[str, Registration]:
    email = f"advokat{next(seq)}@example.no"
    history = course_history(email)
    sign_in(page, base, Person.objects.get(emails__address=email))
    return history


def _min_side(page: Page, base: str, lang: str) -> None:
    _lawyer(page, base)
    response = page.goto(f"{base}/me/")
    assert response is not None and response.ok
    expect(page.locator("#courses\\.cle table").first).to_be_visible()


def _cancel(page: Page, base: str, lang: str) -> None:
    history = _lawyer(page, base)
    response = page.goto(f"{base}/me/courses/registrations/{history['upcoming'].pk}/cancel/")
    assert response is not None and response.ok


def _cancelled(page: Page, base: str, lang: str) -> None:
    _cancel(page, base, lang)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main .ds-alert[data-color=success]")).to_be_visible()


def _cancel_too_late(page: Page, base: str, lang: str) -> None:
    email = f"advokat{next(seq)}@example.no"
    course = make_course(starts_at=timezone.now() - timedelta(hours=1), days=2,
                         title=f"Pågående kurs {next(seq)}")
    registration = register(course, email=email, now=course.starts_at - timedelta(days=1))
    sign_in(page, base, Person.objects.get(emails__address=email))
    response = page.goto(f"{base}/me/courses/registrations/{registration.pk}/cancel/")
    assert response is not None and response.ok


PAGES: dict[str, Opener] = {
    "Min side with course registrations and the CLE record": _min_side,
    "Min side: cancel a course registration": _cancel,
    "Min side: course registration cancelled": _cancelled,
    "Min side: cancelling after the course started": _cancel_too_late,
}
