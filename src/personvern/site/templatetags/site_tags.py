"""Template tags of the public site: the cookie banner and the language switcher."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from personvern.webstats import consent

register = template.Library()


@register.inclusion_tag("site/_cookie_banner.html", takes_context=True)
def cookie_banner(context: template.Context) -> dict[str, Any]:
    """The analytics question, shown until the visitor answers it.

    With a Global Privacy Control signal the question is not asked: the signal
    is the answer ("no"), and the banner only says that it is honoured.
    """
    request = context.get("request")
    if request is None or context.get("hide_banner"):
        return {"show": False, "gpc": False}
    gpc = consent.gpc_signal(request)
    return {
        "show": not gpc and consent.stored_choice(request) is None,
        "gpc": gpc,
        "next": request.get_full_path(),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("site/_language_switcher.html", takes_context=True)
def language_switcher(context: template.Context) -> dict[str, Any]:
    """Buttons that switch the page language through Django's ``set_language``."""
    request = context.get("request")
    return {
        "languages": settings.LANGUAGES,
        "next": request.get_full_path() if request is not None else "/",
        "csrf_token": context.get("csrf_token"),
    }
