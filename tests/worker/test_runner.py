"""The schedule: one run per slot whatever the number of workers; a killed worker's job is
taken over; every run is recorded and its health shown."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from personvern.worker import registry
from personvern.worker.models import JobRun, JobRunState, WorkerProcess
from personvern.worker.registry import OSLO, daily, every
from personvern.worker.runner import Worker, job_statuses, run_now, schedule_due
from personvern.worker.tasks import run_job
from tests.processes import database_url

AS_OF = "2027-03-01T10:07:00+01:00"
ROOT = Path(__file__).resolve().parents[2]


def _env(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PERSONVERN_ENV="test",
        PERSONVERN_DATABASE_URL=url,
        PERSONVERN_DATA_DIR=str(settings.DATA_DIR),
        PERSONVERN_SECRET_KEY=settings.SECRET_KEY,
        PERSONVERN_AUDIT_KEY=settings.PERSONVERN_AUDIT_KEY,
        PERSONVERN_EMAIL_URL="console://",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


@pytest.fixture
def workers_db(tmp_path: Path) -> str:
    """The database the worker processes share: PostgreSQL's test database, or on SQLite a
    file of their own, migrated for the test, which the test reads with plain SQL.

    (A test that read the SQLite test database's file in this process released this
    process's locks on it, and workers then deleted its WAL under our connections:
    see ``_on_disk`` in tests/rights/test_erasure.py. That is fixed; a file of their
    own still keeps these tests independent of what other tests left behind.)
    """
    if connection.vendor != "sqlite":
        return database_url()
    url = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "personvern", "manage", "migrate", "-v0"],
        env=_env(url), cwd=ROOT, check=True, capture_output=True, timeout=300,
    )
    return url


def _runs(url: str, job: str) -> list[dict[str, object]]:
    """The job's runs as the workers recorded them (read with plain SQL on a file of their own)."""
    if not url.startswith("sqlite"):
        connection.close()  # a fresh snapshot of what the other processes committed
        return list(JobRun.objects.filter(job=job).values("state", "attempts", "worker"))
    with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
        rows = raw.execute(
            "SELECT state, attempts, worker FROM worker_jobrun WHERE job = ?", [job]
        ).fetchall()
    return [{"state": s, "attempts": a, "worker": w} for s, a, w in rows]


def _worker(log: Path, out: Path, url: str, *, sleep: float = 0, stale: int = 120,
            worker_id: str) -> subprocess.Popen[bytes]:
    env = _env(url, PERSONVERN_WORKER_STALE_SECONDS=str(stale), PROBE_LOG=str(log),
               PROBE_SLEEP=str(sleep))
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.worker.run_worker", "worker", "--once",
         "--as-of", AS_OF, "--worker-id", worker_id],
        env=env, cwd=ROOT, stdout=out.open("ab"), stderr=subprocess.STDOUT,
    )


def test_slots_follow_the_schedule_in_oslo_time() -> None:
    nightly = daily("02:30")
    # Before 02:30 the slot is yesterday's; the next is today's, across daylight saving.
    before = datetime(2027, 3, 28, 0, 15, tzinfo=UTC)  # 01:15 CET, the night clocks go forward
    assert nightly.slot(before) == datetime(2027, 3, 27, 2, 30, tzinfo=OSLO)
    assert nightly.next_slot(before) == datetime(2027, 3, 28, 2, 30, tzinfo=OSLO)
    quarter = every(minutes=15)
    at = datetime(2027, 3, 1, 9, 7, 30, tzinfo=UTC)
    assert quarter.slot(at) == datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert quarter.next_slot(at) == datetime(2027, 3, 1, 9, 15, tzinfo=UTC)


@pytest.mark.django_db
def test_a_slot_is_claimed_once() -> None:
    now = datetime(2027, 3, 1, 10, 7, tzinfo=OSLO)
    first = schedule_due(now=now)
    assert {run.job for run in first} >= {"retention-run", "mail-sweep"}
    assert schedule_due(now=now) == []
    JobRun.objects.update(state=JobRunState.SUCCEEDED)
    assert "mail-sweep" in {run.job for run in schedule_due(now=now + timedelta(minutes=5))}


@pytest.mark.django_db
def test_a_job_still_running_is_not_started_again_beside_itself() -> None:
    now = datetime(2027, 3, 1, 10, 7, tzinfo=OSLO)
    [sweep] = [run for run in schedule_due(now=now) if run.job == "mail-sweep"]
    JobRun.objects.filter(pk=sweep.pk).update(state=JobRunState.RUNNING)
    later = now + timedelta(minutes=5)
    assert "mail-sweep" not in {run.job for run in schedule_due(now=later)}
    JobRun.objects.filter(pk=sweep.pk).update(state=JobRunState.SUCCEEDED)
    assert "mail-sweep" in {run.job for run in schedule_due(now=later)}


@pytest.mark.django_db
def test_runs_are_recorded_with_counts_and_failures_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_now("worker-records-prune")
    assert run.state == JobRunState.SUCCEEDED
    assert run.counts == {"task_records_removed": 0, "job_runs_removed": 0}
    assert run.manual and run.started_at and run.finished_at

    def broken(ctx: registry.JobContext) -> registry.Counts:
        raise ValueError("kari@example.no is not valid")  # personal data in the message

    job = registry.get("mail-sweep")
    monkeypatch.setitem(registry._REGISTRY, "mail-sweep",
                        registry.Job(name=job.name, schedule=job.schedule, run=broken))
    failed = run_now("mail-sweep")
    assert failed.state == JobRunState.FAILED
    assert failed.error == "builtins.ValueError"  # the type only, never the message
    health = {s.job.name: s.health for s in job_statuses()}
    assert health["mail-sweep"] == "failed"
    # Never run since its slot began (beyond the grace): late.
    assert health["retention-run"] in {"late", "never"}
    late = {s.job.name: s.health
            for s in job_statuses(now=datetime(2027, 3, 1, 10, 0, tzinfo=OSLO))}
    assert late["retention-run"] == "late"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_several_workers_never_run_a_slot_twice(tmp_path: Path, workers_db: str) -> None:
    log, out = tmp_path / "probe.log", tmp_path / "workers.out"
    workers = [_worker(log, out, workers_db, sleep=0.5, worker_id=f"w{i}") for i in range(3)]
    for process in workers:
        assert process.wait(timeout=180) == 0, out.read_text()
    starts = [line for line in log.read_text().splitlines() if line.startswith("start")]
    assert len(starts) == 1, log.read_text()
    runs = _runs(workers_db, "test-probe")
    assert [run["state"] for run in runs] == [JobRunState.SUCCEEDED]
    # Every other job too: one run for its slot, whichever worker took it.
    for name in ("retention-run", "mail-sweep", "scan-pending"):
        assert len(_runs(workers_db, name)) == 1, name


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_of_a_killed_worker_is_taken_over(tmp_path: Path, workers_db: str) -> None:
    log, out = tmp_path / "probe.log", tmp_path / "workers.out"
    first = _worker(log, out, workers_db, sleep=300, stale=2, worker_id="doomed")
    deadline = time.monotonic() + 120  # start-up in a busy CI; not a timing assertion
    while not (log.exists() and "start" in log.read_text()):
        if time.monotonic() > deadline or first.poll() is not None:
            first.kill()
            pytest.fail(f"the probe never started:\n{out.read_text()}")
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    [run] = _runs(workers_db, "test-probe")
    assert (run["state"], run["attempts"]) == (JobRunState.RUNNING, 1)

    time.sleep(2.5)  # past the stale threshold of the killed worker's heartbeat
    second = _worker(log, out, workers_db, stale=2, worker_id="rescuer")
    assert second.wait(timeout=180) == 0, out.read_text()
    [run] = _runs(workers_db, "test-probe")
    assert (run["state"], run["attempts"], run["worker"]) == (
        JobRunState.SUCCEEDED, 2, "rescuer")
    lines = log.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["start", "start", "end"]


@pytest.mark.django_db(transaction=True)
def test_a_restarted_worker_with_the_documented_fixed_id_lets_its_killed_task_be_taken_over(
) -> None:
    """docs/operations.md runs ``personvern worker --worker-id %H-%i`` with Restart=always:
    a worker killed mid-job comes back under the same id, and must not keep its dead
    incarnation's task looking alive."""
    now = timezone.now()
    run = JobRun.objects.create(job="worker-records-prune", slot=now, queued_at=now,
                                state=JobRunState.RUNNING, attempts=1, worker="host-1")
    run_job.enqueue(run.pk, None)
    task = DBTaskResult.objects.get()
    task.claim("host-1")  # the first incarnation of host-1 took it …
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=now - timedelta(minutes=30))
    WorkerProcess.objects.create(worker_id="host-1", hostname="h", pid=1,
                                 started_at=now - timedelta(minutes=31),
                                 seen_at=now - timedelta(minutes=29))  # … and was SIGKILLed
    # systemd restarts it with the same id; another worker runs beside it.
    restarted = Worker(worker_id="host-1")
    restarted.tick()  # a long-running worker: its row stays, beaten every tick
    Worker(worker_id="host-2").start(once=True)
    restarted.tick()
    run.refresh_from_db()
    assert run.state == JobRunState.SUCCEEDED, DBTaskResult.objects.get(pk=task.pk).status
