"""A retention term agreed with an organisation (R22: "or as agreed between the companies").

Contacts of an organisation with an agreed term follow the agreement once the
relationship has ended, longer or shorter than the books; an invoice follows
it only where it keeps the invoice longer than the Bookkeeping Act (ADR 0027).
Every write here goes through a service and is audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from personvern.core.models import AuditEntry, Person
from personvern.customers import services
from personvern.customers.models import Customer, CustomerContact, Invoice
from personvern.retention.engine import retention_forecast, retention_run

pytestmark = pytest.mark.django_db
T0 = datetime(2020, 2, 1, 9, tzinfo=UTC)
ENDED = datetime(2021, 6, 30, 12, tzinfo=UTC)  # books end 31 Dec 2021, kept to 31 Dec 2026


def _partner(until: date | None = None) -> Customer:
    customer = services.customer_create(
        name="Fjord Partner AS", kind="partner", actor="staff:anne", started_at=T0,
        agreed_retention_until=until,
    )
    services.contact_register(
        customer=customer, email="siri@fjord.no", given_name="Siri", role="Daglig leder",
        actor="staff:anne", now=T0,
    )
    services.invoice_record(
        customer=customer, number="F-1", issued_on=date(2020, 3, 1), amount=Decimal(100),
        actor="staff:anne",
    )
    return customer


def _forecast(forecast: object, holder: str) -> tuple[int, int]:
    """(due now, due within 30 days) under the agreed-term rule for ``holder``."""
    lines = [
        line for line in forecast.lines  # type: ignore[attr-defined]
        if line.rule == "agreed-term" and line.holder == holder
    ]
    assert len(lines) == 1
    return lines[0].due_now, lines[0].due_within[30]


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def _line(report: object, rule: str, holder: str) -> int:
    return sum(
        line.count for line in report.lines  # type: ignore[attr-defined]
        if line.rule == rule and line.holder == holder
    )


@pytest.mark.req("R22")
def test_contact_register_creates_the_person_and_is_audited() -> None:
    customer = _partner()
    contact = CustomerContact.objects.get(customer=customer)
    assert contact.person.given_name == "Siri" and contact.role == "Daglig leder"
    entry = AuditEntry.objects.get(action="customer.contact_added")
    assert entry.actor == "staff:anne" and entry.subject
    assert AuditEntry.objects.filter(action="person.created").count() == 1
    # The same address again is the same person, refused as a second contact, nothing new.
    with pytest.raises(ValidationError, match="already a contact"):
        services.contact_register(customer=customer, email="SIRI@fjord.no", actor="staff:anne")
    assert Person.objects.count() == 1
    assert AuditEntry.objects.filter(action="customer.contact_added").count() == 1


@pytest.mark.req("R22")
def test_setting_the_agreed_term_is_audited_and_checked() -> None:
    customer = _partner()
    services.customer_set_agreed_term(
        customer=customer, until=date(2030, 12, 31), actor="staff:anne"
    )
    assert Customer.objects.get().agreed_retention_until == date(2030, 12, 31)
    entry = AuditEntry.objects.get(action="customer.agreed_term_set")
    assert entry.data["until"] == "2030-12-31" and entry.data["before"] is None
    services.customer_set_agreed_term(customer=customer, until=date(2030, 12, 31), actor="t")
    assert AuditEntry.objects.filter(action="customer.agreed_term_set").count() == 1  # no change
    with pytest.raises(ValidationError, match="before the relationship started"):
        services.customer_set_agreed_term(customer=customer, until=date(2019, 1, 1), actor="t")
    created = AuditEntry.objects.get(action="customer.created")
    assert created.data["agreed_retention_until"] is None


@pytest.mark.req("R22")
def test_without_an_agreement_the_contact_follows_the_books() -> None:
    customer = _partner()
    services.customer_end_relationship(customer=customer, actor="staff:anne", now=ENDED)
    retention_run(as_of=_at(2026, 12, 31))
    assert CustomerContact.objects.exists()  # the 2020 invoice went at the end of 2025
    report = retention_run(as_of=_at(2027, 1, 1))
    assert _line(report, "bookkeeping", "customers.CustomerContact") == 1
    assert not CustomerContact.objects.exists()


@pytest.mark.req("R22")
def test_a_shorter_agreed_term_deletes_contacts_early_but_never_invoices() -> None:
    customer = _partner(until=date(2023, 6, 30))
    services.customer_end_relationship(customer=customer, actor="staff:anne", now=ENDED)

    forecast = retention_forecast(as_of=_at(2023, 6, 30))
    assert _forecast(forecast, "customers.CustomerContact") == (0, 1)  # the day itself is kept
    report = retention_run(as_of=_at(2023, 7, 1), dry_run=True)
    assert _line(report, "agreed-term", "customers.CustomerContact") == 1
    assert _line(report, "agreed-term", "customers.Invoice") == 0

    retention_run(as_of=_at(2023, 7, 1))
    assert not CustomerContact.objects.exists()
    # The Bookkeeping Act keeps the 2020 invoice to the end of 2025 whatever was agreed.
    retention_run(as_of=_at(2025, 12, 31))
    assert Invoice.objects.exists()
    report = retention_run(as_of=_at(2026, 1, 1))
    assert _line(report, "bookkeeping", "customers.Invoice") == 1


@pytest.mark.req("R22")
def test_a_longer_agreed_term_keeps_contacts_and_invoices_to_the_agreed_date() -> None:
    customer = _partner()
    services.customer_set_agreed_term(customer=customer, until=date(2030, 3, 31), actor="t")
    services.customer_end_relationship(customer=customer, actor="staff:anne", now=ENDED)

    retention_run(as_of=_at(2030, 3, 31))  # years past the books
    assert CustomerContact.objects.exists() and Invoice.objects.exists()
    report = retention_run(as_of=_at(2030, 4, 1))
    assert _line(report, "agreed-term", "customers.CustomerContact") == 1
    assert _line(report, "agreed-term", "customers.Invoice") == 1
    assert not CustomerContact.objects.exists() and not Invoice.objects.exists()


@pytest.mark.req("R22")
def test_an_agreed_date_passed_while_the_relationship_lasts_deletes_nothing() -> None:
    _partner(until=date(2021, 1, 31))
    retention_run(as_of=_at(2022, 1, 1))
    assert CustomerContact.objects.exists()  # the relationship has not ended
    assert Invoice.objects.exists()  # the books still need it


def test_an_ongoing_relationship_is_never_due_in_the_forecast() -> None:
    _partner(until=date(2023, 6, 30))
    forecast = retention_forecast(as_of=_at(2023, 6, 15) + timedelta(days=400))
    assert _forecast(forecast, "customers.CustomerContact") == (0, 0)


@pytest.mark.req("R22")
def test_account_manager_sets_the_term_and_ends_the_relationship_in_the_back_office() -> None:
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from personvern.core.roles import ACCOUNT_MANAGER

    customer = _partner()
    user = User.objects.create_user("anne", is_staff=True)
    user.groups.add(Group.objects.get(name=ACCOUNT_MANAGER))
    client = Client()
    client.force_login(user)
    url = f"/admin/customers/customer/{customer.pk}/change/"
    form = {
        "agreed_retention_until": "2031-12-31",
        **{f"{prefix}-{key}": value for prefix in ("contacts", "contacts-2", "invoices",
                                                     "invoices-2")
           for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))},
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Customer.objects.get().agreed_retention_until == date(2031, 12, 31)
    assert AuditEntry.objects.get(action="customer.agreed_term_set").actor == "staff:anne"
    response = client.post("/admin/customers/customer/",
                           {"action": "end_relationship", "_selected_action": [customer.pk]})
    assert response.status_code == 302
    assert Customer.objects.get().relationship_ended_at is not None
    assert AuditEntry.objects.get(action="customer.relationship_ended").actor == "staff:anne"


def _account_manager() -> object:
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from personvern.core.roles import ACCOUNT_MANAGER

    user = User.objects.create_user("anne", is_staff=True)
    user.groups.add(Group.objects.get(name=ACCOUNT_MANAGER))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


_NO_ROWS = {f"{prefix}-{key}": value for prefix in ("contacts", "contacts-2", "invoices",
                                                     "invoices-2")
            for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))}


@pytest.mark.req("R22")
def test_an_agreed_term_before_the_start_is_an_error_beside_the_field_not_a_server_error() -> None:
    client = _account_manager()
    add = client.post("/admin/customers/customer/add/", {  # type: ignore[attr-defined]
        "name": "Fjord AS", "org_no": "", "kind": "customer",
        "relationship_started_at_0": "2026-11-01", "relationship_started_at_1": "10:00",
        "agreed_retention_until": "2020-01-01", **_NO_ROWS,
    })
    assert add.status_code == 200
    assert "cannot end before the relationship started" in add.content.decode()
    assert not Customer.objects.exists()

    customer = _partner()
    entries = AuditEntry.objects.count()
    change = client.post(  # type: ignore[attr-defined]
        f"/admin/customers/customer/{customer.pk}/change/",
        {"agreed_retention_until": "2019-12-31", **_NO_ROWS},
    )
    assert change.status_code == 200
    assert "cannot end before the relationship started" in change.content.decode()
    assert Customer.objects.get(pk=customer.pk).agreed_retention_until is None
    assert AuditEntry.objects.count() == entries


@pytest.mark.req("R22")
def test_ending_a_relationship_that_starts_later_is_refused_by_name() -> None:
    from django.utils import timezone

    later = services.customer_create(
        name="Neste Måned AS", kind="customer", actor="t",
        started_at=timezone.now() + timedelta(days=30),
    )
    client = _account_manager()
    response = client.post(  # type: ignore[attr-defined]
        "/admin/customers/customer/",
        {"action": "end_relationship", "_selected_action": [later.pk]}, follow=True,
    )
    assert response.status_code == 200
    assert "Neste Måned AS: A relationship cannot end before it started." in (
        response.content.decode())
    assert Customer.objects.get(pk=later.pk).relationship_ended_at is None
