"""Test data for courses, made by calling the real services."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from personvern.courses import services
from personvern.courses.models import Course, CourseKind, Registration, Venue

OSLO = ZoneInfo("Europe/Oslo")
#: The tests' "now": registrations are made before the courses start.
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=OSLO)
ACTOR = "test"

_seq = itertools.count(1)


def make_venue(*, hotel: bool = True, **kwargs: Any) -> Venue:
    n = next(_seq)
    values: dict[str, Any] = {"name": f"Kurssted {n}", "address": f"Gate {n}, 0150 Oslo"}
    if hotel:
        values |= {"hotel_name": f"Hotell {n}", "hotel_email": f"booking{n}@hotell.example"}
    values |= kwargs
    return services.venue_create(actor=ACTOR, **values)


def make_course(
    *,
    kind: CourseKind | str = CourseKind.DIGITAL,
    capacity: int = 10,
    hotel_stay_offered: bool = False,
    starts_at: datetime | None = None,
    days: int = 1,
    venue: Venue | None = None,
    **kwargs: Any,
) -> Course:
    n = next(_seq)
    starts_at = starts_at or datetime(2025, 4, 10, 9, 0, tzinfo=OSLO)
    if kind == CourseKind.PHYSICAL and venue is None:
        venue = make_venue(hotel=hotel_stay_offered)
    values: dict[str, Any] = {
        "title": f"Kurs {n}",
        "slug": f"kurs-{n}",
        "kind": kind,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(days=days - 1, hours=7),
        "capacity": capacity,
        "venue": venue,
        "legal_hours": 6,
        "ethics_hours": 1,
        "hotel_stay_offered": hotel_stay_offered,
    }
    values |= kwargs
    return services.course_create(actor=ACTOR, now=NOW - timedelta(days=60), **values)


def register(
    course: Course, *, email: str | None = None, now: datetime | None = None, **kwargs: Any
) -> Registration:
    n = next(_seq)
    values: dict[str, Any] = {
        "email": email or f"deltaker{n}@example.no",
        "given_name": f"Kari{n}",
        "family_name": f"Nordmann{n}",
        "employer": f"Firma {n} AS",
    }
    values |= kwargs
    return services.registration_create(
        course=course, actor=ACTOR, now=now or min(NOW, course.starts_at - timedelta(hours=1)),
        **values,
    )
