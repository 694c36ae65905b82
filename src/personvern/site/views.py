"""Public pages: home, privacy notice, cookie policy and choice, secure channel.

Views are thin: they read through selectors, write through services, and
render. Every page extends ``site/base.html``, which carries the cookie banner.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signing import BadSignature, TimestampSigner
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from personvern.core.policy import current_policy
from personvern.core.ratelimits import configured_rate
from personvern.policy.models import normalise_lang
from personvern.policy.render import render_cookie_policy, render_notice
from personvern.site.forms import ConsentChoiceForm, SecureMessageForm
from personvern.site.selectors import upcoming_courses
from personvern.site.services import secure_message_send
from personvern.site.uploads import MAX_UPLOAD_BYTES, allowed_extensions
from personvern.webstats import consent
from personvern.webstats.services import analytics_consent_grant, analytics_consent_withdraw

#: Version of the banner's and the choice page's wording; bump it when they change,
#: so the consent ledger shows which text a visitor agreed to.
CONSENT_TEXT_VERSION = "cookie-banner-1"
CONSENT_ACTOR = "public:cookie-banner"
SECURE_CHANNEL_ACTOR = "public:secure-channel"
NOTICE_TITLE = _("Privacy notice")
RATE_LIMITED_TITLE = _("Too many attempts")
RATE_LIMITED_MESSAGE = _(
    "You have sent this form too many times in a short while. "
    "Please wait a while and try again."
)
LOGIN_LOCKED_TITLE = _("Login blocked")
COOKIE_POLICY_TITLE = _("Cookie policy")


def _lang() -> str:
    return normalise_lang(translation.get_language())


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Upcoming courses with links to their registration pages; ``?q=`` searches titles."""
    # No title holds a NUL, and PostgreSQL refuses one in a query (a 500).
    query = request.GET.get("q", "")[:100].replace("\x00", "")
    courses = upcoming_courses(now=timezone.now(), query=query)
    return render(request, "site/home.html", {"courses": courses, "query": query})


def _policy_page(request: HttpRequest, html: str, title: str | Promise) -> HttpResponse:
    # The renderer escapes every value from the policy file; its output is trusted HTML.
    response = render(
        request, "site/policy_page.html", {"content": mark_safe(html), "title": title}  # noqa: S308
    )
    response["Content-Language"] = _lang()
    return response


@require_GET
def privacy_notice(request: HttpRequest) -> HttpResponse:
    """The privacy notice from the policy in force (R41: last updated, version history)."""
    html = render_notice(current_policy(), _lang(), "html", standalone=False)
    return _policy_page(request, html, NOTICE_TITLE)


@require_GET
def cookie_policy(request: HttpRequest) -> HttpResponse:
    """The cookie policy, a page of its own (R28, R41), with a link to change the choice."""
    html = render_cookie_policy(current_policy(), _lang(), "html", standalone=False)
    return _policy_page(request, html, COOKIE_POLICY_TITLE)


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("cookie-consent")


@require_http_methods(["GET", "POST"])
@ratelimit(group="cookie-choice", key="ip", rate=configured_rate, method="POST")
def cookie_consent(request: HttpRequest) -> HttpResponse:
    """Show the analytics choice (GET) or record a new one (POST) and go back."""
    if request.method == "POST":
        return _record_choice(request)
    return render(
        request,
        "site/cookie_consent.html",
        {
            "stored_choice": consent.stored_choice(request),
            "gpc": consent.gpc_signal(request),
            "hide_banner": True,
        },
    )


def _record_choice(request: HttpRequest) -> HttpResponse:
    form = ConsentChoiceForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    choice = form.cleaned_data["choice"]
    version = current_policy().version
    current = consent.visitor_id(request)
    visitor = None
    if choice == consent.GRANTED:
        row = analytics_consent_grant(
            visitor_id=current,
            policy_version=version,
            text_version=CONSENT_TEXT_VERSION,
            actor=CONSENT_ACTOR,
        )
        visitor = row.visitor_id
    else:
        analytics_consent_withdraw(
            visitor_id=current,
            policy_version=version,
            text_version=CONSENT_TEXT_VERSION,
            actor=CONSENT_ACTOR,
        )
    response = HttpResponseRedirect(_safe_next(request, form.cleaned_data.get("next", "")))
    consent.remember_choice(response, choice=choice, visitor=visitor)
    return response


@require_http_methods(["GET", "POST"])
@ratelimit(group="secure-message", key="ip", rate=configured_rate, method="POST")
def secure_channel(request: HttpRequest) -> HttpResponse:
    """A form to send us a message and a file over HTTPS instead of unencrypted e-mail.

    The answer is a receipt page with the case number (a privacy question's is
    that of its privacy request, R5, R32); the number travels to it signed in
    the address's query, never in a cookie.
    """
    form = SecureMessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            receipt = secure_message_send(
                email=data["email"],
                given_name=data["given_name"],
                family_name=data["family_name"],
                topic=data["topic"],
                subject=data["subject"],
                message=data["message"],
                attachment=data["attachment"],
                actor=SECURE_CHANNEL_ACTOR,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            kind = "privacy" if receipt.is_privacy_request else "message"
            token = _SENT_SIGNER.sign(f"{kind}:{receipt.case_number}")
            sent = reverse("secure-channel-sent")
            return HttpResponseRedirect(f"{sent}?{urlencode({'case': token})}")
    return render(
        request,
        "site/secure_channel.html",
        {
            "form": form,
            "allowed_types": allowed_extensions(),
            "max_size": MAX_UPLOAD_BYTES,
            "notice_url": reverse("privacy-notice"),
        },
    )


#: Signs the case number the receipt page shows; a day after sending it is not shown.
_SENT_SIGNER = TimestampSigner(salt="personvern.site.secure-channel-sent")
SENT_PAGE_MAX_AGE = timedelta(days=1)


@require_GET
def secure_channel_sent(request: HttpRequest) -> HttpResponse:
    """The receipt after a secure message: its case number, nothing of what was sent."""
    kind = case = ""
    with contextlib.suppress(BadSignature):
        kind, _sep, case = _SENT_SIGNER.unsign(
            request.GET.get("case", ""), max_age=SENT_PAGE_MAX_AGE
        ).partition(":")
    return render(
        request,
        "site/secure_channel_sent.html",
        {
            "case": case,
            "privacy": kind == "privacy",
            "response_time": current_policy().rights.response_time.describe(_lang()),
        },
    )


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The answer to a public form posted too often by one client (``RATELIMIT_VIEW``): 429."""
    return render(
        request, "site/rate_limited.html",
        {"title": RATE_LIMITED_TITLE, "message": RATE_LIMITED_MESSAGE}, status=429,
    )


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The back-office login after too many failures (django-axes' ``AXES_LOCKOUT_CALLABLE``).

    Says for how long, not whether the user name exists: a wrong name is locked
    out exactly like a right one.
    """
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = max(1, int(cooloff.total_seconds() // 60)) if isinstance(cooloff, timedelta) else 0
    return render(
        request, "site/login_locked_out.html",
        {"title": LOGIN_LOCKED_TITLE, "minutes": minutes,
         "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
