"""``personvern retention forecast|run`` (R31: data no longer relevant is deleted continuously)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from personvern.cli import main
from personvern.courses.models import Registration
from personvern.retention.clock import parse_as_of

from .factories import OSLO, at, course_ending, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def due_registration() -> Registration:
    return register(course_ending(at(date(2020, 6, 1), 15)), "cli@example.no")


@pytest.mark.req("R31")
def test_forecast_json_lists_due_rows_and_cumulative_windows(
    due_registration: Registration, capsys: pytest.CaptureFixture[str]
) -> None:
    # Due on 2025-06-01: not yet on 2025-05-01, within 90 days, and cumulatively within 365.
    assert main(["retention", "forecast", "--as-of", "2025-05-01", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    line = next(
        x for x in data["lines"]
        if x["holder"] == "courses.Registration" and x["rule"] == "other-participants"
    )
    assert line["due_now"] == 0
    assert line["due_within_days"] == {"30": 0, "90": 1, "365": 1}
    assert data["windows_cumulative"] is True
    assert data["refused"] == []


@pytest.mark.req("R31")
def test_forecast_table_renders(
    due_registration: Registration, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retention", "forecast", "--as-of", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "other-participants" in out
    assert "cumulative" in out


@pytest.mark.req("R31")
def test_run_dry_run_then_real_run(
    due_registration: Registration, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retention", "run", "--as-of", "2026-01-01", "--dry-run"]) == 0
    assert "would remove: 1" in capsys.readouterr().out
    assert Registration.objects.filter(pk=due_registration.pk).exists()

    assert main(["retention", "run", "--as-of", "2026-01-01", "--batch-size", "10"]) == 0
    assert "removed: 1" in capsys.readouterr().out
    assert not Registration.objects.filter(pk=due_registration.pk).exists()


@pytest.mark.parametrize(
    "args",
    [["--as-of", "2026-13-01"], ["--as-of", "soon"], ["--batch-size", "0"]],
    ids=["bad-date", "not-a-date", "zero-batch"],
)
def test_run_rejects_bad_arguments_by_name(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retention", "run", *args]) == 2
    err = capsys.readouterr().err
    assert ("--as-of" in err) or ("--batch-size" in err)


def test_as_of_date_is_the_start_of_the_oslo_day() -> None:
    moment = parse_as_of("2026-03-29")  # the day summer time starts
    assert moment.tzinfo is OSLO and (moment.hour, moment.minute) == (0, 0)
    assert parse_as_of("2026-03-29T12:00").utcoffset() is not None
