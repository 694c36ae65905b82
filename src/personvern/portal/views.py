"""Min side pages (work in progress: the sign-in flow is being built)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from personvern.portal import registry
from personvern.portal.auth import person_required


@person_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in person's page: every app's section that has something to show."""
    person = request.portal_person  # type: ignore[attr-defined]
    now = timezone.now()
    parts = []
    for section in registry.sections():
        context = section.context(person, now)
        if context is None and not section.always:
            continue
        html = render_to_string(
            section.template, {**(context or {}), "person": person, "now": now}, request
        )
        parts.append({"section": section, "html": html})
    return render(request, "portal/home.html", {"parts": parts, "person": person})


def sign_in(request: HttpRequest) -> HttpResponse:
    raise Http404("not built yet")
