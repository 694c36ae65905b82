"""Back office for the newsletter. Every write calls a service, so it is audited."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.core.consent_labels import channel_label
from personvern.newsletter import services
from personvern.newsletter.models import Interaction, Newsletter, Subscription
from personvern.newsletter.selectors import SendState, send_progress

SEND_QUEUED = _(
    "Sending has started in the background: the copies go out in batches, and the "
    "newsletter's page shows how far it has come."
)
#: How often a mailing's page reloads itself while the send is under way.
REFRESH_SECONDS = 5


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
        "consent",
        "subscribed_at",
        "unsubscribed_at",
        "unsubscribed_through",
    )
    exclude = ("unsubscribe_channel",)  # shown in words by unsubscribed_through
    actions = ["unsubscribe"]

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        """Every field is read-only: changes go through the actions and the services."""

    @admin.display(description=_("unsubscribed through"))
    def unsubscribed_through(self, obj: Subscription) -> str:
        return channel_label(obj.unsubscribe_channel) if obj.unsubscribe_channel else "-"

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


class NewsletterForm(forms.ModelForm):
    """The service's subject rule in the form: an error beside the field, not a 500."""

    class Meta:
        model = Newsletter
        fields = ("subject", "body")

    def clean_subject(self) -> str:
        subject = str(self.cleaned_data.get("subject") or "")
        if "\n" in subject or "\r" in subject:
            raise forms.ValidationError(services.SUBJECT_ONE_LINE)
        return subject


@admin.register(Newsletter)
class NewsletterAdmin(admin.ModelAdmin):
    """Write, preview and send a mailing; its page follows the send until it is done."""

    form = NewsletterForm

    list_display = ("pk", "subject", "status", "progress", "sent_at")
    readonly_fields = ("status", "progress", "sent_at", "recipient_count")
    actions = ["send"]
    change_form_template = "admin/newsletter/newsletter/change_form.html"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["subject", "body"]
        # Status and progress are shown above the form (the page follows the send).
        return ["subject", "body", "sent_at", "recipient_count"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Editable until it starts going out; then its page shows how the send goes.
        unsent = obj is None or (obj.sent_at is None and obj.send_cursor is None)
        return unsent and super().has_change_permission(request, obj)

    def _may_send(self, request: HttpRequest) -> bool:
        return super().has_change_permission(request)

    @admin.display(description=_("status"))
    def status(self, obj: Newsletter) -> str:
        progress = send_progress(obj)
        if progress.state == SendState.FAILED:
            return format_html("{} ({})", progress.label, obj.send_error or "–")
        return progress.label

    @admin.display(description=_("progress"))
    def progress(self, obj: Newsletter) -> str:
        progress = send_progress(obj)
        if progress.state == SendState.DRAFT or progress.total is None:
            return "–"
        text = _("%(done)s of %(total)s copies") % {"done": progress.done,
                                                     "total": progress.total}
        return format_html('<progress value="{}" max="{}">{}</progress> {}',
                           progress.done, max(progress.total, 1), text, text)

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

    # --- the mailing's own pages: preview and send ---------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view),
                 name="newsletter_newsletter_preview"),
            path("<int:pk>/send/", view(self.send_view), name="newsletter_newsletter_send"),
            *super().get_urls(),
        ]

    def _newsletter(self, request: HttpRequest, pk: int) -> Newsletter:
        newsletter = self.get_object(request, str(pk))
        if newsletter is None:
            raise Http404
        if not self.has_view_or_change_permission(request, newsletter):
            raise PermissionDenied
        return cast(Newsletter, newsletter)

    def _context(self, request: HttpRequest, newsletter: Newsletter, title: str) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "title": title, "opts": self.opts, "original": newsletter,
            "change_url": reverse("admin:newsletter_newsletter_change", args=[newsletter.pk]),
            "send_url": reverse("admin:newsletter_newsletter_send", args=[newsletter.pk]),
            "preview_url": reverse("admin:newsletter_newsletter_preview", args=[newsletter.pk]),
            "progress": send_progress(newsletter),
            "may_send": self._may_send(request),
        }

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        newsletter = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if newsletter is not None:
            extra.update({k: v for k, v in self._context(request, newsletter, "").items()
                          if k in ("send_url", "preview_url", "progress", "may_send")})
            extra["refresh_seconds"] = REFRESH_SECONDS
        return super().change_view(request, object_id, form_url, extra)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The mailing as a (sample) recipient gets it, text and HTML; nothing is sent."""
        newsletter = self._newsletter(request, pk)
        context = self._context(request, newsletter, str(_("Preview: %(subject)s")
                                                        % {"subject": newsletter.subject}))
        context["preview"] = services.newsletter_preview(newsletter=newsletter)
        return TemplateResponse(request, "admin/newsletter/newsletter/preview.html", context)

    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm, then queue the send (or resume one that failed) for the worker."""
        newsletter = self._newsletter(request, pk)
        if not self._may_send(request):
            raise PermissionDenied
        change_url = reverse("admin:newsletter_newsletter_change", args=[newsletter.pk])
        if request.method == "POST":
            try:
                services.newsletter_queue_send(newsletter=newsletter, actor=_actor(request))
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
            else:
                messages.success(request, SEND_QUEUED)
            return HttpResponseRedirect(change_url)
        context = self._context(request, newsletter, str(_("Send the newsletter")))
        context["recipients"] = services.recipients_count(timezone.now())
        return TemplateResponse(request, "admin/newsletter/newsletter/send.html", context)


@admin.register(Interaction)
class InteractionAdmin(ScopedModelAdmin):
    list_display = ("subscription_shown", "newsletter_shown", "kind", "at")
    list_filter = ("kind",)
    list_select_related = ("subscription__person", "newsletter")
    readonly_fields = ("subscription_shown", "newsletter_shown", "kind", "url", "at")
    fields = readonly_fields

    # Headed in the reader's language here: the two foreign keys have no verbose
    # name of their own (giving them one would take a migration).
    @admin.display(description=_("subscription"), ordering="subscription")
    def subscription_shown(self, obj: Interaction) -> str:
        return str(obj.subscription)

    @admin.display(description=_("newsletter"), ordering="newsletter")
    def newsletter_shown(self, obj: Interaction) -> str:
        return str(obj.newsletter)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
