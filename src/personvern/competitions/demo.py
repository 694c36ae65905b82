"""Demo data for competitions (R23): competitions and their entries.

Written set-based (bulk_create in batches) for ``personvern demo``, by the rules
of :func:`personvern.competitions.services.entry_submit`: one entry per person
and competition, submitted before the competition ends (and not after ``now``),
with workplace and contribution; ended competitions have feedback given.

The competitions end at different distances from ``now``: long ago (entries
due for deletion now, one month after the end), a few days ago (due within 30
days), and still running (due within 90 days); the two running ones have a
description with rules and a prize, for their public entry pages. The same (persons, rng, now)
gives the same data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from personvern.competitions.models import Competition, Entry
from personvern.competitions.services import ACTIVITY
from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.demo.bulk import Progress, bulk_insert

#: Share of persons who enter each competition, and the least number of entries.
ENTRANT_SHARE = 0.04
MIN_ENTRANTS = 5

# (title, days from now to its end: negative = ended, days it ran)
COMPETITIONS = [
    ("Juridisk julequiz", -540, 21),
    ("Skrivekonkurranse for unge jurister", -75, 60),
    ("Sommerquiz: kjenn din lovsamling", -6, 30),
    ("Årets beste kursidé", 20, 45),
    ("Juridisk julequiz 2.0", 35, 30),
]
#: The text of each competition's public page (/competitions/<slug>/).
DESCRIPTIONS = {
    "Årets beste kursidé": (
        "Hvilket kurs savner du? Beskriv ideen din med noen få setninger: tema, hvem kurset "
        "er for, og hva deltakerne skal kunne etterpå.\n\n"
        "Premie: et valgfritt dagskurs hos oss i 2027. En jury fra fagavdelingen velger "
        "vinneren etter at konkurransen er avsluttet, og alle deltakere får tilbakemelding."
    ),
    "Juridisk julequiz 2.0": (
        "Fem spørsmål om norsk rett, og ett utslagsspørsmål. Skriv svarene dine i feltet "
        "«Bidraget ditt», for eksempel «1 b, 2 a, 3 c, 4 c, 5 a. Utslag: 1 284».\n\n"
        "1. Hvilket år fikk vi Grunnloven? a) 1809 b) 1814 c) 1905\n"
        "2. Hvor mange dommere har Høyesterett i plenum? a) 20 b) 11 c) 5\n"
        "3. Hva regulerer avhendingslova? a) leie b) arv c) salg av fast eiendom\n"
        "4. Hvor lang er foreldelsesfristen etter foreldelsesloven § 2? a) 1 år b) 10 år "
        "c) 3 år\n"
        "5. Hvem utnevner dommere? a) Kongen i statsråd b) Stortinget c) Domstoladministrasjonen"
        "\n\nUtslagsspørsmål: Hvor mange paragrafer har straffeloven?\n\n"
        "Premie: gavekort på et valgfritt kurs. Vinneren trekkes blant dem med flest riktige."
    ),
}
CONTRIBUTIONS = [
    "Svar: 1 b, 2 a, 3 c, 4 c, 5 a. Utslagsspørsmål: 1 284.",
    "Kursidé: et praktisk kurs i forhandlingsteknikk for offentlig ansatte jurister.",
    "Essay: «Når bør en avtale sies opp?» – om lojalitetsplikt i kontraktsforhold.",
    "Svar: 1 a, 2 a, 3 b, 4 c, 5 b. Utslagsspørsmål: 950.",
    "Kursidé: digitalt kurs om KI og personvern for advokatfirma.",
]
WORKPLACES = [
    "Advokatfirmaet Nord AS", "Bergen kommune", "Regjeringsadvokaten", "Skatteetaten",
    "Universitetet i Oslo", "Advokatfirma Vest DA", "Statsforvalteren i Vestland", "",
]
FEEDBACK = [
    "Takk for deltakelsen! Du hadde 4 av 5 riktige.",
    "Takk for et godt bidrag. Juryen likte særlig den praktiske vinklingen.",
    "Gratulerer, du vant et gavekort på et valgfritt kurs!",
]


def _free_slug(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… if a competition (an earlier demo run) has it."""
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def generate(
    *,
    persons: QuerySet[Person],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """Create five competitions (ended long ago, recently, two running) with entries from
    about 4 % of ``persons`` each."""
    people = list(persons.values_list("pk", flat=True))
    if not people:
        return
    with transaction.atomic():
        taken = set(Competition.objects.values_list("slug", flat=True))
        competitions = [
            Competition(
                title=title, slug=_free_slug(slugify(title), taken),
                description=DESCRIPTIONS.get(title, ""),
                ends_at=now + timedelta(days=ends_in, hours=2),
            )
            for title, ends_in, _ran in COMPETITIONS
        ]
        Competition.objects.bulk_create(competitions)
        entries: list[Entry] = []
        for competition, (_title, ends_in, ran) in zip(competitions, COMPETITIONS, strict=True):
            opened = competition.ends_at - timedelta(days=ran)
            closes = min(now, competition.ends_at) - timedelta(minutes=1)
            span = max(0, int((closes - opened).total_seconds() // 60))
            k = min(len(people), max(MIN_ENTRANTS, round(len(people) * ENTRANT_SHARE)))
            ended = competition.ends_at < now
            for person_id in sorted(rng.sample(people, k)):
                entries.append(
                    Entry(
                        competition=competition,
                        person_id=person_id,
                        workplace=rng.choice(WORKPLACES),
                        contribution=rng.choice(CONTRIBUTIONS),
                        submitted_at=opened + timedelta(minutes=rng.randint(0, span)),
                        feedback=rng.choice(FEEDBACK) if ended and ends_in < -14 else "",
                    )
                )
        bulk_insert(Entry, entries, progress)
        audit_log(
            actor="system:demo",
            action="demo.competitions_created",
            activity=ACTIVITY,
            data={"competitions": len(competitions), "entries": len(entries)},
            now=timezone.now(),
        )
