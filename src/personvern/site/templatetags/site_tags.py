"""Template tags and filters of the public site.

Load with ``{% load site_tags %}``.

Tags:
    ``{% cookie_banner %}``        the analytics question (until answered)
    ``{% language_switcher %}``    buttons for nb / en

Other filters:
    ``{{ request.path|is_under:"/courses/" }}``  whether a path is at or below a prefix
                                                 (the main navigation's aria-current)

Date and time filters (always in the site's time zone, Europe/Oslo, and in the
page's language, through the formats in ``personvern.site.formats``; 24-hour
clock in both languages; an empty value gives an empty string):
    ``{{ value|day }}``              nb "3. desember 2026"            en "3 December 2026"
    ``{{ value|day_time }}``         nb "3. desember 2026 kl. 09:00"  en "3 December 2026, 09:00"
    ``{{ value|time_of_day }}``      "09:00" in both
    ``{{ start|day_range:end }}``    same day: nb "3. desember 2026 kl. 09:00–16:00",
                                     en "3 December 2026, 09:00–16:00"; over several
                                     days: nb "3. desember 2026 kl. 09:00 – 4. desember
                                     2026 kl. 16:00", en the same pattern
    ``{{ value|iso_day }}``          "2026-12-03" (machine-readable, e.g. <time datetime>)

``value`` may be an aware datetime (converted to Europe/Oslo), a naive
datetime (taken as it is) or a date (``day`` only; ``day_time`` gives the day).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils import formats, timezone

from personvern.webstats import consent

register = template.Library()


@register.inclusion_tag("site/_cookie_banner.html", takes_context=True)
def cookie_banner(context: template.Context) -> dict[str, Any]:
    """The analytics question, shown until the visitor answers it.

    With a Global Privacy Control signal the question is not asked: the signal
    is the answer ("no"), and the banner only says that it is honoured.
    """
    request = context.get("request")
    if request is None or context.get("hide_banner"):
        return {"show": False, "gpc": False}
    gpc = consent.gpc_signal(request)
    return {
        "show": not gpc and consent.stored_choice(request) is None,
        "gpc": gpc,
        "next": request.get_full_path(),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("site/_language_switcher.html", takes_context=True)
def language_switcher(context: template.Context) -> dict[str, Any]:
    """Buttons that switch the page language through Django's ``set_language``."""
    request = context.get("request")
    return {
        "languages": settings.LANGUAGES,
        "next": request.get_full_path() if request is not None else "/",
        "csrf_token": context.get("csrf_token"),
    }


def _local(value: Any) -> Any:
    """An aware datetime in the site's zone; a naive datetime or a date as it is."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value, ZoneInfo(settings.TIME_ZONE))
    return value


@register.filter
def day(value: Any) -> str:
    """The date in words: nb "3. desember 2026", en "3 December 2026"."""
    if not isinstance(value, date):
        return ""
    return formats.date_format(_local(value), "DATE_FORMAT")


@register.filter
def day_time(value: Any) -> str:
    """Date and time: nb "3. desember 2026 kl. 09:00", en "3 December 2026, 09:00"."""
    if not isinstance(value, datetime):
        return day(value)
    return formats.date_format(_local(value), "DATETIME_FORMAT")


@register.filter
def time_of_day(value: Any) -> str:
    """The time on a 24-hour clock: "09:00"."""
    if not isinstance(value, datetime):
        return ""
    return formats.time_format(_local(value), "TIME_FORMAT")


@register.filter
def day_range(start: Any, end: Any) -> str:
    """A start and end: one day and two times if both fall on the same day, else two dates."""
    if not isinstance(start, datetime):
        return ""
    if not isinstance(end, datetime):
        return day_time(start)
    first, last = _local(start), _local(end)
    if first.date() == last.date():
        return f"{day_time(start)}\u2013{time_of_day(end)}"
    return f"{day_time(start)} \u2013 {day_time(end)}"


@register.filter
def iso_day(value: Any) -> str:
    """The date as ISO 8601 ("2026-12-03"), for the ``datetime`` attribute of <time>."""
    if not isinstance(value, date):
        return ""
    local = _local(value)
    return (local.date() if isinstance(local, datetime) else local).isoformat()


@register.filter
def is_under(path: Any, prefix: Any) -> bool:
    """Whether ``path`` is ``prefix`` or below it (``/`` only matches itself)."""
    if not isinstance(path, str) or not isinstance(prefix, str) or not prefix:
        return False
    if prefix == "/":
        return path == "/"
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")
