"""Back office for inquiries. Every write calls a service, so it is audited.

Account managers register the inquiries they receive (R15): the form names the
inquirer, and the service links the person with that address or creates one
(the customer profile that lets the inquiry be followed up).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.inquiries import services
from personvern.inquiries.models import Inquiry, InquiryChannel


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


class InquiryRegisterForm(forms.ModelForm):
    """An inquiry received by an account manager (phone, meeting, own mailbox)."""

    given_name = forms.CharField(label=capfirst(_("given name")), max_length=100, required=False)
    family_name = forms.CharField(label=capfirst(_("family name")), max_length=100, required=False)
    email = forms.EmailField(
        label=capfirst(_("e-mail address")),
        help_text=_("An inquirer already registered with this address is linked, not duplicated."),
    )

    class Meta:
        model = Inquiry
        fields = ("company", "subject", "message", "received_at")
        help_texts = {"received_at": _("When the inquiry reached us.")}


REGISTER_FIELDS = (
    "given_name", "family_name", "email", "company", "subject", "message", "received_at",
)


class InquiryStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("open")), ("closed", _("closed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(Inquiry)
class InquiryAdmin(ScopedModelAdmin):
    list_display = (
        "subject", "person", "company", "channel", "received_at", "last_contact_at", "closed_at",
    )
    list_filter = (InquiryStatusFilter, "channel")
    search_fields = ("subject", "company", "person__emails__address")
    ordering = ("-received_at", "-pk")
    readonly_fields = (
        "person",
        "channel",
        "company",
        "subject",
        "message",
        "received_at",
        "last_contact_at",
        "closed_at",
    )
    actions = ["record_contact", "close"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return REGISTER_FIELDS if obj is None else self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = InquiryRegisterForm
            kwargs["fields"] = InquiryRegisterForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The record itself is not edited; follow-ups and closing are actions.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retention deletes them when they are no longer relevant

    def save_model(self, request: HttpRequest, obj: Inquiry, form: Any, change: bool) -> None:
        data = form.cleaned_data
        created = services.inquiry_receive(
            email=data["email"],
            given_name=data["given_name"],
            family_name=data["family_name"],
            company=data["company"],
            subject=data["subject"],
            message=data["message"],
            received_at=data["received_at"],
            channel=InquiryChannel.ACCOUNT_MANAGER,
            actor=_actor(request),
        )
        obj.pk, obj.person = created.pk, created.person

    @admin.action(description=_("Record a follow-up contact now"), permissions=["change"])
    def record_contact(self, request: HttpRequest, queryset: QuerySet[Inquiry]) -> None:
        for inquiry in queryset.select_related("person"):
            self._each(request, inquiry, services.inquiry_record_contact)

    def _each(self, request: HttpRequest, inquiry: Inquiry, step: Any) -> None:
        """One inquiry's step; a refusal (an inquiry dated later than now) is named,
        not a server error, and the other inquiries go on."""
        try:
            step(inquiry=inquiry, actor=_actor(request))
        except ValidationError as exc:
            self.message_user(request, f"{inquiry}: {'; '.join(exc.messages)}", messages.ERROR)

    @admin.action(
        description=_("Close the selected inquiries (no longer relevant)"), permissions=["change"]
    )
    def close(self, request: HttpRequest, queryset: QuerySet[Inquiry]) -> None:
        for inquiry in queryset.filter(closed_at__isnull=True).select_related("person"):
            self._each(request, inquiry, services.inquiry_close)
