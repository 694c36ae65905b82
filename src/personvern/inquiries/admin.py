"""Back office for inquiries. Every write calls a service, so it is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.inquiries import services
from personvern.inquiries.models import Inquiry


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


@admin.register(Inquiry)
class InquiryAdmin(ScopedModelAdmin):
    list_display = ("subject", "person", "channel", "received_at", "last_contact_at", "closed_at")
    list_filter = ("channel",)
    search_fields = ("subject", "person__emails__address")
    readonly_fields = (
        "person",
        "channel",
        "subject",
        "message",
        "received_at",
        "last_contact_at",
        "closed_at",
    )
    actions = ["record_contact", "close"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # inquiries arrive through the site form or are registered by a service

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retention deletes them when they are no longer relevant

    @admin.action(description=_("Record a follow-up contact now"), permissions=["change"])
    def record_contact(self, request: HttpRequest, queryset: QuerySet[Inquiry]) -> None:
        for inquiry in queryset.select_related("person"):
            services.inquiry_record_contact(inquiry=inquiry, actor=_actor(request))

    @admin.action(description=_("Close the selected inquiries"), permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[Inquiry]) -> None:
        for inquiry in queryset.filter(closed_at__isnull=True).select_related("person"):
            services.inquiry_close(inquiry=inquiry, actor=_actor(request))
