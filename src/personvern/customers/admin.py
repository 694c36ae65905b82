"""Back office for customers, partners and suppliers. Writes go through the services.

An organisation's page holds its whole record (R22): its contact persons and
invoices, newest first, a form row to add a contact by e-mail address (the
person is linked or created by the service) and one to record an invoice, the
retention term agreed with it, and the action that ends the relationship.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from personvern.core.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from personvern.core.models import Person
from personvern.core.services import normalise_email
from personvern.customers import services
from personvern.customers.models import Customer, CustomerContact, Invoice


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


class ContactInline(ScopedTabularInline):
    model = CustomerContact
    fields = ("person", "role", "added_at")
    readonly_fields = fields
    ordering = ("-added_at", "-pk")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # added through NewContactInline, by the service

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Contact persons are how the organisation is reached: part of its record.
        return request.user.has_perm("customers.view_customer")


class NewContactForm(forms.ModelForm):
    given_name = forms.CharField(label=capfirst(_("given name")), max_length=100, required=False)
    family_name = forms.CharField(label=capfirst(_("family name")), max_length=100, required=False)
    email = forms.EmailField(label=capfirst(_("e-mail address")))
    phone = forms.CharField(label=capfirst(_("phone")), max_length=40, required=False)

    class Meta:
        model = CustomerContact
        fields = ("role",)
        # An add-only inline's column headings come from here, not from the fields.
        labels = {
            "given_name": _("given name"),
            "family_name": _("family name"),
            "email": _("e-mail address"),
            "phone": _("phone"),
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        email = data.get("email")
        customer_id = self.instance.customer_id
        if email and customer_id and CustomerContact.objects.filter(
            customer_id=customer_id, person__emails__address=normalise_email(email)
        ).exists():
            self.add_error("email", services.ALREADY_CONTACT)
        return data


class _AddOnlyInline(ScopedTabularInline):
    """A form row that only adds (its rows are listed by the read-only inline)."""

    extra = 1
    max_num = 1
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).none()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


class NewContactInline(_AddOnlyInline):
    model = CustomerContact
    form = NewContactForm
    fields = ("given_name", "family_name", "email", "phone", "role")
    verbose_name = _("new contact person")
    verbose_name_plural = _("add a contact person")


class InvoiceInline(ScopedTabularInline):
    model = Invoice
    fields = ("number", "issued_on", "amount", "person")
    readonly_fields = fields
    ordering = ("-issued_on", "-pk")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NewInvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = ("number", "issued_on", "amount", "person")
        labels = {"person": _("contact person")}


class NewInvoiceInline(_AddOnlyInline):
    model = Invoice
    form = NewInvoiceForm
    fields = ("number", "issued_on", "amount", "person")
    verbose_name = _("new invoice")
    verbose_name_plural = _("record an invoice")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        # The person on an invoice is one of this organisation's contact persons.
        persons = Person.objects.filter(customer_roles__customer=obj) if obj else Person.objects
        if obj is None:
            persons = persons.none()
        field = formset.form.base_fields["person"]
        assert isinstance(field, forms.ModelChoiceField) and field.queryset is not None
        field.queryset = field.queryset.filter(pk__in=persons.values("pk"))
        field.help_text = ""
        return formset


class CustomerForm(forms.ModelForm):
    # Written as people write it ("987 654 321"); the service stores the digits.
    org_no = forms.CharField(
        label=capfirst(_("organisation number")), max_length=20, required=False
    )

    class Meta:
        model = Customer
        fields = ("name", "org_no", "kind", "relationship_started_at", "agreed_retention_until")

    def clean_org_no(self) -> str:
        org_no = re.sub(r"\s", "", self.cleaned_data.get("org_no") or "")
        if org_no and not re.fullmatch(r"\d{9}", org_no):
            raise forms.ValidationError(services.NOT_AN_ORG_NO, params={"org_no": org_no})
        return org_no

    def clean(self) -> dict[str, Any]:
        # The service's rule, in the form: an error beside the field, not a server error.
        data = super().clean() or {}
        until = data.get("agreed_retention_until")
        started = data.get("relationship_started_at") or self.instance.relationship_started_at
        if until is not None and started is not None and until < timezone.localdate(started):
            self.add_error("agreed_retention_until", services.AGREED_BEFORE_START)
        return data


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = (
        "name", "org_no", "kind", "relationship_started_at", "relationship_ended_at",
        "agreed_retention_until",
    )
    list_filter = ("kind",)
    search_fields = ("name", "org_no")
    ordering = ("-relationship_started_at", "-pk")
    fields = (
        "name", "org_no", "kind", "relationship_started_at", "relationship_ended_at",
        "agreed_retention_until",
    )
    inlines = [ContactInline, NewContactInline, InvoiceInline, NewInvoiceInline]
    actions = ["end_relationship"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("relationship_ended_at",)
        # Only the agreed retention term changes after registration (audited).
        return ("name", "org_no", "kind", "relationship_started_at", "relationship_ended_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # bookkeeping records refer to it

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        if change:
            services.customer_set_agreed_term(
                customer=obj, until=obj.agreed_retention_until, actor=_actor(request)
            )
            return
        created = services.customer_create(
            name=obj.name,
            org_no=obj.org_no,
            kind=obj.kind,
            started_at=obj.relationship_started_at,
            agreed_retention_until=obj.agreed_retention_until,
            actor=_actor(request),
        )
        obj.pk = created.pk

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        customer = form.instance
        created: list[Any] = []
        for row in formset.forms:
            if not row.has_changed() or not row.is_valid():
                continue
            data = row.cleaned_data
            if formset.model is CustomerContact:
                created.append(services.contact_register(
                    customer=customer, email=data["email"], given_name=data["given_name"],
                    family_name=data["family_name"], phone=data["phone"], role=data["role"],
                    actor=_actor(request),
                ))
            elif formset.model is Invoice:
                created.append(services.invoice_record(
                    customer=customer, number=data["number"], issued_on=data["issued_on"],
                    amount=data["amount"], person=data.get("person"), actor=_actor(request),
                ))
        # What the admin's change message reads, as formset.save() would leave it.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = created, [], []

    @admin.action(
        description=_("End the relationship with the selected organisations"),
        permissions=["change"],
    )
    def end_relationship(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        for customer in queryset.filter(relationship_ended_at__isnull=True):
            try:
                services.customer_end_relationship(customer=customer, actor=_actor(request))
            except ValidationError as exc:  # e.g. a relationship that starts later
                self.message_user(request, f"{customer}: {'; '.join(exc.messages)}",
                                  messages.ERROR)


class InvoiceForm(forms.ModelForm):
    """The stand-alone invoice form: the person named is one of the customer's contacts,
    as in the row on the organisation's page (an error beside the field, not a 500)."""

    class Meta:
        model = Invoice
        fields = ("customer", "person", "number", "issued_on", "amount")
        labels = {"person": capfirst(_("contact person"))}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        customer, person = data.get("customer"), data.get("person")
        if customer is not None and person is not None and not services.is_contact(
            customer=customer, person=person
        ):
            self.add_error("person", services.NOT_A_CONTACT)
        return data


@admin.register(Invoice)
class InvoiceAdmin(ScopedModelAdmin):
    form = InvoiceForm
    list_display = ("number", "customer", "issued_on", "amount")
    list_filter = ("customer__kind",)
    search_fields = ("number", "customer__name")
    ordering = ("-issued_on", "-pk")
    fields = ("customer", "person", "number", "issued_on", "amount")
    raw_id_fields = ("person",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # bookkeeping records are kept for the period the law sets

    def save_model(self, request: HttpRequest, obj: Invoice, form: Any, change: bool) -> None:
        created = services.invoice_record(
            customer=obj.customer,
            person=obj.person,
            number=obj.number,
            issued_on=obj.issued_on,
            amount=obj.amount,
            actor=_actor(request),
        )
        obj.pk = created.pk
