"""Back office for recruitment (HR only). Writes call the services, so they are audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from personvern.core.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from personvern.recruitment import services
from personvern.recruitment.models import (
    Application,
    ApplicationDocument,
    ApplicationNote,
    ApplicationStatus,
    Position,
)


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ("title", "posted_at", "recruitment_closed_at")
    fields = ("title", "posted_at", "recruitment_closed_at")
    readonly_fields = ("recruitment_closed_at",)
    actions = ["close_recruitment"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Position, form: Any, change: bool) -> None:
        created = services.position_create(
            title=obj.title, posted_at=obj.posted_at, actor=_actor(request)
        )
        obj.pk = created.pk

    @admin.action(
        description=_("Close the recruitment of the selected positions"), permissions=["change"]
    )
    def close_recruitment(self, request: HttpRequest, queryset: QuerySet[Position]) -> None:
        for position in queryset.filter(recruitment_closed_at__isnull=True):
            services.position_close_recruitment(position=position, actor=_actor(request))


class DocumentInline(ScopedTabularInline):
    model = ApplicationDocument
    # Metadata only: no download link. ``scan_status`` shows the virus scan (R21).
    fields = ("kind", "filename", "content_type", "size", "received_at", "scan_status")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The documents are part of the application: whoever may read it reads them.
        return request.user.has_perm("recruitment.view_application")


class NoteInline(ScopedTabularInline):
    model = ApplicationNote
    fields = ("kind", "text", "written_by", "written_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(ScopedModelAdmin):
    list_display = ("person", "position", "source", "status", "received_at")
    list_filter = ("status", "source")
    readonly_fields = (
        "person",
        "position",
        "source",
        "external_ref",
        "letter",
        "received_at",
        "status",
        "hired_at",
        "employment_ended_at",
    )
    inlines = [DocumentInline, NoteInline]
    actions = ["invite_to_interview", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # applications arrive through the site, by e-mail or from Finn.no

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retention deletes them (R27); erasure is a rights request

    def _move(self, request: HttpRequest, queryset: QuerySet[Application], status: str) -> None:
        for application in queryset.select_related("person"):
            services.application_set_status(
                application=application, status=status, actor=_actor(request)
            )

    @admin.action(
        description=_("Invite the selected applicants to an interview"), permissions=["change"]
    )
    def invite_to_interview(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        self._move(request, queryset.filter(status=ApplicationStatus.RECEIVED), "interview")

    @admin.action(description=_("Reject the selected applications"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        self._move(
            request,
            queryset.filter(status__in=[ApplicationStatus.RECEIVED, ApplicationStatus.INTERVIEW]),
            "rejected",
        )


@admin.register(ApplicationNote)
class ApplicationNoteAdmin(ScopedModelAdmin):
    list_display = ("application", "kind", "written_by", "written_at")
    fields = ("application", "kind", "text")
    raw_id_fields = ("application",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: ApplicationNote, form: Any, change: bool
    ) -> None:
        note = services.application_note_add(
            application=obj.application, kind=obj.kind, text=obj.text, actor=_actor(request)
        )
        obj.pk = note.pk
