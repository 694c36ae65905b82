"""Test data for the retention tests, made by calling the real services."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from personvern.core.models import Membership, Organisation, Person
from personvern.core.services import membership_add, person_get_or_create
from personvern.courses import services as course_services
from personvern.courses.models import Course, CourseKind, Registration

OSLO = ZoneInfo("Europe/Oslo")
ACTOR = "test"

_seq = itertools.count(1)


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """An aware Europe/Oslo datetime on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO)


def course_ending(end: datetime, *, hours: int = 7) -> Course:
    """A digital course that ends at ``end`` (created 60 days before it starts)."""
    n = next(_seq)
    starts_at = end - timedelta(hours=hours)
    return course_services.course_create(
        title=f"Kurs {n}",
        slug=f"ret-kurs-{n}",
        kind=CourseKind.DIGITAL,
        starts_at=starts_at,
        ends_at=end,
        capacity=1000,
        legal_hours=6,
        actor=ACTOR,
        now=starts_at - timedelta(days=60),
    )


def register(course: Course, email: str) -> Registration:
    """Register ``email`` for ``course`` a day before it starts."""
    n = next(_seq)
    return course_services.registration_create(
        course=course,
        email=email,
        given_name=f"Kari{n}",
        family_name=f"Nordmann{n}",
        employer=f"Firma {n} AS",
        actor=ACTOR,
        now=course.starts_at - timedelta(days=1),
    )


def person(email: str) -> Person:
    found, _ = person_get_or_create(email=email, given_name="Ola", family_name="Nordmann",
                                    actor=ACTOR, now=at(date(2010, 1, 1)))
    return found


def member(email: str, *, since: date, until: date | None = None) -> Membership:
    """Make ``email``'s person a member of Advokatforeningen over a period."""
    return membership_add(
        person=person(email),
        organisation=Organisation.ADVOKATFORENINGEN,
        valid_from=since,
        valid_to=until,
        actor=ACTOR,
    )


def hotel_course_ending(end: datetime) -> Course:
    """A physical two-day course at a venue with a hotel, ending at ``end``."""
    n = next(_seq)
    venue = course_services.venue_create(
        name=f"Kurssted {n}", address=f"Gate {n}, 0150 Oslo", hotel_name=f"Hotell {n}",
        hotel_email=f"booking{n}@hotell.example", actor=ACTOR,
    )
    starts_at = end - timedelta(days=1, hours=7)
    return course_services.course_create(
        title=f"Kurs {n}", slug=f"ret-hotell-{n}", kind=CourseKind.PHYSICAL,
        starts_at=starts_at, ends_at=end, capacity=100, venue=venue,
        hotel_stay_offered=True, actor=ACTOR, now=starts_at - timedelta(days=60),
    )


def register_overnight(course: Course, email: str) -> Registration:
    """Register with a hotel night and hand the hotel list over (a HotelTransferEntry)."""
    start = course.starts_at.astimezone(OSLO).date()
    registration = course_services.registration_create(
        course=course, email=email, given_name="Per", family_name="Hotellgjest",
        overnight_stay=True, arrival_date=start, departure_date=start + timedelta(days=1),
        actor=ACTOR, now=course.starts_at - timedelta(days=2),
    )
    course_services.hotel_list_export(course=course, actor=ACTOR,
                                      now=course.starts_at - timedelta(days=1))
    return registration
