"""The calendar file (RFC 5545) attached to a course confirmation.

One ``VEVENT`` for the course, built with the ``icalendar`` library. Times are
written in UTC (``…Z``), which every calendar program places correctly without
a ``VTIMEZONE`` block. The ``UID`` names the registration, so a second file for
the same registration (a confirmation, then again after a move up) updates the
event in the participant's calendar instead of adding another.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from personvern.courses.models import Registration

PRODUCT_ID = "-//Juristenes Utdanningssenter//Personvern courses//NB"


def _location(registration: Registration) -> str:
    course = registration.course
    if course.venue is not None:
        address = " ".join(course.venue.address.split())
        return f"{course.venue.name}, {address}"
    return course.digital_link or _("Digital")


def course_calendar(registration: Registration, *, url: str, now: datetime | None = None) -> bytes:
    """The .ics file of ``registration``'s course, in the language active now."""
    course = registration.course
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    host = urlsplit(settings.PERSONVERN_BASE_URL).hostname or "localhost"
    event.add("uid", f"registration-{registration.pk}@{host}")
    event.add("dtstamp", (now or timezone.now()).astimezone(UTC))
    event.add("dtstart", course.starts_at.astimezone(UTC))
    event.add("dtend", course.ends_at.astimezone(UTC))
    event.add("summary", course.title)
    event.add("location", _location(registration))
    description = [course.summary] if course.summary else []
    if course.digital_link:
        description.append(course.digital_link)
    description.append(url)
    event.add("description", "\n\n".join(description))
    event.add("url", url)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
