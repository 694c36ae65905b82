"""The core's periodic jobs (discovered by the worker, see personvern.worker.registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import Counts, Job, JobContext, every, register


def _scan_pending(ctx: JobContext) -> Counts:
    from personvern.core.scanning import rescan_pending, scanning_enabled

    if not scanning_enabled():
        return {"skipped": 1}
    report = rescan_pending(actor="worker:scan-pending", now=ctx.now)
    return {k: v for k, v in vars(report).items() if isinstance(v, int)}


register(
    Job(
        name="scan-pending",
        schedule=every(minutes=15),
        run=_scan_pending,
        description=_("Scan received files that are still waiting for a virus scan"),
    )
)
