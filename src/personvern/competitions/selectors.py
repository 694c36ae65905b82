"""Reads of competitions."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from personvern.competitions.models import Competition, Entry


def running_competitions(*, as_of: datetime | None = None) -> QuerySet[Competition]:
    """Competitions that accept entries at ``as_of``, with their entry counts."""
    as_of = as_of or timezone.now()
    return (
        Competition.objects.filter(ends_at__gt=as_of)
        .annotate(entry_count=Count("entries"))
        .order_by("ends_at")
    )


def entries_of(competition: Competition) -> QuerySet[Entry]:
    """The entries of a competition, first submitted first."""
    return (
        Entry.objects.filter(competition=competition)
        .select_related("person")
        .order_by("submitted_at", "pk")
    )
