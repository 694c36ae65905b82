"""Writes of customers, contacts and invoices. Each is audited."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.core.services import person_get_or_create
from personvern.customers.models import Customer, CustomerContact, CustomerKind, Invoice

ACTIVITY = "customers-suppliers"

NAME_NEEDED = _("An organisation needs a name.")
NOT_A_KIND = _("'%(kind)s' is not a kind of business relationship.")
NOT_AN_ORG_NO = _("'%(org_no)s' is not a nine-digit organisation number.")
ORG_NO_TAKEN = _("%(org_no)s is already registered.")
ALREADY_ENDED = _("The relationship has already ended.")
ENDS_BEFORE_START = _("A relationship cannot end before it started.")
ALREADY_CONTACT = _("The person is already a contact of this customer.")
INVOICE_NUMBER_NEEDED = _("An invoice needs a number.")
INVOICE_RECORDED = _("Invoice %(number)s is already recorded.")
NOT_A_CONTACT = _(
    "This person is not a contact person of the organisation. An invoice names one of its"
    " contact persons: add the person as a contact on the organisation's page first."
)
AGREED_BEFORE_START = _("An agreed retention term cannot end before the relationship started.")


def fiscal_year_end(issued_on: date) -> date:
    """The end of the fiscal year an invoice belongs to (calendar year, regnskapsloven § 1-7)."""
    return date(issued_on.year, 12, 31)


def customer_create(
    *,
    name: str,
    kind: CustomerKind | str,
    actor: str,
    org_no: str = "",
    started_at: datetime | None = None,
    agreed_retention_until: date | None = None,
) -> Customer:
    """Register an organisation as customer, partner or supplier.

    ``agreed_retention_until``: the date until which a retention term agreed with
    the organisation keeps its data after the relationship (R22; ``privacy.py``).
    """
    started_at = started_at or timezone.now()
    _check_agreed_term(agreed_retention_until, started_at)
    org_no = re.sub(r"\s", "", org_no)
    if not name.strip():
        raise ValidationError({"name": NAME_NEEDED})
    if kind not in CustomerKind.values:
        raise ValidationError({"kind": ValidationError(NOT_A_KIND, params={"kind": kind})})
    if org_no and not re.fullmatch(r"\d{9}", org_no):
        raise ValidationError({"org_no": ValidationError(NOT_AN_ORG_NO, params={"org_no": org_no})})
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                name=name.strip(),
                org_no=org_no,
                kind=kind,
                relationship_started_at=started_at,
                agreed_retention_until=agreed_retention_until,
            )
            audit_log(
                actor=actor,
                action="customer.created",
                activity=ACTIVITY,
                data={
                    "customer": customer.pk,
                    "kind": str(kind),
                    "agreed_retention_until": _iso(agreed_retention_until),
                },
                now=started_at,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"org_no": ValidationError(ORG_NO_TAKEN, params={"org_no": org_no})}
        ) from exc
    return customer


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _check_agreed_term(until: date | None, started_at: datetime) -> None:
    if until is not None and until < timezone.localdate(started_at):
        raise ValidationError({"agreed_retention_until": AGREED_BEFORE_START})


def customer_set_agreed_term(
    *, customer: Customer, until: date | None, actor: str, now: datetime | None = None
) -> Customer:
    """Record (or, with ``None``, remove) the retention term agreed with the organisation.

    From then on its contact persons are kept until ``until`` once the
    relationship has ended, and invoices past their bookkeeping period until
    then (see ``privacy.py``).
    """
    now = now or timezone.now()
    _check_agreed_term(until, customer.relationship_started_at)
    with transaction.atomic():
        before = (
            Customer.objects.select_for_update()
            .values_list("agreed_retention_until", flat=True)
            .get(pk=customer.pk)
        )
        if before == until:
            return customer
        Customer.objects.filter(pk=customer.pk).update(agreed_retention_until=until)
        customer.agreed_retention_until = until
        audit_log(
            actor=actor,
            action="customer.agreed_term_set",
            activity=ACTIVITY,
            data={"customer": customer.pk, "before": _iso(before), "until": _iso(until)},
            now=now,
        )
    return customer


def customer_end_relationship(
    *, customer: Customer, actor: str, now: datetime | None = None
) -> Customer:
    """Record that the relationship ended: the retention period of its contacts starts (R22)."""
    now = now or timezone.now()
    if customer.relationship_ended_at is not None:
        raise ValidationError({"customer": ALREADY_ENDED})
    if now < customer.relationship_started_at:
        raise ValidationError({"now": ENDS_BEFORE_START})
    with transaction.atomic():
        last_invoice_year_end = (
            Invoice.objects.filter(customer=customer)
            .order_by("-fiscal_year_end")
            .values_list("fiscal_year_end", flat=True)
            .first()
        )
        books_end = fiscal_year_end(timezone.localdate(now))
        if last_invoice_year_end is not None and last_invoice_year_end > books_end:
            books_end = last_invoice_year_end
        Customer.objects.filter(pk=customer.pk).update(
            relationship_ended_at=now, books_fiscal_year_end=books_end
        )
        customer.relationship_ended_at = now
        customer.books_fiscal_year_end = books_end
        audit_log(
            actor=actor,
            action="customer.relationship_ended",
            activity=ACTIVITY,
            data={"customer": customer.pk},
            now=now,
        )
    return customer


def contact_add(
    *,
    customer: Customer,
    person: Person,
    actor: str,
    role: str = "",
    now: datetime | None = None,
) -> CustomerContact:
    """Make ``person`` a contact person of ``customer``."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            contact = CustomerContact.objects.create(
                customer=customer, person=person, role=role.strip(), added_at=now
            )
            audit_log(
                actor=actor,
                action="customer.contact_added",
                person=person,
                activity=ACTIVITY,
                data={"customer": customer.pk},
                now=now,
            )
    except IntegrityError as exc:
        raise ValidationError({"person": ALREADY_CONTACT}) from exc
    return contact


def contact_register(
    *,
    customer: Customer,
    email: str,
    actor: str,
    given_name: str = "",
    family_name: str = "",
    phone: str = "",
    role: str = "",
    now: datetime | None = None,
) -> CustomerContact:
    """Add a contact person by e-mail address, creating the person if the address is new.

    One transaction: a refused contact (already one of this customer's) leaves no
    new person behind.
    """
    now = now or timezone.now()
    with transaction.atomic():
        person, _created = person_get_or_create(
            email=email,
            given_name=given_name,
            family_name=family_name,
            phone=phone,
            actor=actor,
            now=now,
        )
        return contact_add(customer=customer, person=person, role=role, actor=actor, now=now)


def is_contact(*, customer: Customer, person: Person) -> bool:
    """Whether ``person`` is one of ``customer``'s contact persons (who an invoice may name)."""
    return CustomerContact.objects.filter(customer=customer, person=person).exists()


def invoice_record(
    *,
    customer: Customer,
    number: str,
    issued_on: date,
    amount: Decimal,
    actor: str,
    person: Person | None = None,
) -> Invoice:
    """Record an invoice; its fiscal-year end is stored for the retention rule."""
    number = number.strip()
    if not number:
        raise ValidationError({"number": INVOICE_NUMBER_NEEDED})
    if person is not None and not is_contact(customer=customer, person=person):
        raise ValidationError({"person": NOT_A_CONTACT})
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                customer=customer,
                person=person,
                number=number,
                issued_on=issued_on,
                fiscal_year_end=fiscal_year_end(issued_on),
                amount=amount,
            )
            # A late invoice after the relationship ended extends its documentation.
            Customer.objects.filter(
                pk=customer.pk,
                books_fiscal_year_end__isnull=False,
                books_fiscal_year_end__lt=invoice.fiscal_year_end,
            ).update(books_fiscal_year_end=invoice.fiscal_year_end)
            audit_log(
                actor=actor,
                action="customer.invoice_recorded",
                person=person,
                activity=ACTIVITY,
                data={"customer": customer.pk, "invoice": invoice.pk},
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"number": ValidationError(INVOICE_RECORDED, params={"number": number})}
        ) from exc
    return invoice
