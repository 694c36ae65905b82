"""Reads of e-mail correspondence."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from personvern.core.models import HoldScope
from personvern.core.selectors import active_holds
from personvern.mailbox.models import MailMessage
from personvern.policy.duration import Duration
from personvern.retention.clock import oslo_date

ACTIVITY = "email-correspondence"


def kept_messages(*, as_of: datetime | None = None) -> QuerySet[MailMessage]:
    """Messages an active row hold keeps beyond the normal period at ``as_of``."""
    as_of = as_of or timezone.now()
    held = active_holds(as_of).filter(
        scope=HoldScope.ROW,
        content_type=ContentType.objects.get_for_model(MailMessage),
        object_id=OuterRef("pk"),
    )
    return MailMessage.objects.filter(Exists(held)).order_by("received_at", "pk")


def customer_ground() -> Exists:
    """On ``MailMessage``: the correspondent represents a current customer or partner (R19)."""
    from personvern.customers.models import CustomerContact, CustomerKind

    return Exists(
        CustomerContact.objects.filter(
            person_id=OuterRef("person_id"),
            customer__kind__in=(CustomerKind.CUSTOMER, CustomerKind.PARTNER),
            customer__relationship_ended_at__isnull=True,
        )
    )


def sales_ground() -> Exists:
    """On ``MailMessage``: a sales process with the correspondent is open (R19).

    Sales processes are recorded as inquiries (R15): one not yet closed is open.
    """
    from personvern.inquiries.models import Inquiry

    return Exists(Inquiry.objects.filter(person_id=OuterRef("person_id"), closed_at__isnull=True))


def relationship_ground_q() -> Q:
    """On ``MailMessage``: a ground of R19 other than a hold lasts for the correspondent."""
    return Q(customer_ground()) | Q(sales_ground())


def with_grounds(messages: QuerySet[MailMessage]) -> QuerySet[MailMessage]:
    """``messages`` with ``customer_ground`` and ``sales_ground`` (booleans) annotated."""
    return messages.annotate(customer_ground=customer_ground(), sales_ground=sales_ground())


def retention_period() -> Duration:
    """How long the policy keeps e-mail without a ground (its rule without a cohort)."""
    from personvern.core.policy import current_policy

    for activity in current_policy().activities:
        if activity.id == ACTIVITY:
            for rule in activity.retention:
                if not rule.cohort:
                    return rule.keep
    raise LookupError(f"the policy has no general retention rule for {ACTIVITY!r}")


def deletion_day(message: MailMessage, period: Duration) -> date:
    """The first day the sweep deletes ``message`` if no ground or hold keeps it then.

    The period ends at the end of its last day (the day of receipt not counted):
    received 1 March 2024 with a year's period, the message goes on 2 March 2025.
    A keep until a date moves it to the day after that date.
    """
    day = period.add_to(oslo_date(message.received_at)) + timedelta(days=1)
    if message.keep_reason and message.keep_until:
        day = max(day, message.keep_until + timedelta(days=1))
    return day
