"""The unsubscribe link at the bottom of every newsletter (R18, RFC 8058).

``GET`` shows a page with one button and changes nothing: mail filters and
link checkers open links in messages, and must not unsubscribe anyone.
``POST`` unsubscribes at once: from that button, or from a mail program's own
"unsubscribe" button, which sends ``List-Unsubscribe=One-Click`` (RFC 8058)
without cookies. The signed token in the address is the authorisation, so the
view needs no CSRF cookie: a forged request would have to know the token, and
all it could do is what the token's holder may do anyway.
"""

from __future__ import annotations

import base64

from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from personvern.core.ratelimits import configured_rate
from personvern.core.selectors import person_by_email
from personvern.newsletter.forms import SubscribeForm
from personvern.newsletter.models import InteractionKind, Subscription, SubscriptionStatus
from personvern.newsletter.selectors import (
    Tracked,
    subscription_from_token,
    tracked_from_token,
)
from personvern.newsletter.services import (
    CONFIRMATION_MAX_AGE,
    CONSENT_TEXT_VERSION,
    CONSENT_TEXTS,
    member_basis,
    newsletter_signup_confirm,
    newsletter_signup_request,
    newsletter_unsubscribe,
    opened_or_clicked,
    signup_from_token,
)

#: Who the audit log names for a sign-up through the public form and its link.
SIGNUP_ACTOR = "public:newsletter-form"


@require_http_methods(["GET", "POST"])
@ratelimit(group="newsletter-subscribe", key="ip", rate=configured_rate, method="POST")
def subscribe(request: HttpRequest) -> HttpResponse:
    """The sign-up form; a valid POST mails a confirmation link and goes to one answer page.

    The answer is the same for every valid address: new, known, already
    subscribed, a member, or one that has had its mail for now (the per-address
    limit). Only the owner of the address learns more, from the mail.
    """
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        newsletter_signup_request(
            email=form.cleaned_data["email"],
            given_name=form.cleaned_data["given_name"],
            family_name=form.cleaned_data["family_name"],
            text_version=CONSENT_TEXT_VERSION,
            actor=SIGNUP_ACTOR,
        )
        return HttpResponseRedirect(reverse("newsletter:subscribe-sent"))
    return render(request, "newsletter/subscribe.html", {
        "form": form, "consent_text": CONSENT_TEXTS[CONSENT_TEXT_VERSION],
        "notice_url": reverse("privacy-notice"),
    })


@require_GET
def subscribe_sent(request: HttpRequest) -> HttpResponse:
    """The answer to every sign-up: look in your mailbox."""
    return render(request, "newsletter/subscribe_sent.html", {
        "hours": int(CONFIRMATION_MAX_AGE.total_seconds() // 3600),
    })


@csrf_exempt
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation mail: GET shows a button, POST subscribes."""
    try:
        signup = signup_from_token(token)
    except signing.SignatureExpired:
        return render(request, "newsletter/confirm_invalid.html", {"expired": True}, status=410)
    except signing.BadSignature:
        return render(request, "newsletter/confirm_invalid.html", {"expired": False}, status=404)
    if request.method == "POST":
        try:
            subscription = newsletter_signup_confirm(signup=signup, actor=SIGNUP_ACTOR)
        except ValidationError:
            return render(request, "newsletter/confirm_invalid.html", {"used": True}, status=410)
        return render(request, "newsletter/confirmed.html", {
            "subscription": subscription, "organisation": member_basis(subscription.person),
        })
    person = person_by_email(signup.email)
    active = (
        person is not None
        and Subscription.objects.filter(person=person, status=SubscriptionStatus.ACTIVE).exists()
    )
    return render(request, "newsletter/confirm.html", {
        "signup": signup, "organisation": member_basis(person), "already": active,
    })

#: Who the audit log names for an unsubscribe through the link.
LINK_ACTOR = "subscriber:link"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscription = subscription_from_token(token)
    if subscription is None:
        return render(request, "newsletter/unsubscribe_invalid.html", status=404)
    if request.method == "POST":
        newsletter_unsubscribe(subscription=subscription, channel="link", actor=LINK_ACTOR)
        return render(request, "newsletter/unsubscribed.html")
    return render(
        request,
        "newsletter/unsubscribe.html",
        {"already": subscription.status != SubscriptionStatus.ACTIVE},
    )


#: Who the audit log names for an open or a click recorded by a tracked link.
TRACKING_ACTOR = "subscriber:tracking"

#: A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _record(request: HttpRequest, token: str, kind: InteractionKind) -> Tracked:
    """What the token names (404 if it is not ours); a GET records it (R16), a HEAD not."""
    tracked = tracked_from_token(token, click=kind == InteractionKind.CLICK)
    if tracked is None:
        raise Http404
    if request.method == "GET":
        opened_or_clicked(tracked, kind=kind, actor=TRACKING_ACTOR)
    return tracked


@require_http_methods(["GET", "HEAD"])
def opened(request: HttpRequest, token: str) -> HttpResponse:
    """The image in the newsletter: loading it records that the copy was opened (R16)."""
    _record(request, token, InteractionKind.OPEN)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD"])
def clicked(request: HttpRequest, token: str) -> HttpResponse:
    """A tracked link: record the click (R16), then go where the newsletter's text pointed."""
    response = HttpResponseRedirect(_record(request, token, InteractionKind.CLICK).url)
    response["Cache-Control"] = "no-store"
    return response
