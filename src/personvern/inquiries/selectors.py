"""Reads of inquiries."""

from __future__ import annotations

from django.db.models import QuerySet

from personvern.core.models import Person
from personvern.inquiries.models import Inquiry


def open_inquiries() -> QuerySet[Inquiry]:
    """Inquiries still to follow up, oldest last contact first."""
    return (
        Inquiry.objects.filter(closed_at__isnull=True)
        .select_related("person")
        .order_by("last_contact_at", "pk")
    )


def inquiries_of(person: Person) -> QuerySet[Inquiry]:
    """One person's inquiries, newest first."""
    return Inquiry.objects.filter(person=person).order_by("-received_at", "-pk")
