"""Response deadlines (GDPR Art. 12(3), Reg. 1182/71) and the Norwegian holiday calendar.

Pure date arithmetic: no database, no clock. Expected dates are written out by
hand from the calendar, not computed with the code under test.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from personvern.rights.deadlines import (
    Deadline,
    days_left,
    extended_deadline,
    received_date,
    response_deadline,
)
from personvern.rights.holidays import (
    easter_sunday,
    is_working_day,
    next_working_day,
    norwegian_public_holidays,
)

# --- Holidays ---------------------------------------------------------------


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    "year, expected",
    [
        (1818, date(1818, 3, 22)),  # earliest possible Easter
        (1943, date(1943, 4, 25)),  # latest possible Easter
        (2000, date(2000, 4, 23)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter_sunday_matches_published_dates(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected
    assert expected.weekday() == calendar.SUNDAY


@pytest.mark.req("R32")
def test_easter_before_gregorian_calendar_is_refused() -> None:
    with pytest.raises(ValueError, match="1582"):
        easter_sunday(1582)


@pytest.mark.req("R32")
def test_public_holidays_2025_are_exactly_the_norwegian_list() -> None:
    assert list(norwegian_public_holidays(2025)) == [
        date(2025, 1, 1),
        date(2025, 4, 17),  # skjærtorsdag
        date(2025, 4, 18),  # langfredag
        date(2025, 4, 20),  # første påskedag
        date(2025, 4, 21),  # andre påskedag
        date(2025, 5, 1),
        date(2025, 5, 17),
        date(2025, 5, 29),  # Kristi himmelfartsdag
        date(2025, 6, 8),  # første pinsedag
        date(2025, 6, 9),  # andre pinsedag
        date(2025, 12, 25),
        date(2025, 12, 26),
    ]
    assert norwegian_public_holidays(2025)[date(2025, 5, 17)] == "Grunnlovsdag"


@pytest.mark.req("R32")
def test_coinciding_holidays_keep_both_names() -> None:
    # 2027: Whit Monday is 17 May.
    holidays = norwegian_public_holidays(2027)
    assert len(holidays) == 11
    assert holidays[date(2027, 5, 17)] == "Grunnlovsdag / Andre pinsedag"


@pytest.mark.req("R32")
def test_returned_holiday_dict_is_a_copy() -> None:
    norwegian_public_holidays(2025).clear()
    assert date(2025, 12, 25) in norwegian_public_holidays(2025)
    assert not is_working_day(date(2025, 12, 25))


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    "day, working",
    [
        (date(2025, 4, 16), True),  # Wednesday before Easter
        (date(2025, 4, 17), False),  # Maundy Thursday
        (date(2025, 4, 19), False),  # Saturday
        (date(2025, 4, 22), True),  # Tuesday after Easter
        (date(2025, 5, 29), False),  # Ascension Day
        (date(2025, 12, 24), True),  # Christmas Eve is an ordinary working day
        (date(2025, 12, 31), True),  # so is New Year's Eve
        (date(2026, 1, 1), False),
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.req("R32")
def test_next_working_day_returns_the_day_itself_when_working() -> None:
    assert next_working_day(date(2025, 4, 16)) == date(2025, 4, 16)
    assert next_working_day(date(2025, 4, 17)) == date(2025, 4, 22)


# --- Response deadlines -----------------------------------------------------


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    "received, strict, legal",
    [
        # No 31 February: the last day of February.
        (date(2025, 1, 31), date(2025, 2, 28), date(2025, 2, 28)),
        (date(2024, 1, 31), date(2024, 2, 29), date(2024, 2, 29)),
        (date(2023, 1, 29), date(2023, 2, 28), date(2023, 2, 28)),
        # Ends on a Saturday: moved to Monday.
        (date(2025, 3, 5), date(2025, 4, 5), date(2025, 4, 7)),
        # Ends on Constitution Day, a Saturday: moved to Monday.
        (date(2025, 4, 17), date(2025, 5, 17), date(2025, 5, 19)),
        # Ends on Christmas Day: 25, 26 Dec holidays, 27, 28 a weekend.
        (date(2025, 11, 25), date(2025, 12, 25), date(2025, 12, 29)),
        # Ends on New Year's Day 2027 (Friday), then a weekend.
        (date(2026, 12, 1), date(2027, 1, 1), date(2027, 1, 4)),
        # Ends on Maundy Thursday: Thursday to Monday are all closed.
        (date(2026, 3, 2), date(2026, 4, 2), date(2026, 4, 7)),
        # Across the year end, ending on a Saturday.
        (date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 2)),
        # An ordinary Wednesday: nothing to adjust.
        (date(2025, 9, 10), date(2025, 10, 10), date(2025, 10, 10)),
    ],
)
def test_response_deadline(received: date, strict: date, legal: date) -> None:
    assert response_deadline(received) == Deadline(strict=strict, legal=legal)


@pytest.mark.req("R32")
def test_response_deadline_needs_at_least_one_month() -> None:
    with pytest.raises(ValueError, match="months"):
        response_deadline(date(2025, 1, 1), months=0)


@pytest.mark.req("R32")
def test_deadline_is_immutable() -> None:
    deadline = response_deadline(date(2025, 1, 31))
    with pytest.raises(AttributeError):
        deadline.legal = date(2025, 3, 1)  # type: ignore[misc]


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    "received, extra, strict, legal",
    [
        (date(2025, 1, 31), 1, date(2025, 3, 31), date(2025, 3, 31)),
        (date(2025, 1, 31), 2, date(2025, 4, 30), date(2025, 4, 30)),
        # Counted from receipt, not from the adjusted first deadline (7 April).
        (date(2025, 3, 5), 2, date(2025, 6, 5), date(2025, 6, 5)),
        # Ends on Whit Monday.
        (date(2025, 3, 9), 2, date(2025, 6, 9), date(2025, 6, 10)),
        # Three months from 30 November: no 30 February.
        (date(2025, 11, 30), 2, date(2026, 2, 28), date(2026, 3, 2)),
    ],
)
def test_extended_deadline(received: date, extra: int, strict: date, legal: date) -> None:
    assert extended_deadline(received, extra) == Deadline(strict=strict, legal=legal)


@pytest.mark.req("R32")
@pytest.mark.parametrize("extra", [0, 3, -1])
def test_extension_outside_one_to_two_months_is_refused(extra: int) -> None:
    with pytest.raises(ValueError, match="extra_months"):
        extended_deadline(date(2025, 1, 1), extra)


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    "moment, expected",
    [
        # Winter (UTC+1): 23:30 UTC on 31 January is already 1 February in Oslo.
        (datetime(2025, 1, 31, 23, 30, tzinfo=UTC), date(2025, 2, 1)),
        (datetime(2025, 1, 31, 22, 59, tzinfo=UTC), date(2025, 1, 31)),
        # Summer (UTC+2).
        (datetime(2025, 6, 30, 22, 0, tzinfo=UTC), date(2025, 7, 1)),
        (datetime(2025, 6, 30, 21, 59, tzinfo=UTC), date(2025, 6, 30)),
        # Already in Oslo time: unchanged.
        (datetime(2025, 3, 5, 0, 1, tzinfo=ZoneInfo("Europe/Oslo")), date(2025, 3, 5)),
    ],
)
def test_received_date_is_the_oslo_calendar_date(moment: datetime, expected: date) -> None:
    assert received_date(moment) == expected


@pytest.mark.req("R32")
def test_received_late_utc_evening_moves_the_deadline() -> None:
    received = received_date(datetime(2025, 1, 31, 23, 30, tzinfo=UTC))
    assert response_deadline(received) == Deadline(strict=date(2025, 3, 1), legal=date(2025, 3, 3))


@pytest.mark.req("R32")
def test_received_date_refuses_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        received_date(datetime(2025, 1, 31, 23, 30))


@pytest.mark.req("R32")
def test_days_left() -> None:
    deadline = date(2025, 2, 28)
    assert days_left(deadline, date(2025, 2, 1)) == 27
    assert days_left(deadline, deadline) == 0
    assert days_left(deadline, date(2025, 3, 3)) == -3


@pytest.mark.req("R32")
def test_every_day_of_2024_to_2030_gets_a_sound_deadline() -> None:
    day = date(2024, 1, 1)
    checked = 0
    while day <= date(2030, 12, 31):
        deadline = response_deadline(day)
        next_month_year = day.year + (day.month == 12)
        next_month = day.month % 12 + 1
        month_length = calendar.monthrange(next_month_year, next_month)[1]

        # strict is in the next month, on the same day number or the month's last day.
        assert (deadline.strict.year, deadline.strict.month) == (next_month_year, next_month)
        assert deadline.strict.day == min(day.day, month_length)
        # legal is the first working day on or after strict; the longest closed run
        # is Maundy Thursday to Easter Monday (5 days).
        assert deadline.legal >= deadline.strict
        assert is_working_day(deadline.legal)
        assert (deadline.legal - deadline.strict).days <= 5
        closed = deadline.strict
        while closed < deadline.legal:
            assert not is_working_day(closed), (day, closed)
            closed += timedelta(days=1)
        # An extension never ends before the ordinary deadline.
        assert extended_deadline(day, 2).legal > deadline.legal
        day += timedelta(days=1)
        checked += 1
    assert checked == 2557
