"""Customers, partners and suppliers, their contact persons, and invoices (R22).

A :class:`Customer` is an organisation and holds no personal data; the people
are its :class:`CustomerContact` rows and the persons named on invoices.
Invoices are bookkeeping records: the Bookkeeping Act (bokføringsloven § 13)
requires them to be kept for five years after the end of the fiscal year, so an
erasure request leaves them in place (see ``privacy.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import not_personal, personal
from personvern.core.models import Person


class CustomerKind(models.TextChoices):
    CUSTOMER = "customer", _("customer")
    PARTNER = "partner", _("partner")
    SUPPLIER = "supplier", _("supplier")


class Customer(models.Model):
    """An organisation we do business with."""

    name = not_personal(
        models.CharField(_("organisation name"), max_length=200),
        "an organisation's name; its people are CustomerContact rows",
    )
    org_no = models.CharField(_("organisation number"), max_length=9, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices)
    relationship_started_at = models.DateTimeField(_("relationship started"))
    relationship_ended_at = models.DateTimeField(_("relationship ended"), null=True, blank=True)
    # The end of the last fiscal year with business with the organisation: the
    # year the relationship ended or of its last invoice, whichever is later.
    # Empty while the relationship lasts. Its contacts' retention runs from it,
    # so the documentation of the relationship lives as long as its books.
    books_fiscal_year_end = models.DateField(
        _("end of the last fiscal year with business"), null=True, blank=True, db_index=True
    )
    # A retention term agreed with the organisation (R22: "or as agreed between
    # the companies"): its data is kept until this date once the relationship has
    # ended, longer or shorter than the bookkeeping period; invoices never go
    # before the Bookkeeping Act allows (see privacy.py and ADR 0027).
    agreed_retention_until = models.DateField(
        _("data kept until (agreed with the organisation)"),
        null=True,
        blank=True,
        help_text=_(
            "Only where a retention term is agreed with the organisation. Its contact "
            "persons are kept until this date once the relationship has ended; invoices "
            "are never deleted before the Bookkeeping Act allows."
        ),
    )

    class Meta:
        verbose_name = _("customer, partner or supplier")
        verbose_name_plural = _("customers, partners and suppliers")
        constraints = [
            models.UniqueConstraint(
                fields=["org_no"], condition=~models.Q(org_no=""), name="customer_unique_org_no"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CustomerContact(models.Model):
    """A person representing a customer, partner or supplier."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="customer_roles")
    role = personal(models.CharField(_("role"), max_length=100, blank=True))
    added_at = models.DateTimeField(_("added"))

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        constraints = [
            models.UniqueConstraint(fields=["customer", "person"], name="customer_contact_once")
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.customer})"


class Invoice(models.Model):
    """An invoice to or from a customer, partner or supplier: a bookkeeping record."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("customer")
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    number = models.CharField(_("invoice number"), max_length=40, unique=True)
    issued_on = models.DateField(_("issued"))
    # Stored (31 December of ``issued_on``'s year) rather than computed, so the
    # "fiscal-year-end" anchor is a plain indexed column on every database.
    fiscal_year_end = models.DateField(_("end of fiscal year"), db_index=True)
    amount = models.DecimalField(_("amount (NOK)"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_end__gte=models.F("issued_on")),
                name="invoice_fiscal_year_end_after_issue",
            )
        ]

    def __str__(self) -> str:
        return self.number
