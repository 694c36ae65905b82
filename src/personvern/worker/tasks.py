"""The tasks the worker runs from the queue (Django's task framework, database backend).

Arguments are row ids (and, for a mailing, the acting staff member's name): the
queue holds no data about the people the system serves.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def deliver_mail(mail_id: int) -> str:
    """Send one queued message (see :mod:`personvern.worker.outbox`).

    Nothing enqueues this any more: every round of the worker sends the outbox's
    due messages (ADR 0036). Kept so that tasks queued by an earlier version still run."""
    from personvern.worker.outbox import deliver

    return deliver(mail_id).value


@task()
def run_job(run_id: int, as_of: str | None = None) -> dict[str, Any]:
    """Run one claimed slot of a periodic job (see :mod:`personvern.worker.runner`)."""
    from personvern.worker.runner import execute_run

    return execute_run(run_id, as_of=as_of)
