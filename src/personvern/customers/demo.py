"""Demo data for customers, partners and suppliers (R22): organisations, contacts, invoices.

Written set-based (bulk_create in batches) for ``personvern demo``, by the rules
of :mod:`personvern.customers.services`:

- an invoice's ``fiscal_year_end`` is :func:`~personvern.customers.services.fiscal_year_end`
  of its issue date, and its number is unique;
- an ended relationship has ``books_fiscal_year_end`` computed as
  ``customer_end_relationship`` does: the end of the fiscal year it ended in, or
  of its last invoice, whichever is later; a lasting one has none;
- a person is a contact of an organisation at most once, added after the
  relationship started; an invoice names one of its organisation's contacts.

Relationships started up to twelve years ago, so invoices older than five
fiscal years are due for deletion now and the next fiscal year's are due within
the year. The same (persons, rng, now) gives the same data.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.customers.models import Customer, CustomerContact, CustomerKind, Invoice
from personvern.customers.services import ACTIVITY, fiscal_year_end
from personvern.demo.bulk import Progress, bulk_insert

#: Share of persons who represent an organisation we do business with.
CONTACT_SHARE = 0.05
MIN_CONTACTS = 12
#: Contacts per organisation on average.
CONTACTS_PER_ORGANISATION = 2.5
ENDED_SHARE = 0.35

STEMS = [
    "Berg", "Dahl", "Fjord", "Haugen", "Lund", "Nordvik", "Solberg", "Strand", "Vik", "Aas",
    "Bakke", "Moen", "Rønning", "Holm", "Lie",
]
FORMS = [
    ("Advokatfirmaet {a} & {b} AS", CustomerKind.CUSTOMER),
    ("Advokatfirma {a} DA", CustomerKind.CUSTOMER),
    ("{a} kommune", CustomerKind.CUSTOMER),
    ("{a} Revisjon AS", CustomerKind.CUSTOMER),
    ("{a} Konferansehotell AS", CustomerKind.SUPPLIER),
    ("{a} Trykkeri AS", CustomerKind.SUPPLIER),
    ("{a} Catering AS", CustomerKind.SUPPLIER),
    ("Juridisk forum {a}", CustomerKind.PARTNER),
]
ROLES = ["Kontaktperson", "Daglig leder", "Innkjøper", "HR-ansvarlig", "Fagansvarlig",
         "Økonomiansvarlig", "Kurskontakt"]



def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    minutes = int((end - start).total_seconds() // 60)
    return start + timedelta(minutes=rng.randint(0, max(0, minutes)))


def generate(
    *,
    persons: QuerySet[Person],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """Create organisations (customers, suppliers, partners), about 5 % of ``persons`` as
    their contacts, and invoices over the years of each relationship."""
    people = list(persons.values_list("pk", flat=True))
    if not people:
        return
    today = timezone.localdate(now)
    k = min(len(people), max(MIN_CONTACTS, round(len(people) * CONTACT_SHARE)))
    contacts_people = sorted(rng.sample(people, k))
    count = max(4, round(k / CONTACTS_PER_ORGANISATION))
    taken_org_no: set[str] = set(Customer.objects.exclude(org_no="").values_list("org_no",
                                                                                 flat=True))
    with transaction.atomic():
        customers: list[Customer] = []
        for number in range(count):
            form, kind = FORMS[number % len(FORMS)]
            a, b = rng.sample(STEMS, 2)
            org_no = ""
            while not org_no or org_no in taken_org_no:
                org_no = str(rng.randint(810_000_000, 999_999_999))
            taken_org_no.add(org_no)
            started = now - timedelta(days=rng.randint(200, 12 * 365), hours=rng.randint(0, 6))
            ended = None
            if rng.random() < ENDED_SHARE:
                ended = _between(rng, started + timedelta(days=180), now - timedelta(days=1))
            name = form.format(a=a, b=b)
            if number >= len(FORMS) * len(STEMS):
                name += f" ({number})"
            customers.append(
                Customer(
                    name=name,
                    org_no=org_no,
                    kind=kind,
                    relationship_started_at=started,
                    relationship_ended_at=ended,
                )
            )

        # Contacts: each chosen person represents one organisation.
        contacts: list[CustomerContact] = []
        contacts_of: dict[int, list[int]] = {}
        for index, person_id in enumerate(contacts_people):
            customer_no = index % count if index < count else rng.randrange(count)
            customer = customers[customer_no]
            end = customer.relationship_ended_at or now
            contacts_of.setdefault(customer_no, []).append(person_id)
            contacts.append(
                CustomerContact(
                    customer=customer,
                    person_id=person_id,
                    role=rng.choice(ROLES),
                    added_at=_between(rng, customer.relationship_started_at, end),
                )
            )

        # Invoices: a few a year while the relationship lasted (a late one may follow it).
        invoices: list[Invoice] = []
        serial: dict[int, int] = {}
        # A second demo run into the same database must not reuse a number.
        taken_numbers = set(Invoice.objects.values_list("number", flat=True))
        for customer_no, customer in enumerate(customers):
            first = timezone.localdate(customer.relationship_started_at)
            last = timezone.localdate(customer.relationship_ended_at) if (
                customer.relationship_ended_at) else today
            if customer.relationship_ended_at and rng.random() < 0.2:
                last = min(today, last + timedelta(days=40))  # the final invoice comes later
            people_here = contacts_of.get(customer_no, [])
            day = first + timedelta(days=rng.randint(10, 90))
            while day <= last:
                serial[day.year] = serial.get(day.year, 0) + 1
                while f"JUS-{day.year}-{serial[day.year]:05d}" in taken_numbers:
                    serial[day.year] += 1
                amount = Decimal(rng.choice([4900, 7500, 12400, 18900, 36000, 54000]))
                invoices.append(
                    Invoice(
                        customer=customer,
                        person_id=rng.choice(people_here) if people_here else None,
                        number=f"JUS-{day.year}-{serial[day.year]:05d}",
                        issued_on=day,
                        fiscal_year_end=fiscal_year_end(day),
                        amount=amount,
                    )
                )
                day += timedelta(days=rng.randint(60, 200))

        # Books of an ended relationship: as customer_end_relationship computes them.
        last_year_end: dict[int, date] = {}
        for invoice in invoices:
            key = id(invoice.customer)
            if invoice.fiscal_year_end > last_year_end.get(key, date.min):
                last_year_end[key] = invoice.fiscal_year_end
        for customer in customers:
            if customer.relationship_ended_at is None:
                continue
            books_end = fiscal_year_end(timezone.localdate(customer.relationship_ended_at))
            customer.books_fiscal_year_end = max(
                books_end, last_year_end.get(id(customer), books_end)
            )

        bulk_insert(Customer, customers, progress)
        bulk_insert(CustomerContact, contacts, progress)
        bulk_insert(Invoice, invoices, progress)
        audit_log(
            actor="system:demo",
            action="demo.customers_created",
            activity=ACTIVITY,
            data={
                "organisations": len(customers),
                "contacts": len(contacts),
                "invoices": len(invoices),
            },
            now=timezone.now(),
        )
