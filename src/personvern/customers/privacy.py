"""Holders of the customers-suppliers activity (Art. 6(1)(c), bookkeeping: not portable).

Invoices are bookkeeping records: the Bookkeeping Act (bokføringsloven § 13)
requires them for five years after the end of their fiscal year, so an erasure
request keeps them and says why. Every invoice still stored is inside that
period, because the retention run deletes each one when its period ends.

Contact persons document the relationship; they live as long as its books, from
the end of the last fiscal year with business (NULL, so never due, while the
relationship lasts).

A retention term agreed with the organisation (``Customer.agreed_retention_until``,
R22 "or as agreed between the companies", ADR 0027) is the policy's
``agreed-term`` cohort, kept until the agreed date:

- contact persons of an organisation with an agreed term follow the agreement,
  longer or shorter than the books, from the day the relationship has ended
  (the anchor is NULL, so never due, while it lasts);
- an invoice follows the agreement only where the agreement keeps it longer
  than the Bookkeeping Act; a shorter agreement cannot shorten a legal
  obligation, so that invoice stays with the bookkeeping rule.
"""

from typing import Any

from django.db.models import Case, DateField, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.customers.models import CustomerContact, Invoice

ACTIVITY = "customers-suppliers"
BOOKKEEPING_RULE = "bookkeeping"


def _contact_agreed_term_end() -> Any:
    """The agreed date, once the organisation's relationship has ended (else NULL)."""
    return Case(
        When(
            customer__relationship_ended_at__isnull=False,
            then=F("customer__agreed_retention_until"),
        ),
        default=Value(None),
        output_field=DateField(),
    )


def bookkeeping_years() -> int:
    """Whole years the policy's bookkeeping rule keeps an invoice after its fiscal year."""
    from personvern.core.policy import current_policy

    keep = current_policy().activity(ACTIVITY).rule(BOOKKEEPING_RULE).keep
    return keep.years or -(-keep.approx_days // 365)


def _invoice_kept_longer_by_agreement() -> Q:
    """Invoices the agreed term keeps past their bookkeeping period.

    The bookkeeping period of an invoice of fiscal year Y ends on 31 December
    of Y + N (``fiscal_year_end`` is always 31 December), so the agreed date
    keeps it longer exactly when that date's year is after Y + N.
    """
    return Q(
        customer__agreed_retention_until__year__gt=F("fiscal_year_end__year") + bookkeeping_years()
    )


register(
    Holder(
        model=CustomerContact,
        activity="customers-suppliers",
        person="person",
        anchors={
            "fiscal-year-end": "customer__books_fiscal_year_end",
            "customer-relationship-end": "customer__relationship_ended_at",
            "agreed-term-end": _contact_agreed_term_end,
        },
        cohorts={"agreed-term": lambda: Q(customer__agreed_retention_until__isnull=False)},
        fields=[
            ("customer__name", _("organisation")),
            ("role", _("role")),
            ("added_at", _("added")),
        ],
    )
)
register(
    Holder(
        model=Invoice,
        activity="customers-suppliers",
        person="person",
        # No "customer-relationship-end" here on purpose: a rule counting from it
        # could delete invoices before the Bookkeeping Act allows.
        anchors={
            "fiscal-year-end": "fiscal_year_end",
            "agreed-term-end": "customer__agreed_retention_until",
        },
        cohorts={"agreed-term": _invoice_kept_longer_by_agreement},
        fields=[
            ("customer__name", _("organisation")),
            ("number", _("invoice number")),
            ("issued_on", _("issued")),
            ("amount", _("amount (NOK)")),
        ],
        erasure_exceptions={
            "bookkeeping": (
                _(
                    "Invoices are bookkeeping records that the Norwegian Bookkeeping Act "
                    "(section 13) requires us to keep for five years after the end of the "
                    "fiscal year."
                ),
                lambda: Q(),
            )
        },
    )
)
