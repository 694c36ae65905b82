"""Back office for recruitment (HR only). Writes call the services, so they are audited."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from personvern.core.admin_scoping import ScopedModelAdmin, ScopedStackedInline, ScopedTabularInline
from personvern.core.scanning import ScanStatus
from personvern.recruitment import services
from personvern.recruitment.models import (
    Application,
    ApplicationDocument,
    ApplicationNote,
    ApplicationStatus,
    Position,
)

OSLO = ZoneInfo("Europe/Oslo")
HIREABLE = (ApplicationStatus.RECEIVED, ApplicationStatus.INTERVIEW)


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
    # ``scan_status`` shows the virus scan (R21); only a clean document has a link to open it.
    fields = ("kind", "filename", "content_type", "size", "received_at", "scan_status", "open")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The documents are part of the application: whoever may read it reads them.
        return request.user.has_perm("recruitment.view_application")

    @admin.display(description=_("Open"))
    def open(self, obj: ApplicationDocument) -> str:
        if obj.pk is None:
            return ""
        if obj.scan_status != ScanStatus.CLEAN:
            return format_html("{}", _("not available"))
        url = reverse("admin:recruitment_application_document",
                      args=[obj.application_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open %(name)s") % {"name": obj.filename})


class NoteInline(ScopedTabularInline):
    """The notes written so far, read-only."""

    model = ApplicationNote
    fields = ("kind", "text", "written_by", "written_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("interview and reference-check notes")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("recruitment.view_applicationnote")


class NewNoteInline(ScopedStackedInline):
    """A new interview or reference-check note, written on the application's page (R24).

    Its rows are always empty forms: ``ApplicationAdmin.save_formset`` hands each
    filled one to ``application_note_add``, which audits it.
    """

    model = ApplicationNote
    fields = ("kind", "text")
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = _("new note")
    verbose_name_plural = _("add a note")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApplicationNote]:
        return super().get_queryset(request).none()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("recruitment.add_applicationnote")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


class EmploymentEndForm(forms.Form):
    last_day = forms.DateField(
        label=_("Last day of the employment"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The retention period of the application starts after this day (R27)."),
    )


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
    inlines = [DocumentInline, NoteInline, NewNoteInline]
    actions = ["invite_to_interview", "reject", "hire"]
    change_form_template = "admin/recruitment/application/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # applications arrive through the site, by e-mail or from Finn.no

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retention deletes them (R27); erasure is a rights request

    def save_model(self, request: HttpRequest, obj: Application, form: Any, change: bool) -> None:
        """Nothing: every field is read-only, and the application changes through services."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Only new notes are written, through the service (audited); nothing else changes."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is not ApplicationNote or not self.has_change_permission(
            request, form.instance
        ):
            return
        for note_form in formset.forms:
            if not note_form.has_changed() or not note_form.cleaned_data:
                continue
            note = services.application_note_add(
                application=form.instance, kind=note_form.cleaned_data["kind"],
                text=note_form.cleaned_data["text"], actor=_actor(request),
            )
            formset.new_objects.append(note)

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

    @admin.action(description=_("Hire the selected applicants"), permissions=["change"])
    def hire(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        hireable = queryset.filter(status__in=HIREABLE).select_related("person")
        count = 0
        for application in hireable:
            services.application_hire(application=application, actor=_actor(request))
            count += 1
        message = ngettext("%(count)d applicant hired.", "%(count)d applicants hired.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    # --- the application's own page: hire, end the employment, open a document -------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/hire/", view(self.hire_view), name="recruitment_application_hire"),
            path("<int:pk>/end-employment/", view(self.end_employment_view),
                 name="recruitment_application_end_employment"),
            path("<int:pk>/documents/<int:document_pk>/", view(self.document_view),
                 name="recruitment_application_document"),
            *super().get_urls(),
        ]

    def _application(self, request: HttpRequest, pk: int, *, change: bool) -> Application:
        application = self.get_object(request, str(pk))  # scoped: a hidden person is not found
        if application is None:
            raise Http404
        allowed = (self.has_change_permission(request, application) if change
                   else self.has_view_permission(request, application))
        if not allowed:
            raise PermissionDenied
        return cast(Application, application)

    def _change_url(self, application: Application) -> str:
        return reverse("admin:recruitment_application_change", args=[application.pk])

    def _action_page(
        self, request: HttpRequest, application: Application, *, title: str, text: str,
        button: str, form: forms.Form | None = None,
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title, "text": text, "button": button, "form": form,
            "application": application, "opts": self.opts,
            "change_url": self._change_url(application),
        }
        return TemplateResponse(request, "admin/recruitment/application/action.html", context)

    def hire_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._application(request, pk, change=True)
        if application.status not in HIREABLE:
            messages.error(request, _("Only an application received or in interview can lead "
                                      "to a hiring."))
            return HttpResponseRedirect(self._change_url(application))
        if request.method == "POST":
            services.application_hire(application=application, actor=_actor(request))
            messages.success(request, _("%(person)s is hired. The application is kept until the "
                                        "employment ends.") % {"person": application.person})
            return HttpResponseRedirect(self._change_url(application))
        return self._action_page(
            request, application, title=str(_("Hire the applicant")),
            text=str(_("Hire %(person)s? The application, its documents and notes are then "
                       "kept until you record the end of the employment.")
                     % {"person": application.person}),
            button=str(_("Hire")),
        )

    def end_employment_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._application(request, pk, change=True)
        if application.hired_at is None or application.employment_ended_at is not None:
            messages.error(request, _("Only a hired applicant whose employment has not been "
                                      "ended can have it ended."))
            return HttpResponseRedirect(self._change_url(application))
        form = EmploymentEndForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            last_day = form.cleaned_data["last_day"]
            try:
                services.application_end_employment(
                    application=application, actor=_actor(request),
                    ended_at=datetime.combine(last_day, time(23, 59), tzinfo=OSLO),
                )
            except ValidationError as exc:
                form.add_error("last_day", exc.messages)
            else:
                messages.success(request, _("The end of the employment is recorded: the "
                                            "application is deleted after %(day)s.")
                                 % {"day": date_format(last_day)})
                return HttpResponseRedirect(self._change_url(application))
        return self._action_page(
            request, application, title=str(_("End the employment")),
            text=str(_("Record the last day of the employment of %(person)s. The application, "
                       "its documents and notes are deleted after that day (R27).")
                     % {"person": application.person}),
            button=str(_("Record the end of the employment")), form=form,
        )

    def document_view(self, request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
        """A clean document as an attachment, never rendered in the browser; audited."""
        application = self._application(request, pk, change=False)
        document = get_object_or_404(
            ApplicationDocument.objects.select_related("application__person"),
            pk=document_pk, application=application,
        )
        try:
            content = services.application_document_open(document=document,
                                                          actor=_actor(request))
        except ValidationError:
            messages.error(request, services.DOCUMENT_NOT_CLEAN)
            return HttpResponseRedirect(self._change_url(application))
        response = HttpResponse(content, content_type=document.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=document.filename
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response


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
