"""The forecast, the dry run and the run count the same rows (R31; issue 7, defect 3.13).

On a demo database the dry run once predicted 476 rows and the run removed
589: analytics events went in a second pass (their consent was deleted in the
first), rows cascaded with their parent were counted on their own line, a row
due under two rules was counted twice, and the persons the run leaves without
a record were not foreseen. These tests build the demo data (small, once for
both dates, each run rolled back) and hold the three to the same figures, per
line, per model and in total.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from personvern.cli import main
from personvern.core.models import Person
from personvern.core.registry import holders
from personvern.retention.engine import (
    RunReport,
    holder_row_counts,
    retention_forecast,
    retention_run,
)
from personvern.webstats.models import AnalyticsConsent, AnalyticsEvent, ConsentChoice
from tests.shared_data import anchor_copy, built_once_fixture

from .factories import at

pytestmark = pytest.mark.django_db

DEMO = ["demo", "--persons", "60", "--seed", "3", "--as-of", "2026-06-01"]


def _lines(report: RunReport) -> dict[str, tuple[int, dict[str, int]]]:
    return {line.key: (line.count, line.cascaded) for line in report.lines}


def _deleted_per_model(report: RunReport) -> dict[str, int]:
    deleting = RunReport(
        as_of=report.as_of,
        dry_run=report.dry_run,
        lines=[line for line in report.lines if line.action == "delete"],
    )
    return deleting.per_model()


def _assert_agree(as_of: datetime) -> RunReport:
    forecast = retention_forecast(as_of=as_of)
    dry = retention_run(as_of=as_of, dry_run=True)
    before = holder_row_counts()
    persons_before = Person.objects.count()

    run = retention_run(as_of=as_of, batch_size=7)

    after = holder_row_counts()
    assert forecast.refused == dry.refused == run.refused == []
    predicted = {
        f"{line.activity}/{line.rule}/{line.holder}": (line.due_now, line.cascaded)
        for line in forecast.lines
    }
    assert predicted == _lines(dry) == _lines(run)
    assert forecast.per_model() == dry.per_model() == run.per_model()
    assert forecast.due_now == dry.rows == run.rows
    assert forecast.cascaded_now == dry.cascaded_rows == run.cascaded_rows
    assert forecast.orphan_persons == dry.persons_removed == run.persons_removed
    assert forecast.persons_minimised == dry.persons_minimised == run.persons_minimised
    assert forecast.stale_holds == dry.stale_holds == run.stale_holds
    # And what the run says it deleted is what left the tables.
    gone = {k: before[k] - after[k] for k in before if before[k] != after[k]}
    # Identity records go with persons; a proxy's rows are its concrete model's.
    not_counted = {h.label for h in holders() if h.activity is None or h.model._meta.proxy}
    assert {k: v for k, v in gone.items() if k not in not_counted} == _deleted_per_model(run)
    assert persons_before - Person.objects.count() == run.persons_removed
    # The dry run changed nothing; a second run finds nothing.
    again = retention_run(as_of=as_of, dry_run=True)
    assert again.rows == again.cascaded_rows == again.persons_removed == 0
    return run


def _run_demo() -> None:
    assert main(DEMO) == 0


_demo_built = built_once_fixture("_demo_built", _run_demo, scope="class")


@pytest.fixture
def demo(_demo_built: Path, audit_anchor: Path, db: None) -> None:
    """The demo, built once for the class; each test's run is rolled back (ADR 0034)."""
    anchor_copy(_demo_built, audit_anchor)


class TestOnTheDemoData:
    @pytest.mark.req("R31")
    @pytest.mark.parametrize("as_of_day", [date(2027, 9, 1), date(2031, 1, 1)])
    def test_forecast_dry_run_and_run_agree_on_the_demo_data(
        self, demo: None, as_of_day: date
    ) -> None:
        run = _assert_agree(at(as_of_day))

        assert run.rows > 100
        assert run.cascaded_rows > 0
        assert run.persons_removed > 0


@pytest.mark.req("R31")
def test_rows_that_fall_due_during_the_run_are_in_the_forecast() -> None:
    # A visitor granted consent long ago and was counted since: the consent is
    # deleted after 13 months, and with no standing consent the recent events
    # fall due at once, in the same run (the old forecast counted them as kept).
    visitor = uuid.uuid4()
    granted = datetime(2025, 1, 10, 12, tzinfo=UTC)
    AnalyticsConsent.objects.create(visitor_id=visitor, choice=ConsentChoice.GRANTED, at=granted)
    for day in (1, 2, 3):
        AnalyticsEvent.objects.create(
            visitor_id=visitor, path="/kurs/", at=datetime(2026, 5, day, 9, tzinfo=UTC)
        )

    run = _assert_agree(at(date(2026, 6, 1)))

    assert run.per_model() == {"webstats.AnalyticsConsent": 1, "webstats.AnalyticsEvent": 3}
    assert not AnalyticsEvent.objects.exists()


@pytest.mark.req("R31")
def test_forecast_windows_count_the_later_passes_too() -> None:
    visitor = uuid.uuid4()
    AnalyticsConsent.objects.create(
        visitor_id=visitor, choice=ConsentChoice.GRANTED, at=datetime(2025, 6, 1, tzinfo=UTC)
    )
    AnalyticsEvent.objects.create(
        visitor_id=visitor, path="/", at=datetime(2026, 6, 1, 9, tzinfo=UTC)
    )

    forecast = retention_forecast(as_of=at(date(2026, 6, 1)))

    events = {(x.rule, x.holder): x for x in forecast.lines}
    consent = events[("analytics-data", "webstats.AnalyticsConsent")]
    event = events[("after-withdrawal", "webstats.AnalyticsEvent")]
    assert (consent.due_now, consent.due_within[90]) == (0, 1)
    assert (event.due_now, event.due_within[90]) == (0, 1)
    assert AnalyticsConsent.objects.count() == AnalyticsEvent.objects.count() == 1
