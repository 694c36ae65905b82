"""Back office for filed e-mail: what the sweep deletes when, and what staff keep.

Only metadata is shown (no message body is ever stored). Keeping and releasing
go through the services (a core row hold with the reason, audited).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.mailbox import selectors, services
from personvern.mailbox.models import KeepReason, MailMessage, ScanState

KEEP_DATE_PAST = _("The keep date is in the past: choose today or a later day.")


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


class MailMessageForm(forms.ModelForm):
    """The keep fields, checked as the service checks them (an error, not a 500)."""

    class Meta:
        model = MailMessage
        fields = ("keep_reason", "keep_until")

    def clean_keep_until(self) -> Any:
        until = self.cleaned_data.get("keep_until")
        if until is not None and until < timezone.localdate():
            raise forms.ValidationError(KEEP_DATE_PAST)
        return until


@admin.register(MailMessage)
class MailMessageAdmin(ScopedModelAdmin):
    form = MailMessageForm
    list_display = ("received_at", "subject", "person", "direction", "fate")
    list_filter = ("direction", "keep_reason", "scan", "mailbox")
    ordering = ("received_at", "pk")  # the soonest deleted first
    fields = (
        "person",
        "direction",
        "mailbox",
        "subject",
        "received_at",
        "scan",
        "fate",
        "keep_reason",
        "keep_until",
    )
    readonly_fields = (
        "person", "direction", "mailbox", "subject", "received_at", "scan", "fate",
    )
    actions = ["keep_correspondents", "release"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MailMessage]:
        return selectors.with_grounds(super().get_queryset(request)).select_related("person")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages are filed from the mail system

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retention deletes them (R19)

    @admin.display(description=_("when deleted"))
    def fate(self, obj: MailMessage) -> str:
        """When the sweep deletes the message, or what keeps it (and a malware warning)."""
        text = self._fate(obj)
        if obj.scan == ScanState.INFECTED:
            return f"{obj.get_scan_display()}. {text}"
        return text

    def _fate(self, obj: MailMessage) -> str:
        if getattr(obj, "customer_ground", False):
            return str(_("kept: customer or partner"))
        if getattr(obj, "sales_ground", False):
            return str(_("kept: sales process open"))
        day = formats.date_format(
            selectors.deletion_day(obj, selectors.retention_period()), "SHORT_DATE_FORMAT"
        )
        if obj.keep_reason and not obj.keep_until:
            return str(_("held (%(reason)s) until released") % {
                "reason": obj.get_keep_reason_display()})
        if obj.keep_reason:
            return str(_("held (%(reason)s), then from %(day)s") % {
                "reason": obj.get_keep_reason_display(), "day": day})
        return str(_("from %(day)s") % {"day": day})

    def save_model(self, request: HttpRequest, obj: MailMessage, form: Any, change: bool) -> None:
        if obj.keep_reason:
            services.mail_message_keep(
                message=obj,
                reason=obj.keep_reason,
                keep_until=obj.keep_until,
                actor=_actor(request),
            )
        else:
            services.mail_message_release(message=obj, actor=_actor(request))

    @admin.action(
        description=_("Keep all mail of the selected messages' correspondents (other relevant "
                      "work)"),
        permissions=["change"],
    )
    def keep_correspondents(self, request: HttpRequest, queryset: QuerySet[MailMessage]) -> None:
        persons = queryset.values("person_id")
        kept = services.mail_correspondents_keep(
            messages=self.get_queryset(request).filter(person_id__in=persons),
            reason=KeepReason.OTHER,
            actor=_actor(request),
        )
        self.message_user(request, ngettext(
            "%(count)d message is now kept until released.",
            "%(count)d messages are now kept until released.", kept) % {"count": kept},
            messages.SUCCESS)

    @admin.action(description=_("Stop keeping the selected messages"), permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet[MailMessage]) -> None:
        for message in queryset.exclude(keep_reason="").select_related("person"):
            services.mail_message_release(message=message, actor=_actor(request))
