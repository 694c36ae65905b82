"""Retention of the other domains' holders: competitions (R23), recruitment (R27)."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.competitions.models import Entry
from personvern.competitions.services import competition_create, entry_submit
from personvern.recruitment.models import Application, Position
from personvern.recruitment.services import (
    application_end_employment,
    application_receive,
    application_set_status,
    position_close_recruitment,
    position_create,
)
from personvern.retention.engine import retention_run

from .factories import ACTOR, at

pytestmark = pytest.mark.django_db


def _entry(ends: date) -> Entry:
    competition = competition_create(title="Juss-quiz", ends_at=at(ends, 18), actor=ACTOR)
    return entry_submit(competition=competition, email="deltaker@example.no",
                        contribution="Mitt svar", workplace="Advokatfirma AS", actor=ACTOR,
                        now=at(date(2025, 1, 5), 12))


def _alive(row: Entry | Application) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.req("R23")
@pytest.mark.parametrize(
    ("as_of_day", "deleted"),
    [(date(2025, 4, 14), False), (date(2025, 4, 15), False), (date(2025, 4, 16), True)],
    ids=["day-before", "the-day", "day-after"],
)
def test_competition_entry_deleted_a_month_after_the_competition(
    as_of_day: date, deleted: bool
) -> None:
    entry = _entry(date(2025, 3, 15))
    retention_run(as_of=at(as_of_day))
    assert _alive(entry) is not deleted


@pytest.mark.req("R23")
def test_month_end_period_is_never_shortened() -> None:
    # 31 March + 1 month is 30 April by the calendar; the engine deletes on 1 May,
    # the first day on which a full month has certainly passed (ADR 0005).
    entry = _entry(date(2025, 3, 31))
    retention_run(as_of=at(date(2025, 4, 30)))
    assert _alive(entry)
    retention_run(as_of=at(date(2025, 5, 1)))
    assert not _alive(entry)


def _apply(email: str, position: Position | None = None) -> Application:
    return application_receive(email=email, source="direct", position=position,
                               given_name="Sigrid", family_name="Søker", letter="Hei",
                               actor=ACTOR, received_at=at(date(2024, 1, 10), 9))


@pytest.mark.req("R27")
def test_open_application_is_deleted_after_210_days() -> None:
    application = _apply("apen@example.no")
    retention_run(as_of=at(date(2024, 8, 7)))  # 10 January + 210 days: the last day
    assert _alive(application)
    retention_run(as_of=at(date(2024, 8, 8)))
    assert not _alive(application)


@pytest.mark.req("R27")
def test_posted_position_application_is_deleted_when_recruitment_closes() -> None:
    position = position_create(title="Kursrådgiver", actor=ACTOR, posted_at=at(date(2024, 1, 2)))
    application = _apply("stilling@example.no", position)

    retention_run(as_of=at(date(2026, 1, 1)))  # still open: never due, however old
    assert _alive(application)

    position_close_recruitment(position=position, actor=ACTOR, now=at(date(2026, 3, 1), 14))
    retention_run(as_of=at(date(2026, 3, 1), 16))  # closed today: the day is not counted
    assert _alive(application)
    retention_run(as_of=at(date(2026, 3, 2)))
    assert not _alive(application)


@pytest.mark.req("R27")
def test_hired_applicant_is_kept_until_employment_ends() -> None:
    position = position_create(title="Jurist", actor=ACTOR, posted_at=at(date(2024, 1, 2)))
    application = _apply("ansatt@example.no", position)
    application = application_set_status(application=application, status="hired", actor=ACTOR,
                                         now=at(date(2024, 2, 1)))
    position_close_recruitment(position=position, actor=ACTOR, now=at(date(2024, 2, 2)))

    retention_run(as_of=at(date(2030, 1, 1)))  # recruitment closed long ago, but hired
    assert _alive(application)

    application_end_employment(application=application, ended_at=at(date(2030, 6, 30), 16),
                               actor=ACTOR)
    retention_run(as_of=at(date(2030, 6, 30)))  # the last day of employment
    assert _alive(application)
    retention_run(as_of=at(date(2030, 7, 1)))
    assert not _alive(application)
