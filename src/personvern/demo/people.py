"""Demo persons: Norwegian names, unique e-mails and memberships, set-based."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import EmailIdentity, Membership, Organisation, Person
from personvern.demo.bulk import BATCH, Progress

GIVEN = [
    "Kari",
    "Ola",
    "Ingrid",
    "Per",
    "Anne",
    "Lars",
    "Marit",
    "Jon",
    "Silje",
    "Erik",
    "Hanne",
    "Knut",
    "Nora",
    "Magnus",
    "Ida",
    "Sindre",
    "Astrid",
    "Håkon",
    "Sofie",
    "Øyvind",
    "Ragnhild",
    "Eirik",
    "Tuva",
    "Bjørn",
    "Maja",
    "Sverre",
    "Liv",
    "Trond",
    "Frida",
    "Ståle",
]
FAMILY = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jørgensen",
    "Halvorsen",
    "Henriksen",
    "Lund",
    "Sørensen",
    "Jakobsen",
    "Moen",
    "Gundersen",
    "Iversen",
    "Strand",
    "Solberg",
    "Bakken",
]
#: Demo member numbers are this plus the person's number (the demo's participant has
#: the one before it).
MEMBER_NUMBERS_FROM = 100_000
DOMAINS = ("advokatfirma.no", "example.no", "jusmail.no", "domstol.example", "firma.example")



def _ascii(name: str) -> str:
    return name.lower().replace("æ", "ae").translate(str.maketrans("øå", "oa"))


def generate_persons(
    *, count: int, rng: random.Random, now: datetime, progress: Progress | None = None
) -> None:
    """Create ``count`` persons with one e-mail each; about 40 % Advokatforeningen members
    and 30 % Juristforbundet members, some of whose memberships have ended."""
    start = Person.objects.count()
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        with transaction.atomic():
            people = []
            for i in range(size):
                n = start + offset + i
                given, family = rng.choice(GIVEN), rng.choice(FAMILY)
                phone = f"+47 {rng.randint(400, 999)} {rng.randint(10, 99)} {rng.randint(100, 999)}"
                created = now - timedelta(days=rng.randint(0, 365 * 12))
                people.append(
                    Person(given_name=given, family_name=family, phone=phone, created_at=created)
                )
                people[-1]._demo_n = n  # type: ignore[attr-defined]
            Person.objects.bulk_create(people)
            emails = []
            memberships = []
            for person in people:
                n = person._demo_n  # type: ignore[attr-defined]
                address = f"{_ascii(person.given_name)}.{_ascii(person.family_name)}.{n}@"
                address += DOMAINS[n % len(DOMAINS)]
                emails.append(
                    EmailIdentity(person=person, address=address, created_at=person.created_at)
                )
                roll = rng.random()
                if roll < 0.4:
                    since = date(rng.randint(1995, 2024), rng.randint(1, 12), 1)
                    ended = None
                    if rng.random() < 0.15:
                        ended = since + timedelta(days=rng.randint(365, 3650))
                    memberships.append(
                        Membership(
                            person=person,
                            organisation=Organisation.ADVOKATFORENINGEN,
                            # The organisation's own member number, as its feed sends it.
                            member_id=f"{MEMBER_NUMBERS_FROM + n}",
                            valid_from=since,
                            valid_to=ended,
                        )
                    )
                elif roll < 0.7:
                    since = date(rng.randint(2000, 2025), rng.randint(1, 12), 1)
                    memberships.append(
                        Membership(
                            person=person,
                            organisation=Organisation.JURISTFORBUNDET,
                            member_id=f"JF-{MEMBER_NUMBERS_FROM + n}",
                            valid_from=since,
                        )
                    )
            EmailIdentity.objects.bulk_create(emails)
            Membership.objects.bulk_create(memberships)
            audit_log(
                actor="system:demo",
                action="demo.persons_created",
                data={"count": size},
                now=timezone.now(),
            )
        if progress:
            progress(size)
