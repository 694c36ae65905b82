"""Reads of competitions."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from personvern.competitions.models import Competition, Entry

ACTIVITY = "competitions"


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


def open_competitions(*, as_of: datetime | None = None) -> QuerySet[Competition]:
    """Competitions taking entries at ``as_of``, the one closing first first (public list)."""
    as_of = as_of or timezone.now()
    return Competition.objects.filter(ends_at__gt=as_of).order_by("ends_at", "pk")


def competition_by_slug(slug: str) -> Competition | None:
    return Competition.objects.filter(slug=slug).first()


def entry_retention(lang: str) -> list[dict[str, str]]:
    """How long entries are kept, in ``lang``, from the policy in force (as the notice
    says it): one line per retention rule of the competitions activity."""
    from personvern.core.policy import current_policy
    from personvern.policy.render import retention_lines

    return retention_lines(current_policy().activity(ACTIVITY), lang)
