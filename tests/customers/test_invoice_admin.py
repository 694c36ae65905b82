"""The stand-alone invoice form names one of the customer's contact persons (R22).

The row on the organisation's page offers only its contacts; the stand-alone form
(Invoices → Add) takes a person by id, so it checks the same: another customer's
contact, visible to the account manager, is refused with an error beside the field.
The service refuses it too, for any other caller.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from personvern.core import services as core
from personvern.core.models import AuditEntry, Person
from personvern.core.roles import ACCOUNT_MANAGER
from personvern.customers import services
from personvern.customers.models import Customer, Invoice

pytestmark = pytest.mark.django_db


def _customer_with_contact(name: str, email: str) -> tuple[Customer, int]:
    customer = services.customer_create(name=name, kind="customer", actor="t")
    person = core.person_create(email=email, given_name=name.split()[0], actor="t")
    services.contact_add(customer=customer, person=person, role="innkjøp", actor="t")
    return customer, person.pk


def _account_manager() -> Client:
    user = User.objects.create_user("anne", is_staff=True)
    user.groups.add(Group.objects.get(name=ACCOUNT_MANAGER))
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, customer: Customer, person: int) -> object:
    return client.post("/admin/customers/invoice/add/", {
        "customer": customer.pk, "person": person, "number": "2026-1",
        "issued_on": "2026-03-04", "amount": "1200.00",
    }, HTTP_ACCEPT_LANGUAGE="nb")


@pytest.mark.req("R22")
def test_the_invoice_form_refuses_a_person_who_is_not_the_customers_contact() -> None:
    fjord, _siri = _customer_with_contact("Fjord AS", "siri@fjord.no")
    _fonna, ola = _customer_with_contact("Fonna AS", "ola@fonna.no")  # visible: a contact
    client = _account_manager()

    response = _post(client, fjord, ola)

    assert response.status_code == 200  # type: ignore[attr-defined]
    form = response.context["adminform"].form  # type: ignore[attr-defined]
    with translation.override("nb"):
        assert form.errors["person"] == [str(services.NOT_A_CONTACT)]
    assert "ikke kontaktperson for organisasjonen" in form.errors["person"][0]
    assert not Invoice.objects.exists()
    assert not AuditEntry.objects.filter(action="customer.invoice_recorded").exists()


@pytest.mark.req("R22")
def test_the_invoice_form_records_an_invoice_naming_the_customers_contact() -> None:
    fjord, siri = _customer_with_contact("Fjord AS", "siri@fjord.no")
    response = _post(_account_manager(), fjord, siri)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert Invoice.objects.get().person_id == siri


def test_the_service_refuses_a_person_who_is_not_the_customers_contact() -> None:
    fjord, _siri = _customer_with_contact("Fjord AS", "siri@fjord.no")
    _fonna, ola = _customer_with_contact("Fonna AS", "ola@fonna.no")
    with pytest.raises(ValidationError) as exc:
        services.invoice_record(
            customer=fjord, person=Person.objects.get(pk=ola), number="1",
            issued_on=date(2026, 3, 4), amount=Decimal(1), actor="t",
        )
    assert exc.value.message_dict["person"] == [str(services.NOT_A_CONTACT)]
    assert not Invoice.objects.exists()
