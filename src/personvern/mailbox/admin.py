"""Back office for filed e-mail. Keeping and releasing go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.mailbox import services
from personvern.mailbox.models import MailMessage


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


@admin.register(MailMessage)
class MailMessageAdmin(ScopedModelAdmin):
    list_display = ("subject", "person", "direction", "mailbox", "received_at", "keep_reason")
    list_filter = ("direction", "keep_reason", "mailbox")
    fields = (
        "person",
        "direction",
        "mailbox",
        "subject",
        "received_at",
        "keep_reason",
        "keep_until",
    )
    readonly_fields = ("person", "direction", "mailbox", "subject", "received_at")
    actions = ["release"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages are filed from the mail system

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retention deletes them (R19)

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

    @admin.action(description=_("Stop keeping the selected messages"), permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet[MailMessage]) -> None:
        for message in queryset.exclude(keep_reason="").select_related("person"):
            services.mail_message_release(message=message, actor=_actor(request))
