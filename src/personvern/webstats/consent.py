"""The visitor's analytics choice as the browser carries it (cookies and GPC).

Cookie names are the ones the policy's cookie list declares (R28):
``personvern_consent`` (necessary: remembers the choice, "granted" or
"declined") and ``_pk_id`` (analytics: the random visitor id, set only after
consent). A Global Privacy Control signal (``Sec-GPC: 1``) counts as "declined"
whatever the cookies say (R29).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CONSENT_COOKIE = "personvern_consent"
VISITOR_COOKIE = "_pk_id"
SESSION_COOKIE = "_pk_ses"
#: Lifetimes as the policy's cookie list states them (6 months, 13 months).
CONSENT_COOKIE_AGE = timedelta(days=183)
VISITOR_COOKIE_AGE = timedelta(days=396)

Choice = Literal["granted", "declined"]
GRANTED: Choice = "granted"
DECLINED: Choice = "declined"


def gpc_signal(request: HttpRequest) -> bool:
    """Whether the browser sends the Global Privacy Control signal."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


def stored_choice(request: HttpRequest) -> Choice | None:
    """The choice the consent cookie remembers, or ``None`` if none was made."""
    value = request.COOKIES.get(CONSENT_COOKIE)
    if value == GRANTED:
        return GRANTED
    if value == DECLINED:
        return DECLINED
    return None


def effective_choice(request: HttpRequest) -> Choice | None:
    """The choice in force for this request: GPC means "declined"."""
    if gpc_signal(request):
        return DECLINED
    return stored_choice(request)


def visitor_id(request: HttpRequest) -> uuid.UUID | None:
    """The visitor id from the analytics cookie, if it holds a valid UUID."""
    raw = request.COOKIES.get(VISITOR_COOKIE, "")
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def analytics_visitor(request: HttpRequest) -> uuid.UUID | None:
    """The visitor id to record analytics for, or ``None`` when we may not.

    The caller still asks the consent ledger (the service does): the cookie is
    the visitor's claim, the ledger is the proof.
    """
    if effective_choice(request) != GRANTED:
        return None
    return visitor_id(request)


def remember_choice(
    response: HttpResponse, *, choice: Choice, visitor: uuid.UUID | None
) -> None:
    """Set the cookies that carry ``choice``; on "declined" remove the analytics ones."""
    secure = bool(settings.SESSION_COOKIE_SECURE)
    response.set_cookie(
        CONSENT_COOKIE,
        choice,
        max_age=CONSENT_COOKIE_AGE,
        secure=secure,
        httponly=True,
        samesite="Lax",
    )
    if choice == GRANTED and visitor is not None:
        response.set_cookie(
            VISITOR_COOKIE,
            str(visitor),
            max_age=VISITOR_COOKIE_AGE,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(VISITOR_COOKIE, samesite="Lax")
        response.delete_cookie(SESSION_COOKIE, samesite="Lax")
