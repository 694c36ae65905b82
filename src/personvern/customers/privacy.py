"""Holders of the customers-suppliers activity (Art. 6(1)(c), bookkeeping: not portable).

Invoices are bookkeeping records: the Bookkeeping Act (bokføringsloven § 13)
requires them for five years after the end of their fiscal year, so an erasure
request keeps them and says why. Every invoice still stored is inside that
period, because the retention run deletes each one when its period ends.

Contact persons document the relationship; they live as long as its books, from
the end of the last fiscal year with business (NULL, so never due, while the
relationship lasts).
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.customers.models import CustomerContact, Invoice

register(
    Holder(
        model=CustomerContact,
        activity="customers-suppliers",
        person="person",
        anchors={
            "fiscal-year-end": "customer__books_fiscal_year_end",
            "customer-relationship-end": "customer__relationship_ended_at",
        },
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
        anchors={"fiscal-year-end": "fiscal_year_end"},
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
