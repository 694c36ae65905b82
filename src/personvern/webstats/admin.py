"""Back office: anonymous statistics and the analytics consent ledger, read-only.

Marketing reads the web statistics (R30) as charts (:meth:`PageViewAdmin.charts_view`):
pages, site searches, views by day and by hour, device classes, for the last 7, 30
or 90 days, each chart with its numbers as a table.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext_lazy as _

from personvern.webstats import charts, selectors
from personvern.webstats.models import AnalyticsConsent, DeviceClass, PageView

#: The periods offered, in days; the first is the default.
PERIODS = (30, 7, 90)
#: Pages and search terms shown per chart.
TOP = 15


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
    ordering = ("-day", "-hour", "-count")
    change_list_template = "admin/webstats/pageview/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        charts_url = path("charts/", self.admin_site.admin_view(self.charts_view),
                          name="webstats_pageview_charts")
        return [charts_url, *super().get_urls()]

    def charts_view(self, request: HttpRequest) -> HttpResponse:
        """The statistics as bar charts with tables, for a period of 7, 30 or 90 days."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        chosen = request.GET.get("days", "")
        days = int(chosen) if chosen in {str(p) for p in PERIODS} else PERIODS[0]
        end = timezone.localdate()
        start = end - timedelta(days=days - 1)
        days_counted = selectors.views_by_day(start=start, end=end)
        # The axis has room for "4. nov." only; the table says "4. november".
        short_day = get_format("MONTH_DAY_FORMAT").replace("F", "M")
        by_day = [(date_format(day, short_day), views) for day, views in days_counted]
        day_names = [date_format(day, "MONTH_DAY_FORMAT") for day, _views in days_counted]
        by_hour = [(f"{hour:02d}", views)
                   for hour, views in selectors.views_by_hour(start=start, end=end)]
        pages = [(row["path"], int(row["views"]))
                 for row in selectors.pageview_totals(start=start, end=end, limit=TOP)]
        searches = [(row["search_term"], int(row["searches"]))
                    for row in selectors.search_term_totals(start=start, end=end, limit=TOP)]
        devices = [(str(DeviceClass(device).label), views)
                   for device, views in selectors.device_class_totals(start=start, end=end)]
        sections = [
            ("by-day", _("Views by day"), _("Day"), charts.vertical(
                by_day, label_every={7: 1, 30: 7, 90: 15}[days], full_labels=day_names), True),
            ("by-hour", _("Views by hour of the day"), _("Hour"),
             charts.vertical(by_hour, label_every=3), True),
            ("pages", _("Most viewed pages"), _("Page"), charts.horizontal(pages), False),
            ("searches", _("Most frequent site searches"), _("Search term"),
             charts.horizontal(searches), False),
            ("devices", _("Views by device class"), _("Device class"),
             charts.horizontal(devices), False),
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Web statistics in charts"),
            "subtitle": None,
            "days": days,
            "periods": [(p, p == days) for p in sorted(PERIODS)],
            "start": start,
            "end": end,
            "total": selectors.total_views(start=start, end=end),
            "sections": [
                {"id": key, "title": title, "column": column, "chart": chart, "vertical": vert,
                 "value_column": _("Searches") if key == "searches" else _("Views")}
                for key, title, column, chart, vert in sections
            ],
        }
        return TemplateResponse(request, "admin/webstats/pageview/charts.html", context)


@admin.register(AnalyticsConsent)
class AnalyticsConsentAdmin(_ReadOnly):
    list_display = ("visitor_id", "choice", "policy_version", "text_version", "at", "withdrawn_at")
    list_filter = ("choice", "policy_version", "text_version")
    search_fields = ("visitor_id",)
    ordering = ("-at", "-pk")
