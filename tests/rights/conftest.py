"""Fixtures of the rights tests: persons and requests made through the real services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from personvern.core.models import Person
from personvern.core.services import person_create
from personvern.rights import services
from personvern.rights.models import Request

OSLO = ZoneInfo("Europe/Oslo")
ACTOR = "staff:test"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Tests compare English texts; the nb tests (and the back office) use Norwegian."""
    with translation.override("en"):
        yield


def oslo(*args: int) -> datetime:
    """An aware datetime in Norway."""
    return datetime(*args, tzinfo=OSLO)  # type: ignore[misc]


@pytest.fixture
def make_person(db: None) -> Callable[..., Person]:
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, **kwargs: str) -> Person:
        n = next(counter)
        return person_create(
            email=email or f"person{n}@example.org",
            given_name=kwargs.get("given_name", f"Given{n}"),
            family_name=kwargs.get("family_name", f"Family{n}"),
            phone=kwargs.get("phone", ""),
            actor=ACTOR,
        )

    return make


@pytest.fixture
def make_request(make_person: Callable[..., Person]) -> Callable[..., Request]:
    def make(
        type: str = "access",
        person: Person | None = None,
        received_at: datetime | None = None,
        verified: bool = False,
        **kwargs: object,
    ) -> Request:
        person = person or make_person()
        request = services.request_create(
            type=type,
            person=person,
            channel=str(kwargs.pop("channel", "email")),
            received_at=received_at or oslo(2025, 3, 5, 10, 0),
            actor=ACTOR,
            now=kwargs.pop("now", None) or oslo(2025, 3, 6, 9, 0),  # type: ignore[arg-type]
        )
        if verified:
            request = services.request_verify(
                request=request,
                staff_note="Known to staff",
                actor=ACTOR,
                now=oslo(2025, 3, 6, 9, 30),
            )
        return request

    return make


# --- Courses, through the courses app's own services -----------------------------

COURSE_NOW = oslo(2025, 3, 1, 10, 0)


@pytest.fixture
def hotel_course(db: None):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from personvern.courses import services as courses

    venue = courses.venue_create(
        name="Kurssted Rights",
        address="Gate 1, 0150 Oslo",
        hotel_name="Hotell Fjordgløtt",
        hotel_email="booking@fjordglott.example",
        actor=ACTOR,
    )
    starts = oslo(2025, 4, 10, 9, 0)
    return courses.course_create(
        title="Personvernrett",
        slug="personvernrett-rights",
        kind="physical",
        starts_at=starts,
        ends_at=starts + timedelta(days=1, hours=7),
        capacity=30,
        venue=venue,
        legal_hours=6,
        hotel_stay_offered=True,
        actor=ACTOR,
        now=COURSE_NOW - timedelta(days=30),
    )


@pytest.fixture
def make_course(db: None):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from personvern.courses import services as courses

    counter = iter(range(1, 10_000))

    def make(**kwargs):  # type: ignore[no-untyped-def]
        n = next(counter)
        starts = kwargs.pop("starts_at", oslo(2025, 4, 10, 9, 0))
        return courses.course_create(
            title=f"Digitalt kurs {n}",
            slug=f"digitalt-kurs-rights-{n}",
            kind="digital",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=50,
            legal_hours=3,
            actor=ACTOR,
            now=COURSE_NOW - timedelta(days=30),
            **kwargs,
        )

    return make


def register(course, person: Person, **kwargs):  # type: ignore[no-untyped-def]
    """Register an existing person for a course (found by their e-mail address)."""
    from personvern.core.models import EmailIdentity
    from personvern.courses import services as courses

    return courses.registration_create(
        course=course,
        email=EmailIdentity.objects.filter(person=person).values_list("address", flat=True)[0],
        given_name=person.given_name or "x",
        family_name=person.family_name or "x",
        actor=ACTOR,
        now=kwargs.pop("now", COURSE_NOW),
        **kwargs,
    )
