"""Min side pages: the signed-in person's page, the sign-in and the sign-out.

Thin: the sign-in's logic is in :mod:`personvern.portal.signin`, the session in
:mod:`personvern.portal.auth`, and what the page shows is declared by each app
(:mod:`personvern.portal.registry`).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from personvern.core.ratelimits import configured_rate
from personvern.portal import registry
from personvern.portal.auth import person_required, portal_person, portal_sign_in, portal_sign_out
from personvern.portal.forms import SignInForm
from personvern.portal.signin import (
    LinkProblem,
    LinkRefused,
    sign_in_link_check,
    sign_in_link_send,
    sign_in_link_use,
    signed_out_audit,
)

#: The status of the page a refused link shows: gone when it was good once, else not found.
LINK_STATUS = {
    LinkProblem.INVALID: 404,
    LinkProblem.UNKNOWN_PERSON: 404,
    LinkProblem.EXPIRED: 410,
    LinkProblem.USED: 410,
}


def _safe_next(request: HttpRequest, target: str) -> str:
    """``target`` if it is a path on this site, else Min side's page."""
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:home")


@never_cache
@person_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in person's page: every app's section that has something to show."""
    person = request.portal_person  # type: ignore[attr-defined]
    now = timezone.now()
    parts = []
    holds_data = False
    for section in registry.sections():
        context = section.context(person, now)
        if context is None and not section.always:
            continue
        holds_data = holds_data or context is not None
        base = section.base_context() if section.base_context is not None else {}
        html = render_to_string(
            section.template, {**base, **(context or {}), "person": person, "now": now}, request
        )
        parts.append({"section": section, "html": html, "empty": context is None})
    name = " ".join(part for part in (person.given_name, person.family_name) if part)
    return render(
        request,
        "portal/home.html",
        {"parts": parts, "person": person, "name": name, "holds_data": holds_data},
    )


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(group="portal-sign-in", key="ip", rate=configured_rate, method="POST")
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link by e-mail; the answer is the same for any address."""
    if request.method == "GET" and portal_person(request) is not None:
        return HttpResponseRedirect(_safe_next(request, request.GET.get("next", "")))
    form = SignInForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method == "POST" and form.is_valid():
        target = _safe_next(request, form.cleaned_data.get("next", ""))
        sign_in_link_send(email=form.cleaned_data["email"], next_path=target)
        return HttpResponseRedirect(reverse("portal:sign-in-sent"))
    return render(request, "portal/sign_in.html", {"form": form})


@require_GET
def sign_in_sent(request: HttpRequest) -> HttpResponse:
    """The answer to every sign-in request: if we know the address, a link is on its way."""
    return render(request, "portal/sign_in_sent.html")


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    """The mailed link: GET shows a button (a fetch by a mail scanner spends nothing),
    POST spends the link and signs the person in."""
    try:
        if request.method == "POST":
            link = sign_in_link_use(token)
            portal_sign_in(request, link.person)
            return HttpResponseRedirect(_safe_next(request, link.next))
        sign_in_link_check(token)
    except LinkRefused as refused:
        return render(
            request, "portal/sign_in_invalid.html", {"problem": refused.problem.value},
            status=LINK_STATUS[refused.problem],
        )
    return render(request, "portal/sign_in_link.html")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the Min side session."""
    person = portal_person(request)
    if person is not None:
        signed_out_audit(person)
    portal_sign_out(request)
    return HttpResponseRedirect(reverse("portal:signed-out"))


@require_GET
def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/signed_out.html")
