"""The nightly retention run (R14, R31): what is due goes without anyone typing a command."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import Counts, Job, JobContext, daily, register


def _retention_run(ctx: JobContext) -> Counts:
    from personvern.retention.engine import retention_run

    report = retention_run(as_of=ctx.now, actor="worker:retention-run")
    if report.refused:
        # A refused target deletes nothing; the run is shown as failed so the
        # data protection officer sees it (the CLI's forecast says why).
        raise RuntimeError(f"{len(report.refused)} retention target(s) refused")
    return {
        "rows": report.rows,
        "cascaded_rows": report.cascaded_rows,
        "persons_removed": report.persons_removed,
        "persons_minimised": report.persons_minimised,
        "stale_holds": report.stale_holds,
    }


register(
    Job(
        name="retention-run",
        schedule=daily("02:30"),
        run=_retention_run,
        description=_("Delete or anonymise what the policy says is due (nightly)"),
    )
)
