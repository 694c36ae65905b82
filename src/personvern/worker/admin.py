"""Back office: the data protection officer sees every job's health and the outgoing mail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from personvern.core.admin import CodeFilter
from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.worker import outbox
from personvern.worker.labels import job_label, mail_kind_label
from personvern.worker.models import JobRun, MailState, OutgoingMail
from personvern.worker.runner import job_statuses

HEALTH_LABELS = {
    "ok": _("ran as scheduled"),
    "failed": _("the last run failed"),
    "late": _("has not run when it should have"),
    "running": _("running now"),
    "never": _("not run yet"),
    "off": _("not configured here"),
}


class JobFilter(CodeFilter):
    title = _("job")
    parameter_name = field = "job"

    def label(self, code: str) -> str:
        return job_label(code)


class MailKindFilter(CodeFilter):
    title = _("kind")
    parameter_name = field = "kind"

    def label(self, code: str) -> str:
        return mail_kind_label(code)


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Read-only record of runs, with an overview of every job above the list."""

    change_list_template = "admin/worker/jobrun/change_list.html"
    list_display = ("job_shown", "slot", "manual", "state", "attempts", "started_at",
                    "finished_at", "counts", "error")
    list_filter = ("state", JobFilter, "manual")
    fields = ("job_shown", "job_code", "slot", "manual", "state", "attempts", "started_at",
              "finished_at", "counts", "error")
    readonly_fields = fields
    date_hierarchy = "slot"

    @admin.display(description=_("job"), ordering="job")
    def job_shown(self, run: JobRun) -> str:
        return job_label(run.job)

    @admin.display(description=_("job code"))
    def job_code(self, run: JobRun) -> str:
        return run.job

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        rows = [
            {
                "name": status.job.name,
                "label": job_label(status.job.name),
                "description": status.job.description,
                "schedule": str(status.job.schedule),
                "last": status.last,
                "next_run": status.next_run,
                "health": status.health,
                "health_label": HEALTH_LABELS[status.health],
                "alert": status.health in ("failed", "late"),
            }
            for status in job_statuses()
        ]
        context = {**(extra_context or {}), "job_overview": rows}
        return super().changelist_view(request, extra_context=context)


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ScopedModelAdmin):
    """Mail waiting to be sent or refused; sent messages keep no content or recipients."""

    list_display = ("kind_shown", "state", "queued_at", "attempts", "next_attempt_at",
                    "sent_at", "failed_at", "last_error")
    list_filter = ("state", MailKindFilter)
    fields = ("kind_shown", "kind_code", "state", "recipients", "subject", "attachment_count",
              "queued_at", "attempts", "next_attempt_at", "sent_at", "failed_at", "last_error")
    readonly_fields = fields
    actions = ["send_again"]

    @admin.display(description=_("kind"), ordering="kind")
    def kind_shown(self, mail: OutgoingMail) -> str:
        return mail_kind_label(mail.kind)

    @admin.display(description=_("kind code"))
    def kind_code(self, mail: OutgoingMail) -> str:
        return mail.kind

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send the selected refused messages again"),
                  permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutgoingMail]) -> None:
        count = sum(
            outbox.retry_now(mail) for mail in queryset.filter(state=MailState.FAILED)
        )
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.",
                     count) % {"count": count},
            messages.SUCCESS,
        )
