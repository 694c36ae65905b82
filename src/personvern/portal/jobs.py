"""Min side's periodic job (discovered by the worker, see personvern.worker.registry).

- ``portal-sign-in-links``: every hour, forget the used sign-in links whose
  lifetime has passed (their signature refuses them anyway).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import Counts, Job, JobContext, every, register


def run_used_links_purge(ctx: JobContext) -> Counts:
    from personvern.portal.signin import used_links_purge

    return {"deleted": used_links_purge(now=ctx.now)}


register(
    Job(
        name="portal-sign-in-links",
        schedule=every(minutes=60),
        run=run_used_links_purge,
        description=_("Forget used Min side sign-in links once they have expired"),
    )
)
