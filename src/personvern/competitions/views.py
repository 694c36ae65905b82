"""Public competition pages (R23): the open competitions, an entry form each, a receipt.

Thin: the form checks shapes, :func:`~personvern.competitions.services.entry_submit`
the rules. How long an entry is kept is read from the policy in force, as the
privacy notice says it, not written here.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from personvern.competitions import selectors, services
from personvern.competitions.forms import EntryForm
from personvern.competitions.models import Competition
from personvern.core.ratelimits import configured_rate
from personvern.policy.models import normalise_lang

PUBLIC_ACTOR = "public:competition-form"


def _competition(slug: str) -> Competition:
    competition = selectors.competition_by_slug(slug)
    if competition is None:
        raise Http404
    return competition


@require_GET
def competition_list(request: HttpRequest) -> HttpResponse:
    """The competitions open now."""
    return render(request, "competitions/list.html", {
        "competitions": selectors.open_competitions(),
    })


@require_http_methods(["GET", "POST"])
@ratelimit(group="competition-entry", key="ip", rate=configured_rate, method="POST")
def enter(request: HttpRequest, slug: str) -> HttpResponse:
    """A competition's page: its rules and the entry form, or that it has closed.

    A second entry from the same address is answered exactly like a first (the
    receipt page), so the form cannot tell anyone who has entered; the address's
    owner is told by e-mail that the first entry stands (docs/decisions/0022).
    """
    competition = _competition(slug)
    now = timezone.now()
    is_open = competition.ends_at > now
    form = EntryForm(request.POST or None) if is_open else None
    if form is not None and request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        receipt = HttpResponseRedirect(reverse("competitions:entered", args=[competition.slug]))
        try:
            with transaction.atomic():
                entry = services.entry_submit(
                    competition=competition, actor=PUBLIC_ACTOR, now=now, **kwargs
                )
                services.entry_receipt_send(
                    entry=entry, email=kwargs["email"], actor=PUBLIC_ACTOR, now=now
                )
        except ValidationError as exc:
            if services.is_already_entered(exc):
                services.entry_duplicate_notice_send(
                    competition=competition, email=kwargs["email"], actor=PUBLIC_ACTOR, now=now
                )
                return receipt
            if "competition" in getattr(exc, "error_dict", {}):
                is_open, form = False, None  # it closed while the form was being filled in
            else:
                for field, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
                    form.add_error(field if field in form.fields else None, errors)
        else:
            return receipt
    return render(request, "competitions/enter.html", {
        "competition": competition,
        "form": form,
        "is_open": is_open,
        "retention": selectors.entry_retention(normalise_lang(translation.get_language())),
        "notice_url": reverse("privacy-notice"),
    })


@require_GET
def entered(request: HttpRequest, slug: str) -> HttpResponse:
    """The receipt after an entry: the same for everyone, whatever the outcome."""
    competition = _competition(slug)
    return render(request, "competitions/entered.html", {
        "competition": competition,
        "retention": selectors.entry_retention(normalise_lang(translation.get_language())),
    })
