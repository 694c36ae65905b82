"""Back office: anonymous statistics and the analytics consent ledger, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from personvern.webstats.models import AnalyticsConsent, PageView


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the site and the services only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger is append-only; retention deletes


@admin.register(PageView)
class PageViewAdmin(_ReadOnly):
    list_display = ("day", "hour", "path", "search_term", "device", "browser", "count")
    list_filter = ("device", "browser", "day")
    search_fields = ("path", "search_term")
    date_hierarchy = "day"


@admin.register(AnalyticsConsent)
class AnalyticsConsentAdmin(_ReadOnly):
    list_display = ("visitor_id", "choice", "policy_version", "text_version", "at", "withdrawn_at")
    list_filter = ("choice", "policy_version", "text_version")
    search_fields = ("visitor_id",)
