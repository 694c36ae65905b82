"""Hotel stay data is cleared two weeks after the course; the registration stays (R9, R14).

Issue 7, defect 3.19: dietary needs, arrival and departure were kept with the
registration for 5 or 10 years although they are needed only until the stay
is over, and dietary needs can reveal health or belief.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from personvern.core.models import HoldScope
from personvern.core.policy import current_policy
from personvern.core.services import hold_place
from personvern.courses.models import HotelTransferEntry, Registration
from personvern.policy.render import render_notice
from personvern.retention.engine import retention_forecast, retention_run

from .factories import ACTOR, at, hotel_course_ending, register_overnight

pytestmark = pytest.mark.django_db

COURSE_END = at(date(2026, 3, 12), 15)
STAY_FIELDS = ("dietary_needs", "overnight_stay", "arrival_date", "departure_date")


def _stay(registration: Registration) -> tuple[object, ...]:
    registration.refresh_from_db()
    return tuple(getattr(registration, name) for name in STAY_FIELDS)


def _guest(email: str) -> Registration:
    registration = register_overnight(hotel_course_ending(COURSE_END), email)
    Registration.objects.filter(pk=registration.pk).update(dietary_needs="Glutenfri, halal")
    return registration


def _line(as_of_day: date):  # type: ignore[no-untyped-def]
    forecast = retention_forecast(as_of=at(as_of_day))
    return next(x for x in forecast.lines if (x.activity, x.holder) == ("hotel-stay",
                                                                         "courses.HotelStay"))


@pytest.mark.req("R9")
@pytest.mark.req("R14")
def test_stay_fields_are_cleared_fourteen_days_after_the_course_and_the_registration_stays() -> (
    None
):
    guest = _guest("gjest@example.no")
    kept = _stay(guest)
    assert kept[0] == "Glutenfri, halal" and kept[1] is True

    # 14 days after 12 March: kept through 26 March, cleared from 27 March.
    retention_run(as_of=at(date(2026, 3, 26)))
    assert _stay(guest) == kept
    line = _line(date(2026, 3, 26))
    assert (line.due_now, line.due_within[30], line.action, line.keep) == (0, 1, "anonymise",
                                                                          "14d")

    assert _line(date(2026, 3, 27)).due_now == 1
    report = retention_run(as_of=at(date(2026, 3, 27)))

    assert _stay(guest) == ("", False, None, None)
    assert Registration.objects.filter(pk=guest.pk, status=guest.status).exists()
    assert HotelTransferEntry.objects.filter(registration=guest).exists()  # the hand-over record
    assert {x.key: x.count for x in report.lines if x.count} == {
        "hotel-stay/after-the-stay/courses.HotelStay": 1
    }
    assert retention_run(as_of=at(date(2026, 3, 28))).rows == 0  # done once


@pytest.mark.req("R14")
@pytest.mark.req("R19")
def test_a_row_hold_on_the_registration_keeps_its_stay_data() -> None:
    held = _guest("holdt@example.no")
    free = _guest("fri@example.no")
    hold_place(scope=HoldScope.ROW, row=held, reason="Tvist om hotellregningen", actor=ACTOR)

    line = _line(date(2026, 4, 1))
    assert (line.due_now, line.held) == (1, 1)
    retention_run(as_of=at(date(2026, 4, 1)))

    assert _stay(held)[0] == "Glutenfri, halal"
    assert _stay(free)[0] == ""


@pytest.mark.req("R9")
@pytest.mark.req("R14")
@pytest.mark.parametrize(
    ("lang", "period"),
    [
        ("nb", r"14 dager etter at kurset er avsluttet"),
        ("en", r"14 days after the course has ended"),
    ],
)
def test_the_notice_says_how_long_stay_data_is_kept(lang: str, period: str) -> None:
    text = re.sub(r"<[^>]+>", " ", render_notice(current_policy(), lang, "html"))
    text = " ".join(text.split())
    assert re.search(period, text), text[:2000]
    title = {"nb": "Hotellopphold og måltider", "en": "Hotel stays and meals"}[lang]
    section = text[text.index(title):]
    assert re.search(period, section[:3000])


def test_days_after_the_course_the_forecast_windows_count_the_stay() -> None:
    _guest("vindu@example.no")
    line = _line(COURSE_END.date() - timedelta(days=10))
    assert (line.due_now, line.due_within[30]) == (0, 1)
