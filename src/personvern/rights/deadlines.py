"""Response deadlines for data-subject requests (GDPR Art. 12(3)).

GDPR periods are counted under Regulation (EEC, Euratom) No 1182/71:

* Art. 3(1): the day of the event (receipt of the request) is not counted.
* Art. 3(2)(c): a period in months ends with the expiry of the last hour of the
  day in the last month that has the same date as the day of receipt; if that
  month has no such date (31 January + 1 month), the period ends on the last
  day of that month.
* Art. 3(4): if that last day is a public holiday, a Saturday or a Sunday, the
  period ends with the last hour of the following working day.

Both results are kept (see docs/decisions/0002-deadline-counting.md): ``strict``
is the calendar end the controller should aim for ("without undue delay"), and
``legal`` is the last day on which an answer is still on time.

Pure functions with no clock of their own: callers pass ``today``/the received
moment, so tests and forecasts move time without patching.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from personvern.rights.holidays import next_working_day

# Legal dates are calendar dates in Norway, whatever time zone the server runs in.
LEGAL_TIME_ZONE = ZoneInfo("Europe/Oslo")

# Art. 12(3): one month, extendable "by two further months".
BASE_MONTHS = 1
MAX_EXTRA_MONTHS = 2


@dataclass(frozen=True)
class Deadline:
    """The end of a response period.

    ``strict`` is the unadjusted end date under Reg. 1182/71 Art. 3(2)(c);
    ``legal`` is ``strict`` moved to the next working day under Art. 3(4).
    The period runs to the end of the day (23:59:59 Europe/Oslo) in both cases.
    """

    strict: date
    legal: date


def _add_months(start: date, months: int) -> date:
    """Return the date ``months`` later with the same day number, clamped to month end."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def response_deadline(received: date, months: int = BASE_MONTHS) -> Deadline:
    """Return the deadline for answering a request received on ``received``.

    ``received`` is the Europe/Oslo calendar date of receipt (see
    :func:`received_date`); it is not itself counted. Raises ValueError if
    ``months`` is less than 1.
    """
    if months < 1:
        raise ValueError(f"months: a response period must be at least 1 month, got {months}")
    strict = _add_months(received, months)
    return Deadline(strict=strict, legal=next_working_day(strict))


def extended_deadline(received: date, extra_months: int) -> Deadline:
    """Return the deadline after an Art. 12(3) extension of ``extra_months`` (1 or 2).

    The extended period is counted as one period of ``1 + extra_months`` months
    from receipt, not from the original (possibly holiday-adjusted) deadline, so
    an extension never gains days from a weekend at the end of the first month.
    Raises ValueError if ``extra_months`` is not 1 or 2.
    """
    if not 1 <= extra_months <= MAX_EXTRA_MONTHS:
        raise ValueError(
            f"extra_months: an extension must be 1 to {MAX_EXTRA_MONTHS} months, got {extra_months}"
        )
    return response_deadline(received, months=BASE_MONTHS + extra_months)


def received_date(dt: datetime) -> date:
    """Return the Europe/Oslo calendar date of an aware datetime.

    A request that arrives at 23:30 UTC on 31 January arrived on 1 February in
    Norway, and that is the day the period runs from. Raises ValueError for a
    naive datetime, because its calendar date would depend on the server's zone.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"received: datetime {dt.isoformat()} is naive; a time zone is required")
    return dt.astimezone(LEGAL_TIME_ZONE).date()


def days_left(deadline: date, today: date) -> int:
    """Return the number of calendar days from ``today`` to ``deadline``.

    0 means the deadline is today (still on time until the end of the day);
    a negative number is the number of days the deadline has been missed by.
    """
    return (deadline - today).days
