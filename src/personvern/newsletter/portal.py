"""The newsletter's part of Min side: the subscription and the consents in the ledger.

One section: the person's newsletter subscription with its basis (consent or
membership), and every consent in the core consent ledger at its latest
state per purpose. Each can be withdrawn in one step (one POST button); the
ledger records the withdrawal with the actor ``person:<public_id>`` and the
channel ``portal``. The newsletter's own consent is withdrawn by unsubscribing
(:func:`~personvern.newsletter.services.newsletter_unsubscribe`, which records
it), so that the subscription and the ledger never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from personvern.core.models import ConsentAction, ConsentEvent, Person
from personvern.core.policy import current_policy
from personvern.core.services import consent_record
from personvern.newsletter.models import Subscription, SubscriptionStatus
from personvern.newsletter.services import ACTIVITY, newsletter_unsubscribe
from personvern.policy.models import normalise_lang
from personvern.portal.auth import person_actor, person_required
from personvern.portal.registry import Section, register_pages, register_section

#: Where a withdrawal on Min side came from, in the ledger and on the subscription.
PORTAL_CHANNEL = "portal"



def _latest_consents(person: Person) -> list[ConsentEvent]:
    """The latest ledger event per scope (purpose), oldest purpose first."""
    latest: dict[str, ConsentEvent] = {}
    for event in ConsentEvent.objects.filter(person=person).order_by("at", "pk"):
        latest[event.scope] = event
    return sorted(latest.values(), key=lambda e: e.scope)


def _title(scope: str) -> str:
    lang = normalise_lang(translation.get_language())
    try:
        return current_policy().activity(scope).title.get(lang)
    except KeyError:
        return scope


def consents_context(person: Person, now: datetime) -> Mapping[str, Any] | None:
    subscription = Subscription.objects.filter(person=person).first()
    latest = _latest_consents(person)
    consents = [
        {
            "scope": event.scope,
            "title": _title(event.scope),
            "given": event.action == ConsentAction.GIVEN,
            "event": event,
        }
        # The newsletter's consent is shown with the subscription, not twice.
        for event in latest
        if not (subscription is not None and event.scope == ACTIVITY)
    ]
    newsletter_consent = next((e for e in latest if e.scope == ACTIVITY), None)
    if subscription is None and not consents:
        return None
    return {
        "subscription": subscription,
        "active": subscription is not None and subscription.status == SubscriptionStatus.ACTIVE,
        "newsletter_consent": newsletter_consent,
        "consents": consents,
    }


def _back() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("portal:home") + "#newsletter.consents")


@person_required
@require_POST
def unsubscribe(request: HttpRequest) -> HttpResponse:
    """End the person's newsletter subscription (R18); the ledger records the withdrawal."""
    person = request.portal_person  # type: ignore[attr-defined]
    subscription = Subscription.objects.filter(person=person).first()
    if subscription is not None:
        newsletter_unsubscribe(
            subscription=subscription, channel=PORTAL_CHANNEL, actor=person_actor(person)
        )
    return _back()


@person_required
@require_POST
def withdraw(request: HttpRequest, scope: str) -> HttpResponse:
    """Withdraw a consent given for ``scope`` (a withdrawal in the ledger)."""
    person = request.portal_person  # type: ignore[attr-defined]
    if scope == ACTIVITY:
        return unsubscribe(request)
    latest = next((e for e in _latest_consents(person) if e.scope == scope), None)
    if latest is not None and latest.action == ConsentAction.GIVEN:
        consent_record(
            person=person, scope=scope, action=ConsentAction.WITHDRAWN,
            channel=PORTAL_CHANNEL, actor=person_actor(person),
        )
    return _back()


register_section(
    Section(
        key="newsletter.consents",
        title=_("Newsletter and consents"),
        template="newsletter/portal/section.html",
        context=consents_context,
        order=60,
    )
)

register_pages(
    "newsletter",
    [
        path("unsubscribe/", unsubscribe, name="unsubscribe"),
        path("consents/<slug:scope>/withdraw/", withdraw, name="withdraw"),
    ],
)
