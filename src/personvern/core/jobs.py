"""The core's periodic jobs (discovered by the worker, see personvern.worker.registry)."""

from __future__ import annotations

from datetime import timedelta

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


def _seal_audit(ctx: JobContext) -> Counts:
    from personvern.core.audit import seal_pending

    return {"sealed": seal_pending(now=ctx.now)}


register(
    Job(
        name="audit-seal",
        schedule=every(minutes=1),
        run=_seal_audit,
        description=_("Seal new audit entries into the keyed chain"),
        grace=timedelta(minutes=10),
    )
)
