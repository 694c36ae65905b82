"""Holders of the newsletter activity (consent, so portable).

The policy keeps subscriptions and interactions until the person unsubscribes
or withdraws consent (``withdrawn``, the subscription's ``unsubscribed_at``),
and a subscription whose basis is a membership until that membership ends
(``membership-end``, :func:`membership_basis_end`): once it has ended and no
consent stands, nothing is mailed any more, so nothing justifies keeping the
subscription or its opens and clicks. Interactions also offer ``sent`` (their
newsletter's date), so an operator's policy may shorten their life with a rule
of its own.
"""

from django.db.models import Case, DateField, OuterRef, Q, Subquery, Value, When
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from personvern.core.models import ConsentAction, ConsentEvent, Membership
from personvern.core.registry import Holder, register
from personvern.newsletter.models import Interaction, Subscription, SubscriptionBasis

ACTIVITY = "newsletter"


def membership_basis_end(prefix: str = "") -> Case:
    """The ``membership-end`` anchor: the day the membership a subscription rests on ended.

    ``prefix`` leads from the holder's rows to the subscription (``""`` or
    ``"subscription__"``). NULL (never due) unless the basis is a membership,
    no consent to the newsletter stands (the latest ledger event is not a
    consent given: a consent would carry the subscription on) and every
    membership of the person in that organisation has an end date; then the
    latest end date. A membership ending in the future is not due before then.
    """
    person = OuterRef(f"{prefix}person_id")
    latest_consent = Subquery(
        ConsentEvent.objects.filter(person_id=person, scope=ACTIVITY)
        .order_by("-at", "-pk")
        .values("action")[:1]
    )
    # An open membership (no end date) sorts first and makes the end NULL.
    last_end = Subquery(
        Membership.objects.filter(person_id=person, organisation=OuterRef(f"{prefix}organisation"))
        .order_by(Case(When(valid_to__isnull=True, then=Value(0)), default=Value(1)),
                  "-valid_to")
        .values("valid_to")[:1],
        output_field=DateField(),
    )
    return Case(
        When(Exact(latest_consent, Value(ConsentAction.GIVEN)), then=Value(None)),
        When(Q(**{f"{prefix}basis": SubscriptionBasis.MEMBERSHIP}), then=last_end),
        default=Value(None),
        output_field=DateField(),
    )

register(
    Holder(
        model=Subscription,
        activity="newsletter",
        person="person",
        anchors={"withdrawn": "unsubscribed_at", "membership-end": membership_basis_end},
        fields=[
            ("status", _("status")),
            ("source", _("source")),
            ("basis", _("basis")),
            ("organisation", _("member organisation")),
            ("subscribed_at", _("subscribed")),
            ("unsubscribed_at", _("unsubscribed")),
            ("unsubscribe_channel", _("unsubscribed through")),
        ],
        portable=True,
    )
)
register(
    Holder(
        model=Interaction,
        activity="newsletter",
        person="subscription__person",
        parent="subscription",
        anchors={
            "withdrawn": "subscription__unsubscribed_at",
            "membership-end": lambda: membership_basis_end("subscription__"),
            "sent": "newsletter__sent_at",
        },
        fields=[
            ("newsletter__subject", _("newsletter")),
            ("kind", _("kind")),
            ("url", _("link")),
            ("at", _("time")),
        ],
        portable=True,
    )
)
