"""Reads of the newsletter: who receives a mailing, and unsubscribe links."""

from __future__ import annotations

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
from personvern.newsletter.models import Subscription, SubscriptionBasis

ACTIVITY = "newsletter"
_TOKEN_SALT = "personvern.newsletter.unsubscribe"  # noqa: S105 (a signing namespace, not a secret)


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
