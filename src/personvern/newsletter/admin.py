"""Back office for the newsletter. Every write calls a service, so it is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.newsletter import services
from personvern.newsletter.models import Interaction, Newsletter, Subscription

SEND_QUEUED = _(
    "Sending has started in the background: the copies go out in batches, and the "
    "newsletter shows when it was sent and to how many once it is done."
)


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


@admin.register(Subscription)
class SubscriptionAdmin(ScopedModelAdmin):
    list_display = ("person", "status", "basis", "source", "subscribed_at", "unsubscribed_at")
    list_filter = ("status", "basis", "source")
    search_fields = ("person__emails__address", "person__family_name")
    readonly_fields = (
        "person",
        "status",
        "source",
        "basis",
        "organisation",
        "basis_note",
        "subscribed_at",
        "unsubscribed_at",
        "unsubscribe_channel",
    )
    actions = ["unsubscribe"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Subscriptions come from the sign-up form, imports and member organisations,
        # each of which records the basis; a bare admin form could not.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # unsubscribe instead: the retention rule then runs from the withdrawal

    @admin.action(description=_("Unsubscribe the selected subscribers"), permissions=["change"])
    def unsubscribe(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        count = 0
        for subscription in queryset.filter(status="active").select_related("person"):
            services.newsletter_unsubscribe(
                subscription=subscription, channel="staff", actor=_actor(request)
            )
            count += 1
        message = ngettext(
            "%(count)d subscriber unsubscribed.", "%(count)d subscribers unsubscribed.", count
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(Newsletter)
class NewsletterAdmin(admin.ModelAdmin):
    list_display = ("pk", "subject", "sent_at", "recipient_count")
    fields = ("subject", "body", "sent_at", "recipient_count")
    readonly_fields = ("sent_at", "recipient_count")
    actions = ["send"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Editable until it starts going out (`personvern newsletter send ID` sends it).
        unsent = obj is None or (obj.sent_at is None and obj.send_cursor is None)
        return unsent and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Newsletter, form: Any, change: bool) -> None:
        if change:
            services.newsletter_update(
                newsletter=obj, subject=obj.subject, body=obj.body, actor=_actor(request)
            )
            return
        created = services.newsletter_create(
            subject=obj.subject, body=obj.body, actor=_actor(request)
        )
        obj.pk = created.pk

    @admin.action(description=_("Send the selected newsletters"), permissions=["change"])
    def send(self, request: HttpRequest, queryset: QuerySet[Newsletter]) -> None:
        """Queue each for the worker; the mail goes out in the background, in batches."""
        queued = 0
        for newsletter in queryset:
            try:
                services.newsletter_queue_send(newsletter=newsletter, actor=_actor(request))
            except ValidationError as exc:
                self.message_user(request, f"{newsletter.subject}: {'; '.join(exc.messages)}",
                                  messages.ERROR)
            else:
                queued += 1
        if queued:
            self.message_user(request, SEND_QUEUED, messages.SUCCESS)


@admin.register(Interaction)
class InteractionAdmin(ScopedModelAdmin):
    list_display = ("subscription", "newsletter", "kind", "at")
    list_filter = ("kind",)
    readonly_fields = ("subscription", "newsletter", "kind", "url", "at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
