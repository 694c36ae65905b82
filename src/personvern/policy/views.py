"""Public pages: the privacy notice and the cookie policy, rendered from the policy in force."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_GET

from .loader import active_policy
from .models import Lang, normalise_lang
from .render import render_cookie_policy, render_notice


def _language(request: HttpRequest) -> Lang:
    """``?lang=nb|en`` wins; otherwise the request's active language."""
    requested = request.GET.get("lang", "")
    if requested in ("nb", "en"):
        return requested  # type: ignore[return-value]
    return normalise_lang(translation.get_language())


def _page(html: str, lang: str) -> HttpResponse:
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Language"] = lang
    return response


@require_GET
def notice_view(request: HttpRequest) -> HttpResponse:
    """The privacy notice (R41: with its last-updated date and version history)."""
    lang = _language(request)
    return _page(render_notice(active_policy(), lang, "html"), lang)


@require_GET
def cookie_policy_view(request: HttpRequest) -> HttpResponse:
    """The cookie policy, a page of its own (R28, R41)."""
    lang = _language(request)
    return _page(render_cookie_policy(active_policy(), lang, "html"), lang)
