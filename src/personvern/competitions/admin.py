"""Back office for competitions. Writes call the services, so they are audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from personvern.competitions import services
from personvern.competitions.models import Competition, Entry
from personvern.core.admin_scoping import ScopedModelAdmin


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


@admin.register(Competition)
class CompetitionAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "ends_at")
    fields = ("title", "slug", "description", "ends_at")
    prepopulated_fields = {"slug": ("title",)}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Competition, form: Any, change: bool) -> None:
        created = services.competition_create(
            title=obj.title, slug=obj.slug, description=obj.description, ends_at=obj.ends_at,
            actor=_actor(request),
        )
        obj.pk = created.pk


@admin.register(Entry)
class EntryAdmin(ScopedModelAdmin):
    list_display = ("competition", "person", "workplace", "submitted_at")
    list_filter = ("competition",)
    fields = ("competition", "person", "workplace", "contribution", "submitted_at", "feedback")
    readonly_fields = ("competition", "person", "workplace", "contribution", "submitted_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entries come from the entrants through the site

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retention removes them after the competition (R23)

    def save_model(self, request: HttpRequest, obj: Entry, form: Any, change: bool) -> None:
        # The only editable field is the feedback, which the service records and audits.
        services.entry_give_feedback(entry=obj, feedback=obj.feedback, actor=_actor(request))
