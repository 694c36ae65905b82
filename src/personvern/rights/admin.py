"""Back office for privacy requests: work lists by deadline, and every step as an action.

Thin: the register page and the DPO's pages (:mod:`personvern.rights.backoffice`)
and each action call the services, which audit the step. Parameters an action
needs (a note, months, a language, an assignee, the type to classify as, an
address to link) are typed in the fields beside the action menu.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.core.services import normalise_email
from personvern.rights import services
from personvern.rights.deadlines import days_left, received_date
from personvern.rights.models import CLASSIFIED_TYPES, OPEN_STATUSES, Request, RequestType
from personvern.rights.selectors import DUE_SOON_DAYS, today_oslo

ParamHelp = _(
    "Verify: how the identity was confirmed. Extend: the reason. Cancel: the reason. "
    "Fulfil: restriction ground (a-d), objected activity, or rectification as JSON. "
    "Link: the person's e-mail address."
)

CHOOSE_TYPE = _("Choose the type to classify as in the field beside the action menu.")
NO_PERSON_WITH_ADDRESS = _(
    "Write the e-mail address of the person the request concerns in the note field; "
    "no person holds the address given."
)


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("overdue", _("Overdue")), ("soon", _("Due within a week")), ("open", _("Open"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Request]) -> QuerySet[Request]:
        today = today_oslo()
        open_requests = queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "overdue":
            return open_requests.filter(due_legal__lt=today)
        if self.value() == "soon":
            return open_requests.filter(
                due_legal__gte=today, due_legal__lte=today + timedelta(days=DUE_SOON_DAYS)
            )
        if self.value() == "open":
            return open_requests
        return queryset


class ClassificationFilter(admin.SimpleListFilter):
    """The work list of requests whose right staff must still name."""

    title = _("classification")
    parameter_name = "classification"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("unclassified", _("Open, not yet classified"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Request]) -> QuerySet[Request]:
        if self.value() == "unclassified":
            return queryset.filter(status__in=OPEN_STATUSES, type=RequestType.UNCLASSIFIED)
        return queryset


class RequestActionForm(ActionForm):
    parameter = forms.CharField(label=_("Note / parameter"), required=False, help_text=ParamHelp)
    months = forms.IntegerField(label=_("Months"), required=False, min_value=1, max_value=2)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=get_user_model().objects.filter(is_staff=True, is_active=True),
        required=False,
    )
    lang = forms.ChoiceField(
        label=_("Language"), choices=[("nb", "Norsk bokmål"), ("en", "English")], required=False
    )
    classify_as = forms.ChoiceField(
        label=_("Classify as"),
        choices=[("", "---------"), *((t.value, t.label) for t in CLASSIFIED_TYPES)],
        required=False,
    )


# The index links every staff member to "Register a privacy request" and the data
# protection officer to the overview and the record of processing. The template
# extends the admin's own index, so another app's index changes still apply.
admin.site.index_template = "admin/rights/index.html"


@admin.register(Request)
class RequestAdmin(ScopedModelAdmin):
    list_display = (
        "__str__",
        "type",
        "status",
        "channel",
        "received_date",
        "due_legal",
        "days_left",
        "verified",
        "assignee",
    )
    list_filter = (DeadlineFilter, ClassificationFilter, "status", "type", "channel", "assignee")
    list_select_related = ("assignee",)
    ordering = ("due_legal", "received_at")
    search_fields = ("=public_id",)
    action_form = RequestActionForm
    actions = [
        "classify",
        "link_person",
        "assign",
        "send_verification",
        "verify_by_staff",
        "extend",
        "fulfil",
        "publish_file",
        "cancel",
    ]
    readonly_fields = (
        "public_id",
        "type",
        "status",
        "person",
        "subject",
        "channel",
        "received_at",
        "created_at",
        "created_by",
        "assignee",
        "notes",
        "verification_sent_at",
        "verified_at",
        "verification_method",
        "verification_note",
        "due_strict",
        "due_legal",
        "extended_by_months",
        "extension_reason",
        "extension_notified_at",
        "completed_at",
        "cancelled_at",
        "result_pretty",
    )
    exclude = ("result", "source_message_id")

    @admin.display(description=_("received"), ordering="received_at")
    def received_date(self, obj: Request) -> str:
        return received_date(obj.received_at).isoformat()

    @admin.display(description=_("days left"))
    def days_left(self, obj: Request) -> int | None:
        return days_left(obj.due_legal, today_oslo()) if obj.is_open else None

    @admin.display(description=_("verified"), boolean=True)
    def verified(self, obj: Request) -> bool:
        return obj.verified_at is not None

    @admin.display(description=_("result"))
    def result_pretty(self, obj: Request) -> str:
        return json.dumps(obj.result, indent=2, ensure_ascii=False) if obj.result else ""

    # --- Pages beside the list: registering, the overview, the record, a file ------

    def get_urls(self) -> list[Any]:
        from django.urls import path

        from personvern.rights import backoffice

        site = self.admin_site

        def page(view: Callable[..., Any]) -> Any:
            return site.admin_view(lambda request, **kw: view(request, site, **kw))

        return [
            path("register/", page(backoffice.register_view), name="rights_request_register"),
            path("overview/", page(backoffice.overview_view), name="rights_request_overview"),
            path("record-of-processing/", page(backoffice.ropa_view), name="rights_ropa"),
            path(
                "record-of-processing/<str:fmt>/", page(backoffice.ropa_download),
                name="rights_ropa_download",
            ),
            path("<int:pk>/file/", page(backoffice.file_view), name="rights_request_file"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        # One form for everyone who receives a request: the register page (R40).
        if not self.has_add_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:rights_request_register"))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        from personvern.rights.engine.files import export_path

        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None and export_path(obj) is not None:
            extra["file_url"] = reverse(
                f"{self.admin_site.name}:rights_request_file", args=[obj.pk]
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- Actions ----------------------------------------------------------------

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Request],
        step: Callable[[Request], object],
        done: str,
    ) -> None:
        ok = 0
        for item in queryset:
            try:
                step(item)
                ok += 1
            except ValidationError as exc:
                self.message_user(request, f"{item}: {'; '.join(exc.messages)}", messages.ERROR)
        if ok:
            self.message_user(request, f"{done}: {ok}", messages.SUCCESS)

    @staticmethod
    def _param(request: HttpRequest) -> str:
        return str(request.POST.get("parameter", "")).strip()

    @admin.action(description=_("Classify as the chosen type"), permissions=["change"])
    def classify(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        request_type = str(request.POST.get("classify_as") or "")
        if not request_type:
            self.message_user(request, str(CHOOSE_TYPE), messages.ERROR)
            return
        self._each(
            request,
            queryset,
            lambda r: services.request_classify(
                request=r, type=request_type, actor=_actor(request)
            ),
            str(_("Classified")),
        )

    @admin.action(description=_("Assign to the chosen staff member"), permissions=["change"])
    def assign(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        raw = request.POST.get("assignee") or None
        assignee = get_user_model().objects.filter(pk=raw).first() if raw else request.user
        self._each(
            request,
            queryset,
            lambda r: services.request_assign(
                request=r,
                assignee=assignee,  # type: ignore[arg-type]
                actor=_actor(request),
            ),
            str(_("Assigned")),
        )

    @admin.action(description=_("E-mail a verification code"), permissions=["change"])
    def send_verification(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        self._each(
            request,
            queryset,
            lambda r: services.request_send_verification(request=r, actor=_actor(request)),
            str(_("Codes sent")),
        )

    @admin.action(description=_("Identity confirmed by staff (note)"), permissions=["change"])
    def verify_by_staff(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        note = self._param(request)
        self._each(
            request,
            queryset,
            lambda r: services.request_verify(request=r, staff_note=note, actor=_actor(request)),
            str(_("Verified")),
        )

    @admin.action(description=_("Extend the deadline (months, reason)"), permissions=["change"])
    def extend(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        try:
            months = int(request.POST.get("months") or 0)
        except ValueError:
            months = 0
        reason = self._param(request)
        lang = str(request.POST.get("lang") or "nb")
        self._each(
            request,
            queryset,
            lambda r: services.request_extend(
                request=r, months=months, reason=reason, actor=_actor(request), lang=lang
            ),
            str(_("Extended")),
        )

    @admin.action(description=_("Fulfil"), permissions=["change"])
    def fulfil(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        param = self._param(request)
        lang = str(request.POST.get("lang") or "nb")

        def step(r: Request) -> object:
            kwargs: dict[str, Any] = {}
            if r.type == RequestType.RESTRICTION:
                kwargs["ground"] = param
            elif r.type == RequestType.OBJECTION:
                kwargs["activity"] = param
            elif r.type == RequestType.RECTIFICATION:
                try:
                    kwargs["changes"] = json.loads(param) if param else None
                except json.JSONDecodeError as exc:
                    raise ValidationError({"changes": f"Not JSON: {exc}"}) from exc
            return services.request_fulfil(
                request=r, actor=_actor(request), lang=lang, now=timezone.now(), **kwargs
            )

        self._each(request, queryset, step, str(_("Fulfilled")))

    @admin.action(
        description=_("Link to the person with the e-mail address in the note field"),
        permissions=["change"],
    )
    def link_person(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        from personvern.core.models import EmailIdentity
        from personvern.rights.routing import request_link_person

        raw = self._param(request)
        try:
            address = normalise_email(raw)
        except ValidationError:
            address = ""
        identity = (
            EmailIdentity.objects.select_related("person").filter(address=address).first()
            if address else None
        )
        if identity is None:
            self.message_user(request, str(NO_PERSON_WITH_ADDRESS), messages.ERROR)
            return
        self._each(
            request,
            queryset,
            lambda r: request_link_person(
                request=r, person=identity.person, actor=_actor(request)
            ),
            str(_("Linked")),
        )

    @admin.action(
        description=_("Make the file available on My page again and tell the person"),
        permissions=["change"],
    )
    def publish_file(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        from personvern.rights.selfservice import NO_ADDRESS_TO_TELL, bundle_publish

        lang = str(request.POST.get("lang") or "nb")

        def step(r: Request) -> object:
            told = bundle_publish(request=r, actor=_actor(request), lang=lang)
            if not told:
                self.message_user(request, f"{r}: {NO_ADDRESS_TO_TELL}", messages.WARNING)
            return told

        self._each(request, queryset, step, str(_("Available on My page")))

    @admin.action(description=_("Cancel (reason)"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        reason = self._param(request)
        self._each(
            request,
            queryset,
            lambda r: services.request_cancel(request=r, reason=reason, actor=_actor(request)),
            str(_("Cancelled")),
        )
