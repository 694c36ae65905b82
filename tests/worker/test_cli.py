"""``personvern worker --once``, ``jobs list`` and ``jobs run`` from the command line."""

from __future__ import annotations

import json

import pytest

from personvern.cli import main
from personvern.worker.models import JobRun, JobRunState


@pytest.mark.django_db(transaction=True)
def test_worker_once_runs_every_due_job_and_jobs_list_reports_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["worker", "--once", "--as-of", "2027-03-01T10:00:00+01:00"]) == 0
    out = capsys.readouterr().out
    assert "scheduled" in out
    assert JobRun.objects.exclude(state=JobRunState.SUCCEEDED).count() == 0
    assert main(["jobs", "list", "--format", "json"]) == 0
    listed = {job["name"]: job for job in json.loads(capsys.readouterr().out)}
    assert {"retention-run", "mail-sweep", "scan-pending", "hotel-deletion-follow-up",
            "processor-audits", "worker-records-prune"} <= set(listed)
    assert listed["retention-run"]["outcome"] == "succeeded"
    assert listed["retention-run"]["next_run"] is not None


@pytest.mark.django_db
def test_jobs_run_runs_one_job_now_and_records_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "run", "mail-sweep"]) == 0
    assert "mail-sweep: succeeded" in capsys.readouterr().out
    run = JobRun.objects.get(job="mail-sweep")
    assert run.manual and run.state == JobRunState.SUCCEEDED


@pytest.mark.django_db
def test_an_unknown_job_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "run", "no-such-job"]) == 2
    err = capsys.readouterr().err
    assert "No job named 'no-such-job'" in err and "retention-run" in err
