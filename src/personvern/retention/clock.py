"""Legal dates of the retention engine: Europe/Oslo calendar days.

A retention period is counted in calendar days in Norway, whatever the server's
time zone: a row whose anchor is 23:30 UTC on 31 December belongs to 1 January.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def oslo_date(moment: datetime) -> date:
    """The Europe/Oslo calendar date of an aware datetime (naive is an error)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"as_of must be timezone-aware, got the naive datetime {moment!r}")
    return moment.astimezone(OSLO).date()


def oslo_midnight(day: date) -> datetime:
    """The aware instant at which ``day`` starts in Europe/Oslo.

    Midnight always exists in Oslo (summer time switches at 02:00/03:00).
    """
    return datetime.combine(day, time(0), tzinfo=OSLO)


def start_of_next_day(day: date) -> datetime:
    """The first instant *after* ``day`` in Europe/Oslo.

    A datetime anchor falls on or before ``day`` exactly when it is earlier than
    this instant, so the engine compares the column itself (``anchor < bound``)
    and the database can use an index on it.
    """
    return oslo_midnight(day + timedelta(days=1))


def parse_as_of(text: str) -> datetime:
    """Parse the CLI's ``--as-of``: ``YYYY-MM-DD`` or an ISO 8601 datetime.

    A bare date means the *start* of that day in Europe/Oslo (00:00). Only the
    calendar date decides which rows are due; the instant decides which holds
    and restrictions have expired, and the start of the day is the choice that
    keeps a hold expiring later that day in force (see ADR 0005). A datetime
    without an offset is read as Europe/Oslo local time.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            return oslo_midnight(date.fromisoformat(value))
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(
            f"--as-of: {text!r} is neither a date (YYYY-MM-DD) nor an ISO 8601 datetime"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=OSLO)
    return moment
