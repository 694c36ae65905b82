"""The rights app's periodic jobs (discovered by the worker, see personvern.worker.registry).

- ``rights-intake``: every 5 minutes, privacy requests from the intake mailbox
  (``PERSONVERN_INTAKE_IMAP_URL``; enabled only when it is set).
- ``rights-deadline-reminders``: every morning, reminders of open requests that
  are overdue, due today or due within 7 days (:mod:`personvern.rights.reminders`).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import (
    Counts,
    Job,
    JobContext,
    JobIncomplete,
    daily,
    every,
    register,
)

#: Who the intake job registers requests as, in the audit log.
INTAKE_ACTOR = "worker:rights-intake"


def intake_configured() -> bool:
    """Whether an intake mailbox is configured (``PERSONVERN_INTAKE_IMAP_URL``)."""
    return bool(settings.PERSONVERN_INTAKE_IMAP_URL)


def run_intake(ctx: JobContext) -> Counts:
    """Read the intake mailbox; figures per outcome (a mailbox that cannot be read fails the
    run, so the back office shows it)."""
    from personvern.rights.intake import Outcome, intake_imap

    report = intake_imap(
        settings.PERSONVERN_INTAKE_IMAP_URL,
        password=settings.PERSONVERN_INTAKE_IMAP_PASSWORD,
        actor=INTAKE_ACTOR,
        now=ctx.now,
    )
    counts = {
        "registered": report.count(Outcome.CREATED) + report.count(Outcome.CREATED_UNCLASSIFIED),
        "needs_classification": report.count(Outcome.CREATED_UNCLASSIFIED),
        "unlinked": sum(1 for item in report.items if item.unlinked),
        "with_malware": sum(1 for item in report.items if item.infected),
        "already_registered": report.count(Outcome.ALREADY_TAKEN),
        "not_marked": report.count(Outcome.NOT_MARKED),
        "malformed": report.count(Outcome.MALFORMED),
        "not_scanned": report.count(Outcome.NOT_SCANNED),
        "failed": report.count(Outcome.FAILED),
    }
    if counts["failed"]:
        # A message that could not be registered is tried again next run, but its
        # legal deadline runs: the run shows as failed so the officer looks into it.
        raise JobIncomplete(f"{counts['failed']} message(s) could not be registered", counts)
    return counts


def run_deadline_reminders(ctx: JobContext) -> Counts:
    """Queue the day's deadline reminders; figures per bucket and mails queued."""
    from personvern.rights.deadlines import received_date
    from personvern.rights.reminders import send_deadline_reminders

    return send_deadline_reminders(today=received_date(ctx.now), now=ctx.now)


register(
    Job(
        name="rights-intake",
        schedule=every(minutes=5),
        run=run_intake,
        description=_("Register privacy requests sent to the intake mailbox"),
        enabled=intake_configured,
    )
)

register(
    Job(
        name="rights-deadline-reminders",
        schedule=daily("07:00"),
        run=run_deadline_reminders,
        description=_(
            "Remind the assignee or the data protection officer of privacy requests that "
            "are overdue, due today or due within 7 days"
        ),
    )
)


def run_bundles_expire(ctx: JobContext) -> Counts:
    from personvern.rights.selfservice import bundles_expire

    return {"deleted": bundles_expire(now=ctx.now)}


register(
    Job(
        name="rights-bundles-expire",
        schedule=daily("03:15"),
        run=run_bundles_expire,
        description=_(
            "Delete the files of fulfilled access and portability requests once they have "
            "been downloadable on Min side for the configured number of days"
        ),
    )
)
