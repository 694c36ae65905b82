"""Customers, partners, suppliers (R22): kept as long as the bookkeeping law requires."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core import services as core
from personvern.core.checks import check_holders
from personvern.core.models import Person
from personvern.customers import services
from personvern.customers.models import Customer, CustomerContact, Invoice
from personvern.retention.engine import retention_run
from personvern.rights.engine import erase

pytestmark = pytest.mark.django_db
T0 = datetime(2020, 2, 1, 9, tzinfo=UTC)


def _supplier() -> Customer:
    return services.customer_create(
        name="Hotell Fjord AS", org_no="999 888 777", kind="supplier", actor="t", started_at=T0
    )


def _contact(customer: Customer) -> tuple[Person, CustomerContact]:
    person = core.person_create(email="kontakt@fjord.no", given_name="Siri", actor="t", now=T0)
    return person, services.contact_add(
        customer=customer, person=person, role="Salgssjef", actor="t", now=T0
    )


@pytest.mark.req("R22")
def test_invoice_stores_the_end_of_its_fiscal_year() -> None:
    customer = _supplier()
    invoice = services.invoice_record(
        customer=customer,
        number="2020-17",
        issued_on=date(2020, 3, 4),
        amount=Decimal("1500.00"),
        actor="t",
    )
    assert invoice.fiscal_year_end == date(2020, 12, 31)
    assert customer.org_no == "999888777"
    with pytest.raises(ValidationError, match="already recorded"):
        services.invoice_record(
            customer=customer,
            number="2020-17",
            issued_on=date(2020, 3, 5),
            amount=Decimal("1"),
            actor="t",
        )


def test_organisation_number_must_have_nine_digits() -> None:
    with pytest.raises(ValidationError, match="nine-digit"):
        services.customer_create(name="X", org_no="12345", kind="customer", actor="t")
    assert not Customer.objects.exists()


@pytest.mark.req("R22")
def test_invoices_are_kept_five_years_after_the_end_of_their_fiscal_year() -> None:
    customer = _supplier()
    person, _ = _contact(customer)
    invoice = services.invoice_record(
        customer=customer,
        person=person,
        number="2020-1",
        issued_on=date(2020, 3, 4),
        amount=Decimal("100"),
        actor="t",
    )
    # Five years after 31 Dec 2020 end with 31 Dec 2025: the invoice goes on 1 January.
    retention_run(as_of=datetime(2025, 12, 31, 12, tzinfo=UTC))
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    retention_run(as_of=datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert not Invoice.objects.filter(pk=invoice.pk).exists()


@pytest.mark.req("R22")
def test_contacts_are_kept_while_the_relationship_lasts_and_as_long_as_its_books() -> None:
    customer = _supplier()
    person, contact = _contact(customer)
    retention_run(as_of=datetime(2035, 1, 1, 12, tzinfo=UTC))
    assert CustomerContact.objects.filter(pk=contact.pk).exists()  # relationship still open

    services.customer_end_relationship(
        customer=customer, actor="t", now=datetime(2036, 5, 1, 9, tzinfo=UTC)
    )
    # A final invoice in the next year extends the documentation by a year.
    services.invoice_record(
        customer=customer,
        number="2037-1",
        issued_on=date(2037, 1, 15),
        amount=Decimal("1"),
        actor="t",
    )
    customer.refresh_from_db()
    assert customer.books_fiscal_year_end == date(2037, 12, 31)
    retention_run(as_of=datetime(2042, 12, 31, 12, tzinfo=UTC))
    assert CustomerContact.objects.filter(pk=contact.pk).exists()
    retention_run(as_of=datetime(2043, 1, 1, 12, tzinfo=UTC))
    assert not CustomerContact.objects.filter(pk=contact.pk).exists()


@pytest.mark.req("R22")
@pytest.mark.req("R35")
def test_erasure_keeps_invoices_as_bookkeeping_records_and_says_why() -> None:
    customer = _supplier()
    person, contact = _contact(customer)
    invoice = services.invoice_record(
        customer=customer,
        person=person,
        number="1",
        issued_on=date(2020, 3, 4),
        amount=Decimal("1"),
        actor="t",
    )

    report = erase(person, actor="staff:dpo", lang="en")

    assert report.erased.get("customers.CustomerContact") == 1
    assert not CustomerContact.objects.filter(pk=contact.pk).exists()
    assert Invoice.objects.filter(pk=invoice.pk, person=person).exists()
    kept = [k for k in report.kept if k.holder == "customers.Invoice"]
    assert [(k.count, k.reason_id) for k in kept] == [(1, "bookkeeping")]
    assert "Bookkeeping Act" in kept[0].reason


def test_customer_holders_pass_the_system_check() -> None:
    problems = [
        e
        for e in check_holders()
        if e.obj in (CustomerContact, Invoice) or "'customers-suppliers'" in e.msg
    ]
    assert problems == []
    # ... and the retention engine accepts every (rule, holder) target of the activity.
    report = retention_run(as_of=datetime(2030, 1, 1, tzinfo=UTC), dry_run=True)
    assert [r for r in report.refused if r.activity == "customers-suppliers"] == []


def test_refusals_are_in_norwegian_when_nb_is_active() -> None:
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            services.customer_create(name="X", org_no="12345", kind="customer", actor="t")
        assert exc.value.message_dict["org_no"] == [
            "«12345» er ikke et organisasjonsnummer med ni sifre."
        ]
        customer = _supplier()
        services.invoice_record(
            customer=customer, number="2020-17", issued_on=date(2020, 3, 4),
            amount=Decimal("1"), actor="t",
        )
        with pytest.raises(ValidationError) as exc:
            services.invoice_record(
                customer=customer, number="2020-17", issued_on=date(2020, 3, 5),
                amount=Decimal("1"), actor="t",
            )
        assert exc.value.message_dict["number"] == ["Faktura 2020-17 er allerede registrert."]
