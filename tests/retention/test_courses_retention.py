"""R14: course participation kept 10 years for Advokatforeningen members, 5 for others."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest

from personvern.courses.models import Registration
from personvern.retention.engine import retention_forecast, retention_run

from .factories import at, course_ending, member, register

pytestmark = pytest.mark.django_db

MEMBER_RULE = "advokatforeningen-member"
OTHER_RULE = "other-participants"


def _due_now(as_of_day: date, rule: str) -> int:
    forecast = retention_forecast(as_of=at(as_of_day))
    return sum(
        line.due_now
        for line in forecast.lines
        if line.rule == rule and line.holder == "courses.Registration"
    )


def _exists(registration: Registration) -> bool:
    return Registration.objects.filter(pk=registration.pk).exists()


@pytest.mark.req("R14")
@pytest.mark.parametrize(
    ("as_of_day", "deleted"),
    [(date(2025, 6, 9), False), (date(2025, 6, 10), False), (date(2025, 6, 11), True)],
    ids=["day-before", "the-day", "day-after"],
)
def test_member_registration_is_kept_ten_years_after_course_end(
    as_of_day: date, deleted: bool
) -> None:
    # Reg. 1182/71 Art. 3: ten years after 10 June 2015 end at the end of 10 June
    # 2025; the row is kept on that day and deleted from 11 June.
    member("advokat@example.no", since=date(2010, 1, 1))
    registration = register(course_ending(at(date(2015, 6, 10), 16)), "advokat@example.no")

    assert _due_now(as_of_day, MEMBER_RULE) == (1 if deleted else 0)
    assert _due_now(as_of_day, OTHER_RULE) == 0
    retention_run(as_of=at(as_of_day))

    assert _exists(registration) is not deleted


@pytest.mark.req("R14")
@pytest.mark.parametrize(
    ("as_of_day", "deleted"),
    [(date(2023, 3, 4), False), (date(2023, 3, 5), False), (date(2023, 3, 6), True)],
    ids=["day-before", "the-day", "day-after"],
)
def test_other_participant_is_kept_five_years_after_customer_relationship(
    as_of_day: date, deleted: bool
) -> None:
    registration = register(course_ending(at(date(2018, 3, 5), 15)), "kunde@example.no")

    assert _due_now(as_of_day, OTHER_RULE) == (1 if deleted else 0)
    assert _due_now(as_of_day, MEMBER_RULE) == 0
    retention_run(as_of=at(as_of_day))

    assert _exists(registration) is not deleted


@pytest.mark.req("R14")
@pytest.mark.parametrize(
    ("forecast_day", "within_30"),
    [(date(2025, 5, 11), False), (date(2025, 5, 12), True)],
    ids=["31-days-before-deletion", "30-days-before-deletion"],
)
def test_forecast_window_counts_what_the_run_deletes_on_that_day(
    forecast_day: date, within_30: bool
) -> None:
    # Due from 2025-06-11 (see above): the 30-day window of 12 May reaches it, 11 May's not.
    member("varsel@example.no", since=date(2010, 1, 1))
    registration = register(course_ending(at(date(2015, 6, 10), 16)), "varsel@example.no")

    forecast = retention_forecast(as_of=at(forecast_day))
    line = next(x for x in forecast.lines
                if x.rule == MEMBER_RULE and x.holder == "courses.Registration")
    assert (line.due_now, line.due_within[30]) == (0, 1 if within_30 else 0)

    run_day = forecast_day + timedelta(days=30)
    retention_run(as_of=at(run_day))
    assert _exists(registration) is not within_30


@pytest.mark.req("R14")
def test_new_registration_pushes_the_five_year_clock_forward() -> None:
    old = register(course_ending(at(date(2015, 5, 20), 15)), "trofast@example.no")
    as_of = at(date(2021, 1, 1))
    # Alone, the 2015 course would be due on 2020-05-21 (kept through 2020-05-20).
    newer = register(course_ending(at(date(2019, 9, 1), 15)), "trofast@example.no")

    retention_run(as_of=as_of)
    assert _exists(old) and _exists(newer)

    retention_run(as_of=at(date(2024, 9, 1)))  # five years after 2019-09-01: still kept
    assert _exists(old) and _exists(newer)

    retention_run(as_of=at(date(2024, 9, 2)))
    assert not _exists(old) and not _exists(newer)


@pytest.mark.req("R14")
def test_membership_is_judged_at_course_time() -> None:
    # Member while taking the 2012 course, not any more when taking the 2016 one.
    member("tidligere@example.no", since=date(2005, 1, 1), until=date(2013, 12, 31))
    as_member = register(course_ending(at(date(2012, 10, 1), 15)), "tidligere@example.no")
    as_other = register(course_ending(at(date(2016, 10, 1), 15)), "tidligere@example.no")

    # 2021-10-02: the relationship's five years have run, but the member course stays.
    retention_run(as_of=at(date(2021, 10, 2)))
    assert _exists(as_member)
    assert not _exists(as_other)

    retention_run(as_of=at(date(2022, 10, 1)))  # ten years end with this day
    assert _exists(as_member)
    retention_run(as_of=at(date(2022, 10, 2)))
    assert not _exists(as_member)


@pytest.mark.req("R14")
@pytest.mark.parametrize(
    ("end_hour", "end_day", "deleted"),
    [(23, date(2015, 6, 10), True), (0, date(2015, 6, 11), False)],
    ids=["late-evening-same-oslo-day", "just-after-oslo-midnight"],
)
def test_datetime_anchor_is_counted_on_the_oslo_calendar(
    end_hour: int, end_day: date, deleted: bool
) -> None:
    # 00:30 in Oslo on 11 June is still 10 June in UTC; it counts as 11 June.
    member("natt@example.no", since=date(2010, 1, 1))
    end = at(end_day, end_hour, 30)
    assert end.astimezone(UTC).date() == date(2015, 6, 10)  # both are 10 June in UTC
    registration = register(course_ending(end, hours=2), "natt@example.no")

    retention_run(as_of=at(date(2025, 6, 11), 12))  # 10 June's period has ended; 11 June's not

    assert _exists(registration) is not deleted


@pytest.mark.req("R14")
def test_person_hold_keeps_a_due_registration_and_the_forecast_says_why() -> None:
    from personvern.core.models import HoldScope
    from personvern.core.services import hold_place

    registration = register(course_ending(at(date(2015, 6, 10), 16)), "tvist@example.no")
    hold_place(scope=HoldScope.PERSON, person=registration.person,
               reason="Klagesak om kursbevis", actor="test",
               expires_at=at(date(2027, 1, 1)))

    forecast = retention_forecast(as_of=at(date(2026, 1, 1)))
    line = next(x for x in forecast.lines
                if x.rule == OTHER_RULE and x.holder == "courses.Registration")
    assert (line.due_now, line.held, line.held_reasons) == (0, 1, {"Klagesak om kursbevis": 1})
    retention_run(as_of=at(date(2026, 1, 1)))
    assert _exists(registration)

    retention_run(as_of=at(date(2027, 1, 1)))  # the hold has expired
    assert not _exists(registration)
