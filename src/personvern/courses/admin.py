"""Back office for courses. Every write and export goes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from personvern.core.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from personvern.courses import services
from personvern.courses.models import (
    Course,
    Evaluation,
    HotelTransfer,
    HotelTransferEntry,
    Registration,
    RegistrationStatus,
    Venue,
)
from personvern.courses.selectors import course_overview


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


def _file_response(content: bytes, fmt: str, filename: str) -> HttpResponse:
    content_type = (
        "text/csv; charset=utf-8" if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _error_text(exc: ValidationError) -> str:
    return "; ".join(str(m) for m in exc.messages)


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ("name", "hotel_name")
    search_fields = ("name", "hotel_name")
    fields = ("name", "address", "hotel_name", "hotel_email")

    def save_model(self, request: HttpRequest, obj: Venue, form: Any, change: bool) -> None:
        if change:
            services.venue_update(
                venue=obj,
                changes={f: form.cleaned_data[f] for f in form.changed_data},
                actor=_actor(request),
            )
        else:
            created = services.venue_create(actor=_actor(request), **form.cleaned_data)
            obj.pk = created.pk


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = (
        "title", "slug", "kind", "starts_at", "capacity", "confirmed", "waitlisted",
        "registration_open",
    )
    list_filter = ("kind", "registration_open", "hotel_stay_offered", "venue")
    search_fields = ("title", "slug")
    date_hierarchy = "starts_at"
    # A link typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("title", "slug", "subject", "summary", "description", "programme")}),
        (_("When and where"), {"fields": (
            "kind", "starts_at", "ends_at", "venue", "digital_link", "hotel_stay_offered",
        )}),
        (_("Registration"), {"fields": ("capacity", "price", "registration_open")}),
        (_("Continuing legal education"), {"fields": (
            "legal_hours", "non_legal_hours", "ethics_hours",
        )}),
    )
    actions = ["export_participants_csv", "export_participants_xlsx", "produce_hotel_list"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return course_overview()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("slug",) if obj else ()

    @admin.display(description=_("confirmed"), ordering="confirmed_count")
    def confirmed(self, obj: Any) -> int:
        return int(obj.confirmed_count)

    @admin.display(description=_("waiting list"), ordering="waitlisted_count")
    def waitlisted(self, obj: Any) -> int:
        return int(obj.waitlisted_count)

    def save_model(self, request: HttpRequest, obj: Course, form: Any, change: bool) -> None:
        if change:
            services.course_update(
                course=obj,
                changes={f: form.cleaned_data[f] for f in form.changed_data},
                actor=_actor(request),
            )
        else:
            created = services.course_create(actor=_actor(request), **form.cleaned_data)
            obj.pk = created.pk

    def _one_course(self, request: HttpRequest, queryset: QuerySet[Course]) -> Course | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one course."), messages.ERROR)
            return None
        return queryset.select_related("venue").get()

    def _participants(self, request: HttpRequest, queryset: QuerySet[Course], fmt: str) -> Any:
        course = self._one_course(request, queryset)
        if course is None:
            return None
        content = services.participant_list_export(course=course, fmt=fmt, actor=_actor(request))
        return _file_response(content, fmt, f"participants-{course.slug}.{fmt}")

    @admin.action(description=_("Export participant list (CSV)"), permissions=["view"])
    def export_participants_csv(self, request: HttpRequest, queryset: QuerySet[Course]) -> Any:
        return self._participants(request, queryset, "csv")

    @admin.action(description=_("Export participant list (Excel)"), permissions=["view"])
    def export_participants_xlsx(self, request: HttpRequest, queryset: QuerySet[Course]) -> Any:
        return self._participants(request, queryset, "xlsx")

    @admin.action(description=_("Produce hotel list (records the hand-over)"),
                  permissions=["change"])
    def produce_hotel_list(self, request: HttpRequest, queryset: QuerySet[Course]) -> Any:
        course = self._one_course(request, queryset)
        if course is None:
            return None
        try:
            content, _transfer = services.hotel_list_export(
                course=course, fmt="xlsx", actor=_actor(request)
            )
        except ValidationError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return None
        return _file_response(content, "xlsx", f"hotel-{course.slug}.xlsx")


@admin.register(Registration)
class RegistrationAdmin(ScopedModelAdmin):
    list_display = ("person", "course", "status", "registered_at", "overnight_stay", "attended")
    list_filter = ("status", "attended", "overnight_stay", "course__kind", "course")
    search_fields = ("person__family_name", "person__given_name", "course__slug", "employer")
    list_select_related = ("person", "course")
    readonly_fields = ("course", "person", "status", "registered_at", "attended", "cancelled_at")
    fields = (
        "course", "person", "status", "registered_at", "employer", "invoice_reference",
        "dietary_needs", "overnight_stay", "arrival_date", "departure_date", "attended",
        "cancelled_at",
    )
    actions = ["mark_attended", "mark_absent", "cancel_registrations"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # registrations come through the registration form (the service)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cancel instead; erasure is a rights request

    def save_model(self, request: HttpRequest, obj: Registration, form: Any, change: bool) -> None:
        services.registration_update(
            registration=obj,
            changes={f: form.cleaned_data[f] for f in form.changed_data},
            actor=_actor(request),
        )

    def _attendance(
        self, request: HttpRequest, queryset: QuerySet[Registration], attended: bool
    ) -> None:
        # One service call per course in the selection (one UPDATE each).
        by_course: dict[int, list[int]] = {}
        for course_id, pk in queryset.values_list("course_id", "pk"):
            by_course.setdefault(course_id, []).append(pk)
        courses = Course.objects.in_bulk(list(by_course))
        total = 0
        try:
            for course_id, ids in by_course.items():
                total += services.attendance_record(
                    course=courses[course_id], registration_ids=ids, attended=attended,
                    actor=_actor(request),
                )
        except ValidationError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext("Attendance recorded for %(count)d registration.",
                     "Attendance recorded for %(count)d registrations.", total)
            % {"count": total},
        )

    @admin.action(description=_("Record attendance: showed up"), permissions=["change"])
    def mark_attended(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._attendance(request, queryset, True)

    @admin.action(description=_("Record attendance: did not show up"), permissions=["change"])
    def mark_absent(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._attendance(request, queryset, False)

    @admin.action(description=_("Cancel registrations"), permissions=["change"])
    def cancel_registrations(
        self, request: HttpRequest, queryset: QuerySet[Registration]
    ) -> None:
        now = timezone.now()
        cancelled = 0
        # Bounded by the admin's selection; each cancellation locks its course.
        for registration in queryset.exclude(status=RegistrationStatus.CANCELLED).select_related(
            "course"
        ):
            services.registration_cancel(
                registration=registration, actor=_actor(request), now=now
            )
            cancelled += 1
        self.message_user(
            request,
            ngettext("%(count)d registration cancelled.", "%(count)d registrations cancelled.",
                     cancelled) % {"count": cancelled},
        )


class HotelTransferEntryInline(ScopedTabularInline):
    model = HotelTransferEntry
    fields = ("person", "registration", "sent_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(HotelTransfer)
class HotelTransferAdmin(ScopedModelAdmin):
    """The record of hand-overs to hotels: read-only by design."""

    list_display = ("course", "hotel_name", "sent_at", "actor", "row_count", "delete_by",
                    "deletion_confirmed_at")
    list_filter = ("hotel_name", ("deletion_confirmed_at", admin.EmptyFieldListFilter))
    fields = ("course", "hotel_name", "hotel_email", "sent_at", "actor", "row_count",
              "fields_sent", "delete_by", "deletion_confirmed_at")
    readonly_fields = fields
    inlines = [HotelTransferEntryInline]
    actions = ["confirm_deletion"]

    @admin.action(
        description=_("Record that the hotel has deleted the list"), permissions=["confirm"]
    )
    def confirm_deletion(self, request: HttpRequest, queryset: Any) -> None:
        for transfer in queryset.filter(deletion_confirmed_at__isnull=True):
            services.hotel_transfer_confirm_deletion(transfer=transfer, actor=_actor(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_confirm_permission(self, request: HttpRequest) -> bool:
        # The record itself stays read-only; confirming the hotel's deletion is a
        # separate, audited step for those allowed to change transfers.
        return request.user.has_perm("courses.change_hoteltransfer")


@admin.register(Evaluation)
class EvaluationAdmin(ScopedModelAdmin):
    """Read-only: evaluations come from participants, and retention anonymises them."""

    list_display = ("course", "rating", "submitted_at")
    list_filter = ("rating",)
    readonly_fields = ("course", "person", "rating", "comment", "submitted_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
