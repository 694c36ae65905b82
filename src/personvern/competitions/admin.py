"""Back office for competitions. Writes call the services, so they are audited.

Marketing creates a competition, reads its entries on its page (newest first)
and reviews each (feedback, winner, feedback mailed to the entrant through the
outbox), and may close it early: closing ends it, so the entries' retention
period, counted from the end (R23), starts.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from personvern.competitions import services
from personvern.competitions.models import Competition, Entry
from personvern.core.admin_scoping import ScopedModelAdmin, ScopedTabularInline


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


class EntryInline(ScopedTabularInline):
    model = Entry
    fields = ("person", "workplace", "submitted_at", "reviewed_at", "is_winner",
              "feedback_sent_at")
    readonly_fields = fields
    ordering = ("-submitted_at", "-pk")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Competition)
class CompetitionAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "ends_at", "is_running", "entry_count")
    fields = ("title", "slug", "description", "ends_at")
    prepopulated_fields = {"slug": ("title",)}
    ordering = ("-ends_at", "-pk")
    inlines = [EntryInline]
    actions = ["close"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(_entries=Count("entries"))

    @admin.display(description=_("entries"), ordering="_entries")
    def entry_count(self, obj: Any) -> int:
        return int(obj._entries)

    @admin.display(description=_("running"), boolean=True)
    def is_running(self, obj: Competition) -> bool:
        return obj.ends_at > timezone.now()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Competition, form: Any, change: bool) -> None:
        created = services.competition_create(
            title=obj.title, slug=obj.slug, description=obj.description, ends_at=obj.ends_at,
            actor=_actor(request),
        )
        obj.pk = created.pk

    @admin.action(description=_("Close the selected competitions now"), permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[Competition]) -> None:
        closed = 0
        for competition in queryset.filter(ends_at__gt=timezone.now()):
            services.competition_close(competition=competition, actor=_actor(request))
            closed += 1
        self.message_user(
            request,
            _("Closed %(count)d competitions; their entries' retention period has started.")
            % {"count": closed},
            messages.SUCCESS,
        )


class EntryReviewForm(forms.ModelForm):
    send_feedback = forms.BooleanField(
        label=_("Send the feedback to the entrant by e-mail"), required=False
    )

    class Meta:
        model = Entry
        fields = ("feedback", "is_winner")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("send_feedback") and not (data.get("feedback") or "").strip():
            self.add_error("feedback", services.FEEDBACK_NEEDED)
        elif data.get("send_feedback") and not self.instance.person.emails.exists():
            # The service's refusal, beside the field, with the feedback kept in the form.
            self.add_error("send_feedback", services.NO_ADDRESS)
        return data


class ReviewedFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "reviewed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("not reviewed")), ("yes", _("reviewed")), ("winner", _("winners"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(reviewed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(reviewed_at__isnull=False)
        if self.value() == "winner":
            return queryset.filter(is_winner=True)
        return queryset


@admin.register(Entry)
class EntryAdmin(ScopedModelAdmin):
    list_display = ("competition", "person", "workplace", "submitted_at", "reviewed_at",
                    "is_winner", "feedback_sent_at")
    list_filter = ("competition", ReviewedFilter)
    ordering = ("-submitted_at", "-pk")
    form = EntryReviewForm
    fields = ("competition", "person", "workplace", "contribution", "submitted_at",
              "reviewed_at", "feedback_sent_at", "feedback", "is_winner", "send_feedback")
    readonly_fields = ("competition", "person", "workplace", "contribution", "submitted_at",
                       "reviewed_at", "feedback_sent_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entries come from the entrants through the site

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retention removes them after the competition (R23)

    def save_model(self, request: HttpRequest, obj: Entry, form: Any, change: bool) -> None:
        # The editable fields are the review's, which the service records and audits.
        data = form.cleaned_data
        try:
            services.entry_review(
                entry=obj, feedback=data.get("feedback", ""), is_winner=data["is_winner"],
                send_feedback=data["send_feedback"], lang=get_language(), actor=_actor(request),
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            request._entry_review_refused = True  # type: ignore[attr-defined]

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # A refused review changed nothing: no "changed" entry in the object's history.
        if getattr(request, "_entry_review_refused", False):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        # Only the refusal: back to the entry, without Django's "changed successfully".
        if getattr(request, "_entry_review_refused", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)
