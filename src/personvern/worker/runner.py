"""The worker: runs queued tasks and the schedule of periodic jobs.

Safety design:

- **One run per slot.** The scheduler inserts ``JobRun(job, slot)`` under a
  unique constraint and enqueues its task in the same transaction. Of several
  workers reaching the same slot, one insert wins; the others get an integrity
  error and leave it. Nothing in memory is shared between workers.
- **A killed worker's work is taken over.** Each worker writes a heartbeat
  (``WorkerProcess.seen_at``) from a thread, also while a long job runs. A task
  still marked running whose worker has not been seen for
  ``WORKER_STALE_SECONDS`` is put back in the queue; its job run is run again
  (``attempts`` counts the tries). Jobs are therefore written to be safe to
  repeat: each is a set of idempotent steps (retention deletes what is due, the
  sweep sends what is queued).
- **Records hold no personal data.** A job returns counts; a failure is kept as
  the exception's type; the traceback goes to the worker's log only.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, close_old_connections, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.dateparse import parse_datetime

from personvern.worker import registry
from personvern.worker.models import JobRun, JobRunState, WorkerProcess

logger = logging.getLogger(__name__)

#: The id of the worker running in this process (set by :class:`Worker`).
_current_worker = threading.local()


#: Tries of one job run whose worker died before it could finish.
MAX_RUN_ATTEMPTS = 3
#: Tasks run in one round before the schedule is looked at again.
TASKS_PER_TICK = 200
#: How long a scheduled run still queued or running keeps its job from the next slot.
BUSY_FOR_AT_MOST = timedelta(hours=6)


def current_worker_id() -> str:
    return getattr(_current_worker, "id", "") or f"{socket.gethostname()}:{os.getpid()}"


def stale_after() -> timedelta:
    return timedelta(seconds=settings.PERSONVERN_WORKER_STALE_SECONDS)


# --- scheduling ---------------------------------------------------------------


def schedule_due(*, now: datetime, as_of: str | None = None) -> list[JobRun]:
    """Claim the current slot of every enabled job that has not had it; enqueue their runs."""
    from personvern.worker.tasks import run_job

    claimed = []
    # A job whose previous run is still queued or running is not started again
    # beside it (two retention runs or intakes at once help nobody); it takes
    # the then-current slot once that run ends. A run stuck that long is not
    # waited for: its task failed outside the job, and the job must go on.
    busy = set(
        JobRun.objects.filter(
            state__in=[JobRunState.QUEUED, JobRunState.RUNNING], manual=False,
            queued_at__gte=timezone.now() - BUSY_FOR_AT_MOST,
        ).values_list("job", flat=True)
    )
    existing = set(
        JobRun.objects.filter(
            job__in=[job.name for job in registry.jobs()],
            slot__gte=now - timedelta(days=2),
        ).values_list("job", "slot")
    )
    for job in registry.jobs():
        if not job.enabled():
            continue
        slot = job.schedule.slot(now)
        if (job.name, slot) in existing or job.name in busy:
            continue
        try:
            with transaction.atomic():
                run = JobRun.objects.create(job=job.name, slot=slot, queued_at=timezone.now())
                run_job.enqueue(run.pk, as_of)
        except IntegrityError:
            continue  # another worker claimed this slot first
        claimed.append(run)
    return claimed


def run_now(name: str, *, now: datetime | None = None,
            progress: Callable[[int, int], None] | None = None) -> JobRun:
    """Run a job at once in this process (``personvern jobs run NAME``), recorded like any run."""
    job = registry.get(name)
    at = now or timezone.now()
    run = JobRun.objects.create(
        job=job.name, slot=timezone.now(), manual=True, queued_at=timezone.now()
    )
    execute_run(run.pk, as_of=at.isoformat() if now else None, progress=progress)
    run.refresh_from_db()
    return run


def execute_run(run_id: int, *, as_of: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run one job run; records start, end, outcome and counts. Never raises for a job's error."""
    run = JobRun.objects.get(pk=run_id)
    if run.state in (JobRunState.SUCCEEDED, JobRunState.FAILED):
        return {"state": run.state}
    if run.attempts >= MAX_RUN_ATTEMPTS:
        # Each try so far ended with its worker (killed, out of memory): stop here.
        JobRun.objects.filter(pk=run.pk).update(
            state=JobRunState.FAILED, finished_at=timezone.now(),
            error=f"gave up after {run.attempts} attempts that did not finish",
        )
        return {"state": JobRunState.FAILED}
    started = timezone.now()
    JobRun.objects.filter(pk=run.pk).update(
        state=JobRunState.RUNNING, started_at=started, attempts=run.attempts + 1,
        worker=current_worker_id()[:100],
    )
    now = parse_datetime(as_of) if as_of else None
    try:
        job = registry.get(run.job)
        context = registry.JobContext(
            now=now or timezone.now(), job=job.name,
            **({"progress": progress} if progress else {}),
        )
        counts = {str(k): int(v) for k, v in dict(job.run(context)).items()}
    except registry.JobIncomplete as incomplete:
        logger.warning("Job %s (run %s) incomplete: %s", run.job, run.pk, incomplete)
        JobRun.objects.filter(pk=run.pk).update(
            state=JobRunState.FAILED, finished_at=timezone.now(), error=str(incomplete)[:500],
            counts={str(k): int(v) for k, v in dict(incomplete.counts).items()},
        )
        return {"state": JobRunState.FAILED, "counts": dict(incomplete.counts)}
    except Exception as exc:
        logger.exception("Job %s (run %s) failed", run.job, run.pk)
        JobRun.objects.filter(pk=run.pk).update(
            state=JobRunState.FAILED, finished_at=timezone.now(),
            error=f"{type(exc).__module__}.{type(exc).__qualname__}",
        )
        return {"state": JobRunState.FAILED}
    JobRun.objects.filter(pk=run.pk).update(
        state=JobRunState.SUCCEEDED, finished_at=timezone.now(), counts=counts, error=""
    )
    return {"state": JobRunState.SUCCEEDED, "counts": counts}


# --- what the back office and `jobs list` show ------------------------------------


@dataclass(frozen=True)
class JobStatus:
    job: registry.Job
    enabled: bool
    last: JobRun | None
    next_run: datetime | None
    #: "ok", "failed", "late" (has not run when it should have), "running", "never", "off"
    health: str


def job_statuses(*, now: datetime | None = None) -> list[JobStatus]:
    now = now or timezone.now()
    statuses = []
    for job in registry.jobs():
        enabled = job.enabled()
        last = JobRun.objects.filter(job=job.name).order_by("-slot").first()
        last_scheduled = (
            JobRun.objects.filter(job=job.name, manual=False).order_by("-slot").first()
        )
        due_slot = job.schedule.slot(now)
        if not enabled:
            health = "off"
        elif last is not None and last.state == JobRunState.FAILED:
            health = "failed"
        elif (last_scheduled is None or last_scheduled.slot < due_slot) and (
            now - due_slot > job.grace
        ):
            health = "late"
        elif last is not None and last.state in (JobRunState.RUNNING, JobRunState.QUEUED):
            health = "running"
        elif last is None:
            health = "never"
        else:
            health = "ok"
        statuses.append(
            JobStatus(
                job=job, enabled=enabled, last=last,
                next_run=job.schedule.next_slot(now) if enabled else None, health=health,
            )
        )
    return statuses


# --- the worker process ---------------------------------------------------------


def recover(*, now: datetime | None = None, restarted: str | None = None) -> int:
    """Put back in the queue the tasks of workers that stopped without finishing them.

    ``restarted``: the id of the worker starting now. Tasks still marked as its
    own belong to an earlier process with the same id (a restarted systemd
    unit) and are put back at once: this process has not started any yet.
    """
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    cutoff = now - stale_after()
    alive = set(WorkerProcess.objects.filter(seen_at__gte=cutoff).values_list("worker_id",
                                                                              flat=True))
    requeued = 0
    for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
        owner = task.worker_ids[-1] if task.worker_ids else ""
        mine_from_before = restarted is not None and owner == restarted
        if not mine_from_before and (owner in alive or (task.started_at or now) >= cutoff):
            continue
        requeued += DBTaskResult.objects.filter(
            pk=task.pk, status=TaskResultStatus.RUNNING
        ).update(status=TaskResultStatus.READY, started_at=None)
        logger.warning("Task %s of stopped worker %s put back in the queue", task.pk, owner)
    WorkerProcess.objects.filter(seen_at__lt=cutoff).delete()
    _fail_orphan_runs(now)
    return requeued


def _fail_orphan_runs(now: datetime) -> None:
    """Scheduled runs left queued or running with no task that could still finish them
    (their task failed outside the job) are recorded as failed, not left "running"."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    open_runs = set(
        JobRun.objects.filter(
            state__in=[JobRunState.QUEUED, JobRunState.RUNNING], manual=False,
            queued_at__lt=now - stale_after(),
        ).values_list("pk", flat=True)
    )
    if not open_runs:
        return
    pending = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        task_path__endswith=".run_job",
    ).values_list("args_kwargs", flat=True)
    alive = {args["args"][0] for args in pending if args.get("args")}
    orphans = open_runs - alive
    if orphans:
        JobRun.objects.filter(pk__in=orphans).update(
            state=JobRunState.FAILED, finished_at=now,
            error="its task ended without finishing the run",
        )


class Worker:
    """One ``personvern worker`` process."""

    def __init__(self, *, interval: float = 2.0, worker_id: str | None = None,
                 as_of: datetime | None = None) -> None:
        self.interval = interval
        self.worker_id = (
            worker_id or f"{socket.gethostname()}:{os.getpid()}:{get_random_string(6)}"
        )[:100]
        self.as_of = as_of
        self.running = True
        self._stop_heartbeat = threading.Event()
        self._task_runner: Any = None
        self._first_tick = True

    # heartbeat

    def _beat(self) -> None:
        now = timezone.now()
        updated = WorkerProcess.objects.filter(worker_id=self.worker_id).update(seen_at=now)
        if not updated:
            WorkerProcess.objects.create(
                worker_id=self.worker_id, hostname=socket.gethostname()[:255], pid=os.getpid(),
                started_at=now, seen_at=now,
            )

    def _heartbeat_loop(self) -> None:
        period = max(settings.PERSONVERN_WORKER_STALE_SECONDS / 4, 0.5)
        while not self._stop_heartbeat.wait(period):
            try:
                self._beat()
            except Exception:  # noqa: BLE001 - the heartbeat must outlive any one failure
                logger.warning("heartbeat skipped", exc_info=True)
            finally:
                close_old_connections()

    # tasks

    def _runner(self) -> Any:
        if self._task_runner is None:
            from django_tasks_db.management.commands.db_worker import Worker as DBWorker

            self._task_runner = DBWorker(
                queue_names=["*"], interval=0, batch=True, backend_name="default",
                startup_delay=False, max_tasks=None, worker_id=self.worker_id,
                excluded_queue_names=[],
            )
        return self._task_runner

    def run_one_task(self) -> bool:
        """Claim and run the next ready task; False when there is none."""
        from django_tasks_db.models import DBTaskResult
        from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

        tasks = DBTaskResult.objects.ready().filter(backend_name="default")
        try:
            with exclusive_transaction(tasks.db):
                task = tasks.get_locked()
                if task is not None:
                    task.claim(self.worker_id)
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return False
            raise
        if task is None:
            return False
        self._runner().run_task(task)
        return True

    def tick(self, *, drain: bool = False) -> dict[str, int]:
        """One round: heartbeat, recovery, the schedule, then the ready tasks (at most
        ``TASKS_PER_TICK`` unless ``drain``, so a long mail queue does not hold up the
        schedule). A database busy past its timeout (a long SQLite write) skips the
        round instead of ending the worker."""
        close_old_connections()
        now = self.as_of or timezone.now()
        requeued, claimed, ran, mailed = 0, [], 0, 0
        try:
            self._beat()
            requeued = recover(restarted=self.worker_id if self._first_tick else None)
            self._first_tick = False
            claimed = schedule_due(now=now, as_of=self.as_of.isoformat() if self.as_of else None)
            while self.running and (drain or ran < TASKS_PER_TICK) and self.run_one_task():
                ran += 1
            mailed = self.send_due_mail(drain=drain)
        except OperationalError:
            logger.warning("Worker round skipped: the database is busy", exc_info=True)
        return {"requeued": requeued, "scheduled": len(claimed), "tasks": ran, "mail": mailed}

    def send_due_mail(self, *, drain: bool = False) -> int:
        """Send the outbox's due messages (at most ``TASKS_PER_TICK`` unless ``drain``);
        how many were tried. The outbox row is the queue: no task per message (ADR 0036)."""
        from personvern.worker.outbox import Outcome, deliver_due

        tried = 0
        while self.running:
            counts = deliver_due(limit=TASKS_PER_TICK)
            done = sum(n for outcome, n in counts.items() if outcome != Outcome.SKIPPED.value)
            tried += done
            if not drain or not done:
                return tried
        return tried

    def start(self, *, once: bool = False) -> dict[str, int]:
        _current_worker.id = self.worker_id
        beat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        beat.start()
        totals = {"requeued": 0, "scheduled": 0, "tasks": 0, "mail": 0}
        ran_before = -1
        try:
            while True:
                for key, value in self.tick(drain=once).items():
                    totals[key] += value
                if once or not self.running:
                    break
                done = totals["tasks"] + totals["mail"]
                if done == ran_before:
                    time.sleep(self.interval)  # idle: nothing ran this round
                ran_before = done
        finally:
            self._stop_heartbeat.set()
            beat.join(timeout=5)
            WorkerProcess.objects.filter(worker_id=self.worker_id).delete()
        return totals

    def stop(self, signum: int, frame: Any) -> None:
        logger.warning("Worker %s stopping after the current task", self.worker_id)
        self.running = False

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
