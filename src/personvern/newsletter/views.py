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

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from personvern.newsletter.models import InteractionKind, SubscriptionStatus
from personvern.newsletter.selectors import (
    Tracked,
    subscription_from_token,
    tracked_from_token,
)
from personvern.newsletter.services import newsletter_unsubscribe, opened_or_clicked

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
