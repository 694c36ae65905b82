"""Site jobs: the records of failed back-office logins go once their lock-out is over."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import Counts, Job, JobContext, every, register


def _forget_login_failures(ctx: JobContext) -> Counts:
    # django-axes keeps a user name and a client address per failure; they are
    # needed only while they can still lock someone out.
    from axes.models import AccessAttempt

    removed, _ = AccessAttempt.objects.filter(
        attempt_time__lt=ctx.now - settings.AXES_COOLOFF_TIME
    ).delete()
    return {"removed": removed}


register(
    Job(
        name="login-failures-forget",
        schedule=every(minutes=60),
        run=_forget_login_failures,
        description=_("Forget failed back-office logins once their lock-out is over"),
    )
)
