"""The competitions' part of Min side: the person's entries, and withdrawing one (R23).

Declared here and discovered by the portal, which imports no domain app:

- ``competitions.entries``: each entry with its competition, when it was
  submitted and how long it is kept (the policy's retention text, as the
  competition's entry page shows it), and a link to withdraw it while the
  competition runs;
- ``/me/competitions/entries/<id>/withdraw/``: confirm (GET), then withdraw
  (POST) one of the signed-in person's own entries; any other id is a 404, the
  same as one that does not exist. The withdrawal deletes the entry and is
  audited by :func:`~personvern.competitions.services.entry_withdraw`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from personvern.competitions import selectors, services
from personvern.competitions.models import Entry
from personvern.core.models import Person
from personvern.policy.models import normalise_lang
from personvern.portal.auth import person_actor, person_required
from personvern.portal.registry import Section, register_pages, register_section


def _retention() -> list[dict[str, str]]:
    return selectors.entry_retention(normalise_lang(translation.get_language()))


def person_entries(person: Person, now: datetime) -> list[Entry]:
    """The person's entries, the most recent first, each marked ``may_withdraw``."""
    entries = list(
        Entry.objects.filter(person=person)
        .select_related("competition")
        .order_by("-submitted_at", "-pk")
    )
    for entry in entries:
        entry.may_withdraw = now < entry.competition.ends_at  # type: ignore[attr-defined]
    return entries


def entries_context(person: Person, now: datetime) -> Mapping[str, Any] | None:
    entries = person_entries(person, now)
    if not entries:
        return None
    return {"entries": entries, "retention": _retention()}


register_section(
    Section(
        key="competitions.entries",
        title=_("My competition entries"),
        template="competitions/portal/section.html",
        context=entries_context,
        order=50,
    )
)


def _own_entry(person: Person, entry_id: int) -> Entry:
    entry = Entry.objects.select_related("competition").filter(person=person, pk=entry_id).first()
    if entry is None:
        raise Http404("no such entry of yours")
    return entry


@never_cache
@require_http_methods(["GET", "POST"])
@person_required
def withdraw(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Confirm, then withdraw, one of the signed-in person's competition entries."""
    person = request.portal_person  # type: ignore[attr-defined]
    entry = _own_entry(person, entry_id)
    now = timezone.now()
    error = None
    if request.method == "POST":
        try:
            services.entry_withdraw(entry=entry, actor=person_actor(person), now=now)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return HttpResponseRedirect(reverse("portal:portal-competitions:withdrawn"))
    return render(
        request,
        "competitions/portal/withdraw.html",
        {
            "entry": entry,
            "competition": entry.competition,
            "may_withdraw": now < entry.competition.ends_at,
            "retention": _retention(),
            "error": error,
        },
        status=409 if error else 200,
    )


@never_cache
@require_GET
@person_required
def withdrawn(request: HttpRequest) -> HttpResponse:
    """The answer after a withdrawal: the entry is deleted."""
    return render(request, "competitions/portal/withdrawn.html")


register_pages(
    "competitions",
    [
        path("entries/<int:entry_id>/withdraw/", withdraw, name="withdraw"),
        path("withdrawn/", withdrawn, name="withdrawn"),
    ],
)
