"""Policy jobs: processor audits falling due (R10)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import Counts, Job, JobContext, daily, register

#: How far ahead the data protection officer is told of an audit falling due.
AUDIT_NOTICE = timedelta(days=30)
SUBJECT_AUDITS = _("Processor audits due")
INTRO_AUDITS = _(
    "The policy records when each processor was last audited and how often it must be. "
    "These audits are overdue or fall due within 30 days. Record each audit's date as "
    "last_audit in the policy file once it is done."
)
LINE_OVERDUE = _("%(name)s: overdue since %(date)s")
LINE_DUE = _("%(name)s: due %(date)s")


def _processor_audits(ctx: JobContext) -> Counts:
    from personvern.core.policy import current_policy
    from personvern.worker.outbox import queue_mail_each
    from personvern.worker.recipients import dpo_addresses
    from personvern.worker.registry import OSLO

    today = ctx.now.astimezone(OSLO).date()
    due = [
        # Placeholders too: the reminder is also a nudge to name the real processor.
        p for p in current_policy().processors if p.next_audit_due() <= today + AUDIT_NOTICE
    ]
    if not due:
        return {"due": 0, "overdue": 0, "mails": 0}
    overdue = [p for p in due if p.audit_overdue(today)]
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            str(LINE_OVERDUE if p.audit_overdue(today) else LINE_DUE) % {
                "name": p.name_in(settings.LANGUAGE_CODE),
                "date": formats.date_format(p.next_audit_due(), "DATE_FORMAT"),
            }
            for p in sorted(due, key=lambda p: p.next_audit_due())
        ]
        mails = queue_mail_each(
            to=dpo_addresses(),
            subject=str(SUBJECT_AUDITS),
            body=str(INTRO_AUDITS) + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n",
            kind="processor-audits",
            now=ctx.now,
        )
    return {"due": len(due) - len(overdue), "overdue": len(overdue), "mails": len(mails)}


register(
    Job(
        name="processor-audits",
        schedule=daily("07:30"),
        run=_processor_audits,
        description=_("Tell the data protection officer of processor audits falling due"),
    )
)
