"""Back office for courses. Every write and export goes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from personvern.core.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from personvern.courses import services
from personvern.courses.forms import StaffRegistrationForm
from personvern.courses.models import (
    CleReport,
    CleReportEntry,
    Course,
    Evaluation,
    HotelTransfer,
    HotelTransferEntry,
    Registration,
    RegistrationStatus,
    Venue,
)
from personvern.courses.selectors import (
    CHECKIN_LIST_FIELDS,
    DIETARY_LIST_FIELDS,
    HOTEL_LIST_FIELDS,
    course_overview,
    waitlist_position,
)


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
    actions = [
        "export_participants_csv", "export_participants_xlsx", "produce_hotel_list",
        "report_cle_hours", "report_cle_hours_again",
    ]
    change_form_template = "admin/courses/course/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return course_overview()

    # -- the course's pages for running it (ADR 0026) ------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:course_id>/register/", view(self.register_view),
                 name="courses_course_register"),
            path("<int:course_id>/check-in/", view(self.checkin_view),
                 name="courses_course_checkin"),
            path("<int:course_id>/dietary/", view(self.dietary_view),
                 name="courses_course_dietary"),
            path("<int:course_id>/hotel-list/", view(self.hotel_list_view),
                 name="courses_course_hotel_list"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The course's pages are offered only while they can be used: booking until
        # the course starts, the check-in and dietary lists until it ends.
        course = self.get_object(request, unquote(object_id))  # None for a bad id
        now = timezone.now()
        extra = {
            "course_started": course is not None and now >= course.starts_at,
            "course_over": course is not None and now >= course.ends_at,
        }
        return super().change_view(
            request, object_id, form_url, extra_context={**extra, **(extra_context or {})}
        )

    def _page(
        self, request: HttpRequest, course: Course, template: str, title: Any,
        **context: Any,
    ) -> TemplateResponse:
        return TemplateResponse(request, f"admin/courses/course/{template}", {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "course": course,
            "title": title,
            "subtitle": str(course),
            "change_url": reverse("admin:courses_course_change", args=[course.pk]),
            **context,
        })

    def _course(self, request: HttpRequest, course_id: int, perm: str) -> Course:
        if not request.user.has_perm(perm):
            raise PermissionDenied
        return get_object_or_404(Course.objects.select_related("venue"), pk=course_id)

    def register_view(self, request: HttpRequest, course_id: int) -> HttpResponse:
        """A phone booking: the public form's rules and mail, made by staff."""
        course = self._course(request, course_id, "courses.add_registration")
        form = StaffRegistrationForm(request.POST or None, course=course)
        if request.method == "POST" and form.is_valid():
            kwargs = form.service_kwargs()
            try:
                registration = services.registration_book(
                    course=course, actor=_actor(request), **kwargs
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.error_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            else:
                self._booked_message(request, registration, kwargs)
                if "_addanother" in request.POST:
                    return HttpResponseRedirect(request.path)
                return HttpResponseRedirect(
                    reverse("admin:courses_course_change", args=[course.pk])
                )
        return self._page(
            request, course, "register.html", _("Register a participant"),
            form=form, adminform_errors=form.errors,
        )

    def _booked_message(
        self, request: HttpRequest, registration: Registration, kwargs: dict[str, Any]
    ) -> None:
        name = f"{kwargs['given_name']} {kwargs['family_name']}"
        if registration.status == RegistrationStatus.CONFIRMED:
            text = _("%(name)s has a seat.") % {"name": name}
        else:
            text = _("The course is full: %(name)s is number %(place)s on the waiting list.") % {
                "name": name, "place": waitlist_position(registration)}
        if kwargs["send_confirmation"]:
            text = _("%(text)s The confirmation is sent to %(email)s.") % {
                "text": text, "email": kwargs["email"]}
        else:
            text = _("%(text)s No e-mail was sent.") % {"text": text}
        self.message_user(request, text, messages.SUCCESS)

    def checkin_view(self, request: HttpRequest, course_id: int) -> HttpResponse:
        """The printable check-in list; once the course has started, attendance is
        marked on it (checked: showed up; a check removed clears the mark)."""
        course = self._course(request, course_id, "courses.view_registration")
        now = timezone.now()
        if request.method == "POST":
            if not request.user.has_perm("courses.change_registration"):
                raise PermissionDenied
            return self._record_checkin(request, course, now)
        try:
            rows = services.checkin_list_view(course=course, actor=_actor(request), now=now)
        except ValidationError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:courses_course_change", args=[course.pk]))
        return self._page(
            request, course, "checkin.html", _("Check-in list"),
            rows=rows, headers=[label for _name, label in CHECKIN_LIST_FIELDS],
            started=now >= course.starts_at,
            may_mark=request.user.has_perm("courses.change_registration"),
        )

    def _record_checkin(self, request: HttpRequest, course: Course, now: Any) -> HttpResponse:
        listed = {int(i) for i in request.POST.getlist("listed") if i.isdigit()}
        present = {int(i) for i in request.POST.getlist("attended") if i.isdigit()} & listed
        were = set(
            Registration.objects.filter(pk__in=listed, course=course, attended=True)
            .values_list("pk", flat=True)
        )
        try:
            with transaction.atomic():
                marked = services.attendance_record(
                    course=course, registration_ids=present, attended=True,
                    actor=_actor(request), now=now,
                )
                services.attendance_record(
                    course=course, registration_ids=were - present, attended=None,
                    actor=_actor(request), now=now,
                )
        except ValidationError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                ngettext("%(count)d participant marked as present.",
                         "%(count)d participants marked as present.", marked)
                % {"count": marked},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(request.path)

    def dietary_view(self, request: HttpRequest, course_id: int) -> HttpResponse:
        """The internal dietary list for the venue, only while the course is not over."""
        course = self._course(request, course_id, "courses.view_registration")
        try:
            rows = services.dietary_list_view(course=course, actor=_actor(request))
        except ValidationError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:courses_course_change", args=[course.pk]))
        return self._page(
            request, course, "dietary.html", _("Dietary needs"),
            rows=rows, headers=[label for _name, label in DIETARY_LIST_FIELDS],
        )

    def hotel_list_view(self, request: HttpRequest, course_id: int) -> HttpResponse:
        """What goes to the hotel, and the button that mails it and records the hand-over."""
        course = self._course(request, course_id, "courses.change_course")
        change_url = reverse("admin:courses_course_change", args=[course.pk])
        if request.method == "POST":
            try:
                transfer = services.hotel_list_send(course=course, actor=_actor(request))
            except ValidationError as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(
                request,
                ngettext(
                    "The hotel list (%(count)d guest) is sent to %(hotel)s (%(email)s); "
                    "the hand-over is recorded.",
                    "The hotel list (%(count)d guests) is sent to %(hotel)s (%(email)s); "
                    "the hand-over is recorded.",
                    transfer.row_count,
                ) % {"count": transfer.row_count, "hotel": transfer.hotel_name,
                     "email": transfer.hotel_email},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
        try:
            rows = services.hotel_list_preview(course, actor=_actor(request))
        except ValidationError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(change_url)
        names = [name for name, _label in HOTEL_LIST_FIELDS]
        return self._page(
            request, course, "hotel_list.html", _("Send the hotel list"),
            rows=[[row[n] for n in names] for row in rows],
            headers=[label for _name, label in HOTEL_LIST_FIELDS],
            venue=course.venue,
            transfers=course.hotel_transfers.order_by("-sent_at")[:5],
        )

    # -- continuing legal education: the report to Advokatforeningen (R3) -----------

    def _cle(self, request: HttpRequest, queryset: QuerySet[Course], again: bool) -> Any:
        course = self._one_course(request, queryset)
        if course is None:
            return None
        try:
            content, report = services.cle_report_export(
                course=course, actor=_actor(request), again=again
            )
        except ValidationError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return None
        response = _file_response(content, "csv", f"cle-{course.slug}.csv")
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Report CLE hours to Advokatforeningen (CSV, recorded)"),
                  permissions=["change"])
    def report_cle_hours(self, request: HttpRequest, queryset: QuerySet[Course]) -> Any:
        return self._cle(request, queryset, again=False)

    @admin.action(description=_("Report CLE hours to Advokatforeningen again (corrected)"),
                  permissions=["change"])
    def report_cle_hours_again(self, request: HttpRequest, queryset: QuerySet[Course]) -> Any:
        return self._cle(request, queryset, again=True)

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


class CleReportEntryInline(ScopedTabularInline):
    model = CleReportEntry
    fields = ("person", "registration", "sent_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CleReport)
class CleReportAdmin(ScopedModelAdmin):
    """The record of reports to Advokatforeningen: read-only by design."""

    list_display = ("course", "recipient", "reported_at", "actor", "row_count")
    fields = ("course", "recipient", "reported_at", "actor", "row_count", "fields_sent")
    readonly_fields = fields
    inlines = [CleReportEntryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
