"""The worker's own periodic jobs: the mail sweep and the clean-up of its records."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import Counts, Job, JobContext, daily, every, register

#: How long the records of finished tasks and successful job runs are kept (a
#: job that runs every minute leaves 1,440 a day); failed runs stay longer.
KEEP_RECORDS = timedelta(days=30)
KEEP_FAILED_RUNS = timedelta(days=90)


def _mail_sweep(ctx: JobContext) -> Counts:
    from personvern.worker.outbox import deliver_due, purge

    counts = dict(deliver_due())
    # Records are about real sends: their age is counted on the real clock, also
    # when the job runs for a date ahead (``--as-of``).
    counts.update(purge(now=min(ctx.now, timezone.now())))
    return counts


def _prune(ctx: JobContext) -> Counts:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from personvern.worker.models import JobRun, JobRunState

    real_now = min(ctx.now, timezone.now())  # records of real runs age on the real clock
    cutoff = real_now - KEEP_RECORDS
    tasks, _ = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=cutoff,
    ).delete()
    runs, _ = JobRun.objects.filter(state=JobRunState.SUCCEEDED, finished_at__lt=cutoff).delete()
    failed, _ = JobRun.objects.filter(
        state=JobRunState.FAILED, finished_at__lt=real_now - KEEP_FAILED_RUNS
    ).delete()
    runs += failed
    return {"task_records_removed": tasks, "job_runs_removed": runs}


register(
    Job(
        name="mail-sweep",
        schedule=every(minutes=5),
        run=_mail_sweep,
        description=_(
            "Send queued mail whose delivery was interrupted; remove old records of sent mail"
        ),
    )
)
register(
    Job(
        name="worker-records-prune",
        schedule=daily("03:45"),
        run=_prune,
        description=_(
            "Remove the records of finished tasks and successful job runs after 30 days, "
            "of failed runs after 90"
        ),
    )
)
