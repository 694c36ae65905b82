"""Reads of recruitment."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from personvern.recruitment.models import Application, Position


def open_positions() -> QuerySet[Position]:
    """Positions whose recruitment is still open, with their number of applications."""
    return (
        Position.objects.filter(recruitment_closed_at__isnull=True)
        .annotate(application_count=Count("applications"))
        .order_by("-posted_at")
    )


def applications_for(position: Position | None) -> QuerySet[Application]:
    """Applications for ``position``; ``None`` gives the open applications."""
    qs = Application.objects.select_related("person", "position")
    if position is None:
        return qs.filter(position__isnull=True).order_by("-received_at")
    return qs.filter(position=position).order_by("-received_at")
