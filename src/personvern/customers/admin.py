"""Back office for customers, partners and suppliers. Writes go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from personvern.core.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from personvern.customers import services
from personvern.customers.models import Customer, CustomerContact, Invoice


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


class ContactInline(ScopedTabularInline):
    model = CustomerContact
    fields = ("person", "role", "added_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Contact persons are how the organisation is reached: part of its record.
        return request.user.has_perm("customers.view_customer")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "org_no", "kind", "relationship_started_at", "relationship_ended_at")
    list_filter = ("kind",)
    search_fields = ("name", "org_no")
    fields = ("name", "org_no", "kind", "relationship_started_at", "relationship_ended_at")
    readonly_fields = ("relationship_ended_at",)
    inlines = [ContactInline]
    actions = ["end_relationship"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # bookkeeping records refer to it

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        created = services.customer_create(
            name=obj.name,
            org_no=obj.org_no,
            kind=obj.kind,
            started_at=obj.relationship_started_at,
            actor=_actor(request),
        )
        obj.pk = created.pk

    @admin.action(
        description=_("End the relationship with the selected organisations"),
        permissions=["change"],
    )
    def end_relationship(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        for customer in queryset.filter(relationship_ended_at__isnull=True):
            services.customer_end_relationship(customer=customer, actor=_actor(request))


@admin.register(Invoice)
class InvoiceAdmin(ScopedModelAdmin):
    list_display = ("number", "customer", "issued_on", "amount")
    list_filter = ("customer__kind",)
    search_fields = ("number", "customer__name")
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
