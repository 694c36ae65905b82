"""The continuing legal education record: periods, kinds of hours, the requirement (R14)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personvern.core.models import Person
from personvern.courses import services
from personvern.courses.cle import CleRules, Period, cle_record, period_of
from personvern.courses.models import Course, Registration

from .factories import OSLO, make_course, register

pytestmark = [pytest.mark.django_db, pytest.mark.req("R14")]

RULES = CleRules(
    period_years=5, start_year=2020, required_hours=Decimal(80),
    min_ethics_hours=Decimal(5), max_non_legal_hours=Decimal(25),
)
#: In the period 2025–2029; the previous is 2020–2024.
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=OSLO)
EMAIL = "advokat@example.no"


def course_ending(end: datetime, **hours: Any) -> Course:
    values = {"legal_hours": 0, "ethics_hours": 0, "non_legal_hours": 0} | hours
    return make_course(starts_at=end - timedelta(hours=7), days=1, **values)


def attend(course: Course, *, attended: bool | None = True, email: str = EMAIL) -> Registration:
    registration = register(course, email=email, now=course.starts_at - timedelta(days=1))
    if attended is not None:
        services.attendance_record(
            course=course, registration_ids=[registration.pk], attended=attended,
            actor="test", now=course.ends_at,
        )
    return registration


def person() -> Person:
    return Person.objects.get(emails__address=EMAIL)


def test_periods_are_fixed_calendar_years_from_the_configured_start() -> None:
    assert period_of(date(2026, 12, 3), RULES) == Period(2025, 2029)
    assert period_of(date(2025, 1, 1), RULES) == Period(2025, 2029)
    assert period_of(date(2024, 12, 31), RULES) == Period(2020, 2024)
    assert period_of(date(2019, 6, 1), RULES) == Period(2015, 2019)  # before the anchor too
    assert Period(2025, 2029).previous() == Period(2020, 2024)
    three = CleRules(3, 2021, Decimal(40), Decimal(2), Decimal(10))
    assert period_of(date(2026, 12, 3), three) == Period(2024, 2026)


def test_settings_give_the_rules(settings: Any) -> None:
    settings.PERSONVERN_CLE_PERIOD_YEARS = 3
    settings.PERSONVERN_CLE_PERIOD_START_YEAR = 2024
    settings.PERSONVERN_CLE_REQUIRED_HOURS = 40
    settings.PERSONVERN_CLE_MIN_ETHICS_HOURS = 2
    settings.PERSONVERN_CLE_MAX_NON_LEGAL_HOURS = 10
    course_ending(datetime(2026, 5, 1, 16, tzinfo=OSLO), legal_hours=30, non_legal_hours=12)
    attend(Course.objects.get())
    current, previous = cle_record(person(), NOW).periods
    assert (current.period, previous.period) == (Period(2024, 2026), Period(2021, 2023))
    assert current.non_legal_counted == 10
    assert current.counted == 40
    assert not current.met  # no legal ethics
    assert current.ethics_missing == 2


def test_a_course_counts_in_the_period_of_the_day_it_ends_in_norway() -> None:
    # 31 December 2024, 23:30 in Oslo is already 2024-12-31 22:30 UTC: the old period.
    last_day = course_ending(datetime(2024, 12, 31, 23, 30, tzinfo=OSLO), legal_hours=6)
    # 1 January 2025, 00:30 in Oslo is 2024-12-31 23:30 UTC: the new period.
    first_day = course_ending(datetime(2025, 1, 1, 0, 30, tzinfo=OSLO), legal_hours=4)
    too_old = course_ending(datetime(2019, 12, 31, 16, tzinfo=OSLO), legal_hours=50)
    for course in (last_day, first_day, too_old):
        attend(course)
    current, previous = cle_record(person(), NOW, RULES).periods
    assert current.current and not previous.current
    assert (current.legal, current.courses) == (Decimal(4), 1)
    assert (previous.legal, previous.courses) == (Decimal(6), 1)


def test_only_attended_courses_count() -> None:
    attended = course_ending(datetime(2025, 3, 1, 16, tzinfo=OSLO), legal_hours=7, ethics_hours=2)
    absent = course_ending(datetime(2025, 4, 1, 16, tzinfo=OSLO), legal_hours=100)
    unrecorded = course_ending(datetime(2025, 5, 1, 16, tzinfo=OSLO), legal_hours=100)
    cancelled = course_ending(datetime(2025, 6, 1, 16, tzinfo=OSLO), legal_hours=100)
    attend(attended)
    attend(absent, attended=False)
    attend(unrecorded, attended=None)
    services.registration_cancel(
        registration=attend(cancelled, attended=None), actor="test",
        now=cancelled.starts_at - timedelta(hours=1),
    )
    attend(course_ending(datetime(2025, 7, 1, 16, tzinfo=OSLO), legal_hours=100),
           email="someone.else@example.no")
    record = cle_record(person(), NOW, RULES)
    current = record.periods[0]
    assert (current.legal, current.ethics, current.courses) == (Decimal(7), Decimal(2), 1)
    assert record.registrations == 4


def test_non_legal_hours_count_up_to_the_cap() -> None:
    attend(course_ending(datetime(2025, 3, 1, 16, tzinfo=OSLO), non_legal_hours=20))
    attend(course_ending(datetime(2025, 4, 1, 16, tzinfo=OSLO), non_legal_hours="10.5"))
    attend(course_ending(datetime(2025, 5, 1, 16, tzinfo=OSLO), legal_hours=50, ethics_hours=5))
    current = cle_record(person(), NOW, RULES).periods[0]
    assert current.non_legal == Decimal("30.5")
    assert current.non_legal_counted == Decimal(25)
    assert current.non_legal_over_cap
    assert current.taken == Decimal("85.5")
    assert current.counted == Decimal(80)
    assert current.remaining == 0
    assert current.met


def test_enough_hours_without_legal_ethics_do_not_meet_the_requirement() -> None:
    attend(course_ending(datetime(2025, 3, 1, 16, tzinfo=OSLO), legal_hours=90, ethics_hours=4))
    current = cle_record(person(), NOW, RULES).periods[0]
    assert current.counted == Decimal(94)
    assert current.remaining == 0
    assert current.ethics_missing == Decimal(1)
    assert not current.met


def test_one_hour_short_is_not_met_and_exactly_enough_is() -> None:
    attend(course_ending(datetime(2021, 3, 1, 16, tzinfo=OSLO), legal_hours="74.5",
                         ethics_hours=5))
    attend(course_ending(datetime(2025, 3, 1, 16, tzinfo=OSLO), legal_hours=75, ethics_hours=5))
    current, previous = cle_record(person(), NOW, RULES).periods
    assert previous.remaining == Decimal("0.5") and not previous.met
    assert current.remaining == 0 and current.met


def test_the_record_is_one_query_whatever_the_number_of_courses() -> None:
    for month in range(1, 7):
        attend(course_ending(datetime(2025, month, 10, 16, tzinfo=OSLO), legal_hours=3))
    subject = person()
    with CaptureQueriesContext(connection) as queries:
        current = cle_record(subject, NOW, RULES).periods[0]
    assert len(queries) == 1
    assert current.legal == Decimal(18)


def test_a_person_without_courses_has_an_empty_record() -> None:
    nobody = Person.objects.create(given_name="Ola")
    record = cle_record(nobody, NOW, RULES)
    assert record.registrations == 0
    assert all(p.taken == 0 and p.remaining == 80 for p in record.periods)


def test_the_rules_are_configuration_with_defaults_and_checked(tmp_path: Any) -> None:
    from personvern.config import ConfigurationError, load_config

    base = {"PERSONVERN_DATA_DIR": str(tmp_path), "PERSONVERN_ENV": "test"}
    config = load_config(base)
    assert [config.integer(f"CLE_{key}") for key in (
        "PERIOD_YEARS", "PERIOD_START_YEAR", "REQUIRED_HOURS", "MIN_ETHICS_HOURS",
        "MAX_NON_LEGAL_HOURS",
    )] == [5, 2020, 80, 5, 25]
    assert load_config({**base, "PERSONVERN_CLE_REQUIRED_HOURS": "100"}).integer(
        "CLE_REQUIRED_HOURS") == 100
    with pytest.raises(ConfigurationError, match="PERSONVERN_CLE_PERIOD_YEARS must be"):
        load_config({**base, "PERSONVERN_CLE_PERIOD_YEARS": "0"})
    with pytest.raises(ConfigurationError, match="PERSONVERN_CLE_MAX_NON_LEGAL_HOURS must be"):
        load_config({**base, "PERSONVERN_CLE_MAX_NON_LEGAL_HOURS": "lots"})
