"""Reads of web statistics and analytics consent."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet, Sum

from personvern.webstats.models import AnalyticsConsent, DeviceClass, PageView


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


def views_by_day(*, start: date, end: date) -> list[tuple[date, int]]:
    """Views on each day from ``start`` to ``end``, a day without views counted as 0."""
    counted = dict(
        _period(start, end).values("day").annotate(views=Sum("count")).values_list("day", "views")
    )
    days = (end - start).days + 1
    return [(start + timedelta(days=i), int(counted.get(start + timedelta(days=i), 0)))
            for i in range(max(days, 0))]


def views_by_hour(*, start: date, end: date) -> list[tuple[int, int]]:
    """Views in each hour of the day (0–23, the site's time zone) over the period."""
    counted = dict(
        _period(start, end).values("hour").annotate(views=Sum("count"))
        .values_list("hour", "views")
    )
    return [(hour, int(counted.get(hour, 0))) for hour in range(24)]


def device_class_totals(*, start: date, end: date) -> list[tuple[str, int]]:
    """Views per device class (desktop, mobile, bot, other), most first; all classes listed."""
    counted = dict(
        _period(start, end).values("device").annotate(views=Sum("count"))
        .values_list("device", "views")
    )
    rows = [(device, int(counted.get(device, 0))) for device in DeviceClass.values]
    return sorted(rows, key=lambda row: -row[1])


def total_views(*, start: date, end: date) -> int:
    """All views counted in the period."""
    return int(_period(start, end).aggregate(total=Sum("count"))["total"] or 0)
