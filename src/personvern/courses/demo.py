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

#: Demo course topics: (title, slug stem, subject, summary, description). Plain
#: demo text in our own words.
TOPICS = [
    ("Arbeidsrett", "arbeidsrett", "Arbeidsrett",
     "Oppsigelse, omstilling og midlertidige ansettelser: det siste året i rettspraksis.",
     "Vi går gjennom nye avgjørelser fra Høyesterett og lagmannsrettene om oppsigelse, "
     "omstilling og midlertidige ansettelser, og ser på hva de betyr for rådgivningen.\n\n"
     "Kurset passer for advokater og jurister som arbeider med arbeidsrett på arbeidsgiver- "
     "eller arbeidstakersiden."),
    ("Kontraktsrett", "kontraktsrett", "Kontraktsrett",
     "Avtaletolking og mislighold i kommersielle kontrakter, med praktiske eksempler.",
     "Hvordan tolker domstolene kommersielle kontrakter, og hva skjer når en part ikke "
     "oppfyller? Kurset bygger på eksempler fra leveranse-, entreprise- og "
     "distribusjonsavtaler."),
    ("Personvernrett", "personvern", "Personvern",
     "Behandlingsgrunnlag, innsyn og sletting: personvernforordningen i praksis.",
     "Vi ser på hvordan personvernforordningen brukes i hverdagen: behandlingsgrunnlag, "
     "de registrertes rettigheter, avtaler med databehandlere og overføring til land "
     "utenfor EØS. Med gruppeoppgaver."),
    ("Skatterett", "skatterett", "Skatterett",
     "Nyheter i skatteretten for rådgivere: lovendringer, praksis og uttalelser.",
     "En oversikt over årets lovendringer, sentrale dommer og bindende "
     "forhåndsuttalelser, med vekt på det som betyr noe for næringslivsklienter."),
    ("Strafferett", "strafferett", "Strafferett",
     "Bevis, straffutmåling og forsvarerens rolle i hovedforhandlingen.",
     "Kurset tar for seg bevisvurdering og straffutmåling i ny rettspraksis, og "
     "forsvarerens arbeid før og under hovedforhandlingen."),
    ("Advokatetikk", "advokatetikk", "Advokatetikk",
     "Interessekonflikter, taushetsplikt og god advokatskikk i praksis.",
     "Et kurs i regler for god advokatskikk: interessekonflikter, taushetsplikt, "
     "klientmidler og forholdet til motparten. Timene teller som advokatetikk."),
    ("Forvaltningsrett", "forvaltningsrett", "Forvaltningsrett",
     "Saksbehandling, begrunnelse og klage etter den nye forvaltningsloven.",
     "Vi går gjennom hovedtrekkene i den nye forvaltningsloven og hva de endrer for "
     "saksbehandling, begrunnelse og klage."),
    ("Familierett", "familierett", "Familierett",
     "Barnefordeling og skifte etter samlivsbrudd: prosess og mekling.",
     "Kurset handler om saker om foreldreansvar, bosted og samvær, og om skifte etter "
     "samlivsbrudd, med vekt på mekling og saksforberedelse."),
]
PROGRAMME = [
    "09:00 Velkommen og innledning",
    "09:15 Oversikt over ny rettspraksis",
    "11:00 Pause",
    "11:15 Problemstillinger fra praksis",
    "12:30 Lunsj",
    "13:15 Gruppeoppgaver",
    "14:45 Oppsummering og spørsmål",
]
PRICES = [Decimal("4500"), Decimal("2900"), Decimal("0"), Decimal("6900")]
NON_LEGAL_HOURS = [Decimal("0"), Decimal("1"), Decimal("0"), Decimal("1.5")]
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
            title, stem, subject, summary, description = TOPICS[i % len(TOPICS)]
            day = now + timedelta(days=rng.randint(-5 * 365, 180))
            # Courses start on the hour in the morning, as real ones do.
            starts = day.replace(hour=8 + rng.randint(0, 8) % 3, minute=0, second=0, microsecond=0)
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
                    subject=subject,
                    summary=summary,
                    description=description,
                    programme="\n".join(PROGRAMME),
                    # Price and non-legal hours by position, not drawn: the demo's
                    # random sequence (and so its persons and registrations) stays as it was.
                    price=PRICES[i % len(PRICES)],
                    digital_link=(
                        f"https://meet.example/jus/{slug}" if kind == CourseKind.DIGITAL else ""
                    ),
                    legal_hours=Decimal(rng.choice([3, 6, 12])),
                    non_legal_hours=NON_LEGAL_HOURS[i % len(NON_LEGAL_HOURS)],
                    ethics_hours=max(
                        Decimal(rng.choice([0, 0, 1, 2])),
                        Decimal(2 if stem == "advokatetikk" else 0),
                    ),
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
