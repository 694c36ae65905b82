"""Reads of customers and bookkeeping records."""

from __future__ import annotations

from django.db.models import QuerySet

from personvern.customers.models import Customer, CustomerContact, Invoice


def active_customers() -> QuerySet[Customer]:
    """Organisations whose relationship has not ended."""
    return Customer.objects.filter(relationship_ended_at__isnull=True).order_by("name")


def contacts_of(customer: Customer) -> QuerySet[CustomerContact]:
    """The contact persons of an organisation."""
    return CustomerContact.objects.filter(customer=customer).select_related("person")


def invoices_of(customer: Customer) -> QuerySet[Invoice]:
    """An organisation's invoices, newest first."""
    return Invoice.objects.filter(customer=customer).order_by("-issued_on", "-pk")
