"""Back office for persons and privacy facts. Writes go through the services."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from django.apps import apps as django_apps
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from personvern.core import services
from personvern.core.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from personvern.core.audit_labels import action_choices, action_label
from personvern.core.consent_labels import channel_label
from personvern.core.models import (
    AuditEntry,
    ConsentEvent,
    EmailIdentity,
    Hold,
    Membership,
    Objection,
    Person,
    Restriction,
)
from personvern.core.policy import current_policy

# The back office's name in its header, the browser tab and on its front page.
admin.site.site_header = _("Personvern – back office")
admin.site.site_title = _("Personvern back office")
admin.site.index_title = _("Back office")
# Two libraries name their section of the back office in plain English (not
# translatable); staff read ours instead, in their language.
for _label, _name in (("axes", _("Login lock-outs")), ("django_tasks_database", _("Task queue"))):
    with contextlib.suppress(LookupError):  # not installed here
        django_apps.get_app_config(_label).verbose_name = _name


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EmailInline(ReadOnlyMixin, ScopedTabularInline):
    model = EmailIdentity
    fields = ("address", "verified_at")
    readonly_fields = fields
    extra = 0


class MembershipInline(ReadOnlyMixin, ScopedTabularInline):
    model = Membership
    fields = ("organisation", "member_id", "valid_from", "valid_to")
    readonly_fields = fields
    extra = 0


@admin.register(Person)
class PersonAdmin(ScopedModelAdmin):
    """Staff see the persons their work concerns (see :mod:`personvern.core.admin_scoping`):
    the data protection officer everyone, a course administrator participants, not
    applicants."""

    list_display = ("__str__", "created_at")
    search_fields = ("family_name", "given_name", "emails__address")
    readonly_fields = ("public_id_shown", "created_at")
    fields = ("public_id_shown", "given_name", "family_name", "phone", "created_at")
    inlines = [EmailInline, MembershipInline]
    ordering = ("family_name", "given_name", "pk")

    @admin.display(description=_("public reference"))
    def public_id_shown(self, person: Person) -> str:
        return str(person.public_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # persons come in through registrations, imports and requests

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # erasure is a rights request, never a bare delete

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Corrections are rectification requests: audited with old and new values.
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("person", "organisation", "member_id", "valid_from", "valid_to")
    list_filter = ("organisation",)
    # Memberships come from the organisations' feeds (docs/members.md): found by
    # the member number the organisation uses, or the person's name or address.
    search_fields = ("member_id", "person__family_name", "person__given_name",
                     "person__emails__address")
    ordering = ("-valid_from", "-pk")

    def get_urls(self) -> list[Any]:
        from django.urls import path

        from personvern.members.admin_views import member_upload_view

        upload = self.admin_site.admin_view(lambda request: member_upload_view(self, request))
        return [path("upload/", upload, name="core_membership_upload"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        from personvern.members.admin_views import UPLOAD_PERMISSIONS

        extra = {"can_upload_members": all(request.user.has_perm(p) for p in UPLOAD_PERMISSIONS)}
        return super().changelist_view(request, {**extra, **(extra_context or {})})


class CodeFilter(admin.SimpleListFilter):
    """A filter on a code column whose choices are shown in words."""

    field = ""

    def label(self, code: str) -> str:
        raise NotImplementedError

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = model_admin.get_queryset(request).order_by().values_list(
            self.field, flat=True).distinct()
        choices = [(code, self.label(code)) for code in codes if code]
        return sorted(choices, key=lambda choice: choice[1].lower())

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class ConsentScopeFilter(CodeFilter):
    title = _("scope")
    parameter_name = field = "scope"

    def label(self, code: str) -> str:
        from personvern.core.policy import activity_title

        return activity_title(code)


class ConsentChannelFilter(CodeFilter):
    title = _("channel")
    parameter_name = field = "channel"

    def label(self, code: str) -> str:
        return channel_label(code)


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("person", "scope_shown", "action", "text_version", "channel_shown", "at")
    list_filter = (ConsentScopeFilter, "action", ConsentChannelFilter)
    ordering = ("-at", "-pk")
    fields = ("person", "scope_shown", "action", "text_version", "channel_shown", "at")
    readonly_fields = fields

    @admin.display(description=_("scope"), ordering="scope")
    def scope_shown(self, event: ConsentEvent) -> str:
        from personvern.core.policy import activity_title

        return activity_title(event.scope)

    @admin.display(description=_("channel"), ordering="channel")
    def channel_shown(self, event: ConsentEvent) -> str:
        return channel_label(event.channel)


@admin.register(Hold)
class HoldAdmin(ScopedModelAdmin):
    list_display = ("scope", "reason_shown", "person", "activity", "expires_at", "lifted_at")
    ordering = ("-created_at", "-pk")
    fields = ("scope", "reason", "person", "activity", "expires_at")
    raw_id_fields = ("person",)

    @admin.display(description=_("reason"))
    def reason_shown(self, obj: Hold) -> str:
        return obj.reason_label

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A placed hold is only viewed: its reason in words, as the list shows it.
        if obj is not None:
            return ("scope", "reason_shown", "person", "activity", "expires_at")
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("reason_shown",) if obj is not None else ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Hold, form: Any, change: bool) -> None:
        placed = services.hold_place(
            scope=obj.scope,
            reason=obj.reason,
            person=obj.person,
            activity=obj.activity,
            expires_at=obj.expires_at,
            actor=_actor(request),
        )
        obj.pk = placed.pk


@admin.register(Restriction)
class RestrictionAdmin(ScopedModelAdmin):
    list_display = ("person", "ground", "started", "lifted")
    fields = ("person", "ground", "note")
    ordering = ("-started_at", "-pk")
    raw_id_fields = ("person",)
    actions = ["lift"]

    def save_model(self, request: HttpRequest, obj: Restriction, form: Any, change: bool) -> None:
        placed = services.restriction_place(
            person=obj.person, ground=obj.ground, note=obj.note, actor=_actor(request)
        )
        obj.pk = placed.pk

    @admin.display(description=_("started"), ordering="started_at")
    def started(self, restriction: Restriction) -> Any:
        return restriction.started_at

    @admin.display(description=_("lifted"), ordering="lifted_at")
    def lifted(self, restriction: Restriction) -> Any:
        return restriction.lifted_at

    @admin.action(description=_("Lift the selected restrictions"), permissions=["change"])
    def lift(self, request: HttpRequest, queryset: Any) -> None:
        for restriction in queryset.filter(lifted_at__isnull=True):
            services.restriction_lift(restriction=restriction, actor=_actor(request))


@admin.register(Objection)
class ObjectionAdmin(ScopedModelAdmin):
    list_display = ("person", "activity", "recorded", "lifted")
    fields = ("person", "activity", "note")
    ordering = ("-at", "-pk")

    @admin.display(description=_("recorded"), ordering="at")
    def recorded(self, objection: Objection) -> Any:
        return objection.at

    @admin.display(description=_("lifted"), ordering="lifted_at")
    def lifted(self, objection: Objection) -> Any:
        return objection.lifted_at
    raw_id_fields = ("person",)

    def save_model(self, request: HttpRequest, obj: Objection, form: Any, change: bool) -> None:
        placed = services.objection_record(
            person=obj.person, activity=obj.activity, note=obj.note, actor=_actor(request)
        )
        obj.pk = placed.pk


class AuditActionFilter(admin.SimpleListFilter):
    """Filter by action, offered in words (the codes' labels), not as codes."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # The label registry, not a DISTINCT over the whole log: the log only grows.
        return action_choices()

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The audit log, newest first, each action in words (:mod:`personvern.core.audit_labels`)."""

    # chain_seq is empty until the worker has sealed the entry into the chain.
    list_display = ("id", "at_shown", "actor_shown", "action_shown", "activity_shown",
                    "subject_short")
    list_display_links = ("id", "at_shown")
    list_filter = (AuditActionFilter,)
    ordering = ("-id",)
    fields = ("id", "at_shown", "actor_shown", "action_shown", "action_code", "activity_shown",
              "subject_shown", "data_shown", "chain_seq_shown", "sealed_at_shown")
    readonly_fields = fields

    @admin.display(description=_("sealed as no."), ordering="chain_seq")
    def chain_seq_shown(self, entry: AuditEntry) -> Any:
        return entry.chain_seq

    @admin.display(description=_("time"), ordering="at")
    def at_shown(self, entry: AuditEntry) -> str:
        return _when(entry.at)

    @admin.display(description=_("done by"))
    def actor_shown(self, entry: AuditEntry) -> str:
        return entry.actor

    @admin.display(description=_("action"))
    def action_shown(self, entry: AuditEntry) -> str:
        return action_label(entry.action)

    @admin.display(description=_("action code"))
    def action_code(self, entry: AuditEntry) -> str:
        return entry.action

    @admin.display(description=_("activity"))
    def activity_shown(self, entry: AuditEntry) -> str:
        # The processing activity by its title in the statement, as staff know it.
        lang = get_language()
        for activity in current_policy().activities:
            if activity.id == entry.activity:
                return activity.title.get(lang)
        return entry.activity

    @admin.display(description=_("person (pseudonym)"))
    def subject_shown(self, entry: AuditEntry) -> str:
        return entry.subject

    @admin.display(description=_("person (pseudonym)"))
    def subject_short(self, entry: AuditEntry) -> str:
        # The list has room for the start of the pseudonym; the entry shows it whole.
        return f"{entry.subject[:12]}…" if entry.subject else ""

    @admin.display(description=_("details"))
    def data_shown(self, entry: AuditEntry) -> str:
        return ", ".join(f"{key}: {value}" for key, value in sorted(entry.data.items()))

    @admin.display(description=_("sealed"))
    def sealed_at_shown(self, entry: AuditEntry) -> str:
        return _when(entry.sealed_at)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> Any:
        entry = self.get_object(request, object_id)
        if entry is not None:  # the heading names the action in words, not its code
            extra_context = {**(extra_context or {}),
                             "subtitle": f"#{entry.pk} {action_label(entry.action)}"}
        return super().change_view(request, object_id, form_url, extra_context)


def _when(at: datetime | None) -> str:
    """A time in the site's time zone and the page's language ("3. desember 2026 kl. 09:00")."""
    return date_format(timezone.localtime(at), "DATETIME_FORMAT") if at else "–"


# Users and roles, and the task queue's results, in words (replacing the admins
# django.contrib.auth and django_tasks_db register).
from personvern.core import admin_tasks, admin_users  # noqa: E402, F401
