"""Reads of web statistics and analytics consent."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum

from personvern.webstats.models import AnalyticsConsent, PageView


def analytics_consent_state(visitor_id: uuid.UUID) -> str | None:
    """The visitor's current choice (its latest ledger row), or ``None``."""
    return (
        AnalyticsConsent.objects.filter(visitor_id=visitor_id)
        .order_by("-at", "-pk")
        .values_list("choice", flat=True)
        .first()
    )


def _period(start: date, end: date) -> QuerySet[PageView]:
    return PageView.objects.filter(day__gte=start, day__lte=end)


def pageview_totals(*, start: date, end: date, limit: int = 20) -> list[Mapping[str, Any]]:
    """The most viewed pages between ``start`` and ``end`` (inclusive), with counts."""
    return list(
        _period(start, end)
        .values("path")
        .annotate(views=Sum("count"))
        .order_by("-views", "path")[:limit]
    )


def search_term_totals(*, start: date, end: date, limit: int = 20) -> list[Mapping[str, Any]]:
    """The most frequent site search terms between ``start`` and ``end``."""
    return list(
        _period(start, end)
        .exclude(search_term="")
        .values("search_term")
        .annotate(searches=Sum("count"))
        .order_by("-searches", "search_term")[:limit]
    )


def device_totals(*, start: date, end: date) -> list[Mapping[str, Any]]:
    """Views per device class and browser family."""
    return list(
        _period(start, end)
        .values("device", "browser")
        .annotate(views=Sum("count"))
        .order_by("-views", "device", "browser")
    )
