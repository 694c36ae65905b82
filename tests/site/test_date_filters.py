"""The date and time filters of site_tags: the page's language, Europe/Oslo, 24-hour clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

OSLO = ZoneInfo("Europe/Oslo")
# 08:00 UTC on 3 December is 09:00 in Oslo (winter time, UTC+1).
START = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
END = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
NEXT_DAY_END = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
SUMMER = datetime(2027, 6, 1, 7, 30, tzinfo=UTC)  # 09:30 in Oslo (UTC+2)


def render(text: str, lang: str, **context: object) -> str:
    with translation.override(lang):
        return Template("{% load site_tags %}" + text).render(Context(context))


@pytest.mark.parametrize(("lang", "expected"), [
    ("nb", "3. desember 2026"),
    ("en", "3 December 2026"),
])
def test_day(lang: str, expected: str) -> None:
    assert render("{{ v|day }}", lang, v=START) == expected
    assert render("{{ v|day }}", lang, v=date(2026, 12, 3)) == expected


@pytest.mark.parametrize(("lang", "expected"), [
    ("nb", "3. desember 2026 kl. 09:00"),
    ("en", "3 December 2026, 09:00"),
])
def test_day_time_is_in_oslo_time(lang: str, expected: str) -> None:
    assert render("{{ v|day_time }}", lang, v=START) == expected


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_time_of_day_is_a_24_hour_clock_in_oslo(lang: str) -> None:
    assert render("{{ v|time_of_day }}", lang, v=END) == "16:00"
    assert render("{{ v|time_of_day }}", lang, v=SUMMER) == "09:30"


@pytest.mark.parametrize(("lang", "same_day", "two_days"), [
    ("nb", "3. desember 2026 kl. 09:00–16:00",
     "3. desember 2026 kl. 09:00 – 4. desember 2026 kl. 16:00"),
    ("en", "3 December 2026, 09:00–16:00",
     "3 December 2026, 09:00 – 4 December 2026, 16:00"),
])
def test_day_range(lang: str, same_day: str, two_days: str) -> None:
    assert render("{{ a|day_range:b }}", lang, a=START, b=END) == same_day
    assert render("{{ a|day_range:b }}", lang, a=START, b=NEXT_DAY_END) == two_days


def test_iso_day_and_empty_values() -> None:
    assert render("{{ v|iso_day }}", "en", v=START) == "2026-12-03"
    assert render("{{ v|day }}{{ v|day_time }}{{ v|time_of_day }}{{ v|day_range:v }}", "nb",
                  v=None) == ""


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_django_date_format_has_no_american_dates_or_am_pm(lang: str) -> None:
    """``{{ value|date }}`` without a format uses the same locale formats."""
    out = render("{{ v|date }} {{ v|date:'DATETIME_FORMAT' }} {{ v|date:'SHORT_DATE_FORMAT' }}",
                 lang, v=datetime(2027, 4, 19, 16, 38, tzinfo=OSLO))
    assert "p.m." not in out and "04/19/2027" not in out
    assert "19" in out and "2027" in out
