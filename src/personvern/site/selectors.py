"""Reads of the public site."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, QuerySet

from personvern.courses.models import Course
from personvern.courses.selectors import course_overview

UPCOMING_LIMIT = 50


def upcoming_courses(*, now: datetime, query: str = "") -> QuerySet[Course]:
    """Courses not yet over, soonest first, with seat counts; ``query`` filters titles."""
    qs = course_overview().filter(ends_at__gte=now).order_by("starts_at", "slug")
    if query.strip():
        qs = qs.filter(title__icontains=query.strip())
    return qs.annotate(seats_left=F("capacity") - F("confirmed_count"))[:UPCOMING_LIMIT]
