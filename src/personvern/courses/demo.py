"""Demo and benchmark data for courses, written set-based (bulk_create).

Unlike the services this writes no audit entries: it fills an empty demo
database fast, and the audit log of a demo starts after it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from personvern.courses.models import (
    Course,
    CourseKind,
    Registration,
    RegistrationStatus,
    Venue,
)
from personvern.courses.services import refresh_relationship_ends

TOPICS = [
    ("Arbeidsrett", "arbeidsrett"),
    ("Kontraktsrett", "kontraktsrett"),
    ("Personvernrett", "personvern"),
    ("Skatterett", "skatterett"),
    ("Strafferett", "strafferett"),
    ("Advokatetikk", "advokatetikk"),
    ("Forvaltningsrett", "forvaltningsrett"),
    ("Familierett", "familierett"),
]
EMPLOYERS = [
    "Advokatfirmaet Nord AS", "Kommuneadvokaten i Bergen", "Regjeringsadvokaten",
    "Advokatfirma Vest DA", "Skatteetaten", "Oslo tingrett", "Eget firma",
]
DIETS = ["", "", "", "", "vegetar", "glutenfri", "laktosefri"]


def generate(
    persons: QuerySet[Any] | list[Any],
    rng: random.Random,
    now: datetime,
    *,
    courses: int = 24,
    batch_size: int = 5000,
) -> None:
    """Create venues, ``courses`` courses spread over the last five years and the
    next, and registrations for ``persons`` (each person on a few courses)."""
    person_ids = (
        list(persons.values_list("pk", flat=True))
        if isinstance(persons, QuerySet) else [p.pk for p in persons]
    )
    with transaction.atomic():
        venues = Venue.objects.bulk_create(
            [
                Venue(name="Jus.no kurssenter", address="Kristian Augusts gate 9, 0164 Oslo"),
                Venue(
                    name="Hotell Fjordtun", address="Strandveien 1, 5003 Bergen",
                    hotel_name="Hotell Fjordtun", hotel_email="booking@fjordtun.example",
                ),
                Venue(
                    name="Høyfjellshotellet", address="Fjellvegen 2, 2640 Vinstra",
                    hotel_name="Høyfjellshotellet", hotel_email="post@hoyfjell.example",
                ),
            ]
        )
        existing = set(Course.objects.values_list("slug", flat=True))
        new_courses = []
        for i in range(courses):
            title, stem = TOPICS[i % len(TOPICS)]
            starts = now + timedelta(days=rng.randint(-5 * 365, 180), hours=rng.randint(0, 8))
            slug = f"{stem}-{starts:%Y%m%d}-{i}"
            if slug in existing:
                continue
            kind = rng.choice([CourseKind.DIGITAL, CourseKind.PHYSICAL])
            venue = rng.choice(venues) if kind == CourseKind.PHYSICAL else None
            days = 2 if venue is not None and venue.hotel_name else 0
            new_courses.append(
                Course(
                    title=f"{title} {starts:%Y}",
                    slug=slug,
                    kind=kind,
                    starts_at=starts,
                    ends_at=starts + timedelta(days=days, hours=6),
                    capacity=rng.choice([20, 40, 60, 120]),
                    venue=venue,
                    legal_hours=Decimal(rng.choice([3, 6, 12])),
                    ethics_hours=Decimal(rng.choice([0, 0, 1, 2])),
                    hotel_stay_offered=days > 0,
                    registration_open=starts > now,
                    created_at=min(now, starts - timedelta(days=60)),
                )
            )
        created = Course.objects.bulk_create(new_courses)
        if not created or not person_ids:
            return
        rows: list[Registration] = []
        seats = {c.pk: 0 for c in created}
        for person_id in person_ids:
            for course in rng.sample(created, k=min(len(created), rng.randint(1, 3))):
                registered_at = course.starts_at - timedelta(days=rng.randint(1, 50))
                confirmed = seats[course.pk] < course.capacity
                cancelled = confirmed and rng.random() < 0.05
                if confirmed and not cancelled:
                    seats[course.pk] += 1
                status = (
                    RegistrationStatus.CANCELLED if cancelled
                    else RegistrationStatus.CONFIRMED if confirmed
                    else RegistrationStatus.WAITLISTED
                )
                stay = course.hotel_stay_offered and rng.random() < 0.6
                start_day = course.starts_at.date()
                rows.append(
                    Registration(
                        course=course,
                        person_id=person_id,
                        status=status,
                        registered_at=registered_at,
                        employer=rng.choice(EMPLOYERS),
                        dietary_needs=rng.choice(DIETS) if course.is_physical else "",
                        overnight_stay=stay,
                        arrival_date=start_day if stay else None,
                        departure_date=course.ends_at.date() if stay else None,
                        attended=(
                            (rng.random() < 0.93)
                            if status == RegistrationStatus.CONFIRMED and course.ends_at < now
                            else None
                        ),
                        cancelled_at=registered_at + timedelta(hours=5) if cancelled else None,
                    )
                )
        Registration.objects.bulk_create(rows, batch_size=batch_size)
        for start in range(0, len(person_ids), batch_size):
            chunk = person_ids[start : start + batch_size]
            refresh_relationship_ends(Registration.objects.filter(person_id__in=chunk))
