"""The mailbox app's periodic job (discovered by the worker, see personvern.worker.registry).

- ``mailbox-sweep``: every night, e-mail retention on the staff mailboxes
  (:mod:`personvern.mailbox.sweep`; enabled only when
  ``PERSONVERN_MAILBOX_IMAP_URLS`` names at least one).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import Counts, Job, JobContext, JobIncomplete, daily, register

SWEEP_ACTOR = "worker:mailbox-sweep"


def sweep_configured() -> bool:
    return bool(settings.PERSONVERN_MAILBOX_IMAP_URLS)


def run_sweep(ctx: JobContext) -> Counts:
    """Sweep the mailboxes; figures summed over them (a mailbox that cannot be read fails
    the run, so the back office shows it)."""
    from personvern.mailbox.sweep import mailbox_sweep

    report = mailbox_sweep(actor=SWEEP_ACTOR, now=ctx.now,
                           progress=lambda _mailbox, done, total: ctx.progress(done, total))
    counts = {
        name: report.total(name)
        for name in ("new", "recorded", "unknown", "infected", "unscanned",
                     "kept_by_ground", "kept_by_hold", "deleted", "gone")
    }
    if counts["unscanned"]:
        raise JobIncomplete(f"{counts['unscanned']} message(s) could not be scanned", counts)
    return counts


register(
    Job(
        name="mailbox-sweep",
        schedule=daily("02:00"),  # before retention-run (02:30): mail and rows go together
        run=run_sweep,
        description=_("Delete staff e-mail the policy no longer lets us keep (nightly)"),
        enabled=sweep_configured,
    )
)
