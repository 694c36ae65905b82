"""Reads of the newsletter: who receives a mailing, and unsubscribe links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from personvern.core.models import Membership, Objection
from personvern.core.selectors import (
    consenting_persons,
    objecting_person_ids,
    restricted_person_ids,
)
from personvern.newsletter.models import Newsletter, Subscription, SubscriptionBasis

ACTIVITY = "newsletter"
_TOKEN_SALT = "personvern.newsletter.unsubscribe"  # noqa: S105 (a signing namespace, not a secret)
_OPEN_SALT = "personvern.newsletter.open"
_CLICK_SALT = "personvern.newsletter.click"


def recipients(*, as_of: datetime | None = None) -> QuerySet[Subscription]:
    """Subscriptions that may receive a mailing sent at ``as_of`` (R17, R36, R37).

    One query, whatever the number of subscribers. A subscription counts when
    it was active at ``as_of`` and its basis holds then: the latest consent
    ledger event for ``newsletter`` is a consent given, or (membership basis)
    the person is an active member of the organisation. Persons objecting to
    direct marketing or to the newsletter, and persons under an active
    restriction, are left out whatever the basis.
    """
    as_of = as_of or timezone.now()
    today = timezone.localdate(as_of)
    member = Membership.objects.filter(
        person=OuterRef("person"),
        organisation=OuterRef("organisation"),
        valid_from__lte=today,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    consenting = consenting_persons(ACTIVITY, at=as_of).values("pk")
    return (
        Subscription.objects.filter(subscribed_at__lte=as_of)
        .filter(Q(unsubscribed_at__isnull=True) | Q(unsubscribed_at__gt=as_of))
        .filter(
            Q(basis=SubscriptionBasis.CONSENT, person__in=consenting)
            | Q(Exists(member), basis=SubscriptionBasis.MEMBERSHIP)
        )
        .exclude(person__in=objecting_person_ids(Objection.DIRECT_MARKETING, now=as_of))
        .exclude(person__in=objecting_person_ids(ACTIVITY, now=as_of))
        .exclude(person__in=restricted_person_ids(now=as_of))
        .select_related("person")
        .order_by("pk")
    )


def unsubscribe_token(subscription: Subscription) -> str:
    """The signed token of the unsubscribe link at the bottom of every newsletter (R18)."""
    return signing.dumps({"s": subscription.pk}, salt=_TOKEN_SALT, compress=True)


def subscription_from_token(token: str) -> Subscription | None:
    """The subscription an unsubscribe token names; ``None`` if the token is not ours."""
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT)
    except signing.BadSignature:
        return None
    return Subscription.objects.filter(pk=payload.get("s")).select_related("person").first()


def open_token(subscription: Subscription, newsletter: Newsletter) -> str:
    """The signed token of the image that records that a copy was opened (R16)."""
    return signing.dumps({"s": subscription.pk, "n": newsletter.pk}, salt=_OPEN_SALT)


def click_token(subscription: Subscription, newsletter: Newsletter, url: str) -> str:
    """The signed token of a tracked link: who, which mailing, and where it leads (R16).

    The destination is inside the signature, so the redirect can only ever go
    where the newsletter's own text pointed: no open redirect.
    """
    return signing.dumps(
        {"s": subscription.pk, "n": newsletter.pk, "u": url}, salt=_CLICK_SALT, compress=True
    )


@dataclass(frozen=True)
class Tracked:
    subscription: Subscription | None
    newsletter: Newsletter | None
    url: str = ""


def tracked_from_token(token: str, *, click: bool) -> Tracked | None:
    """What an open or click token names; ``None`` if it is not ours.

    The subscription or mailing may be gone (erased, deleted by retention):
    then they are ``None`` and nothing is recorded, but a click still leads on.
    """
    try:
        payload = signing.loads(token, salt=_CLICK_SALT if click else _OPEN_SALT)
    except signing.BadSignature:
        return None
    url = str(payload.get("u", "")) if click else ""
    if click and not url.startswith(("https://", "http://")):
        return None
    return Tracked(
        subscription=Subscription.objects.filter(pk=payload.get("s"))
        .select_related("person").first(),
        newsletter=Newsletter.objects.filter(pk=payload.get("n")).first(),
        url=url,
    )
