"""Norwegian public holidays and working days, for counting legal deadlines.

Pure Python on purpose: deadline arithmetic must be testable without a database,
and a holiday calendar is a small, stable rule set that does not justify a
dependency. The list is the official public holidays ("helligdager" under
helligdagsfredloven, plus the statutory holidays 1 and 17 May). Working days are
Monday to Friday that are not one of these; Christmas Eve and New Year's Eve are
ordinary working days in law and are deliberately not listed.

The names are the official Norwegian names of the days. They identify the day in
logs and admin listings; they are proper names, not UI sentences, so they are not
run through gettext here.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

# The anonymous Gregorian algorithm is only meaningful from the Gregorian reform on.
FIRST_GREGORIAN_YEAR = 1583


def easter_sunday(year: int) -> date:
    """Return the date of (Western) Easter Sunday in ``year``.

    Uses the anonymous Gregorian algorithm (Meeus/Jones/Butcher), exact for every
    Gregorian year. Raises ValueError for years before 1583.
    """
    if year < FIRST_GREGORIAN_YEAR:
        raise ValueError(
            f"year {year}: Easter can only be computed for Gregorian years "
            f"({FIRST_GREGORIAN_YEAR} and later)"
        )
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def _holidays(year: int) -> tuple[tuple[date, str], ...]:
    # Cached as an immutable tuple so callers cannot corrupt the cache through
    # the dict they receive.
    easter = easter_sunday(year)
    days = [
        (date(year, 1, 1), "Første nyttårsdag"),
        (easter - timedelta(days=3), "Skjærtorsdag"),
        (easter - timedelta(days=2), "Langfredag"),
        (easter, "Første påskedag"),
        (easter + timedelta(days=1), "Andre påskedag"),
        (date(year, 5, 1), "Offentlig høytidsdag"),
        (date(year, 5, 17), "Grunnlovsdag"),
        (easter + timedelta(days=39), "Kristi himmelfartsdag"),
        (easter + timedelta(days=49), "Første pinsedag"),
        (easter + timedelta(days=50), "Andre pinsedag"),
        (date(year, 12, 25), "Første juledag"),
        (date(year, 12, 26), "Andre juledag"),
    ]
    # Two holidays can fall on the same day (Ascension Day on 1 May in 2008 and
    # on 17 May in 2007, Whit Monday on 17 May in 2027); keep both names rather
    # than silently dropping one.
    merged: dict[date, str] = {}
    for day, name in days:
        merged[day] = f"{merged[day]} / {name}" if day in merged else name
    return tuple(sorted(merged.items()))


def norwegian_public_holidays(year: int) -> dict[date, str]:
    """Return every Norwegian public holiday in ``year``, mapped to its Norwegian name.

    Covers New Year's Day, Maundy Thursday, Good Friday, Easter Sunday and
    Monday, 1 May, 17 May, Ascension Day, Whit Sunday and Monday, and 25 and
    26 December. Days on which two holidays coincide appear once, with both
    names joined by " / ". The returned dict is a fresh copy, ordered by date.
    """
    return dict(_holidays(year))


def is_public_holiday(d: date) -> bool:
    """Return True if ``d`` is a Norwegian public holiday."""
    return any(day == d for day, _ in _holidays(d.year))


def is_working_day(d: date) -> bool:
    """Return True if ``d`` is Monday to Friday and not a Norwegian public holiday."""
    return d.weekday() < 5 and not is_public_holiday(d)


def next_working_day(d: date) -> date:
    """Return ``d`` if it is a working day, otherwise the first working day after it."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d
