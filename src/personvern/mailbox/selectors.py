"""Reads of e-mail correspondence."""

from __future__ import annotations

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from personvern.core.models import HoldScope
from personvern.core.selectors import active_holds
from personvern.mailbox.models import MailMessage


def kept_messages(*, as_of: datetime | None = None) -> QuerySet[MailMessage]:
    """Messages an active row hold keeps beyond the normal period at ``as_of``."""
    as_of = as_of or timezone.now()
    held = active_holds(as_of).filter(
        scope=HoldScope.ROW,
        content_type=ContentType.objects.get_for_model(MailMessage),
        object_id=OuterRef("pk"),
    )
    return MailMessage.objects.filter(Exists(held)).order_by("received_at", "pk")


def customer_ground_q() -> Q:
    """On ``MailMessage``: the correspondent represents a current customer or partner (R19)."""
    from personvern.customers.models import CustomerContact, CustomerKind

    return Q(
        Exists(
            CustomerContact.objects.filter(
                person_id=OuterRef("person_id"),
                customer__kind__in=(CustomerKind.CUSTOMER, CustomerKind.PARTNER),
                customer__relationship_ended_at__isnull=True,
            )
        )
    )


def sales_ground_q() -> Q:
    """On ``MailMessage``: a sales process with the correspondent is open (R19).

    Sales processes are recorded as inquiries (R15): one not yet closed is open.
    """
    from personvern.inquiries.models import Inquiry

    return Q(
        Exists(
            Inquiry.objects.filter(
                person_id=OuterRef("person_id"),
                closed_at__isnull=True,
            )
        )
    )


def relationship_ground_q() -> Q:
    """On ``MailMessage``: a ground of R19 other than a hold lasts for the correspondent."""
    return customer_ground_q() | sales_ground_q()
