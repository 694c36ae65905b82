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

from datetime import datetime
from typing import Any

from django.db.models import (
    Case,
    DateField,
    DateTimeField,
    Exists,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.models import (
    ConsentAction,
    ConsentEvent,
    Membership,
    Objection,
    Organisation,
)
from personvern.core.registry import Holder, PersonBasis, register, register_basis
from personvern.newsletter.models import Interaction, OptOut, Subscription, SubscriptionBasis

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


def optout_membership_end() -> Case:
    """The ``membership-end`` anchor of an opt-out (docs/decisions/0035).

    An opt-out guards against a subscription on the basis of a membership of
    Advokatforeningen (R17), so it is kept while the person has such a
    membership that has not ended (NULL, never due), and goes with the rule
    ``membership-basis`` once the last one has ended (its end date). A person
    with no membership of Advokatforeningen has nothing for it to guard against,
    nor has one with a standing objection to direct marketing or to the
    newsletter (which stops the mail itself): the anchor is the day of the
    opt-out, so it goes at the next run.
    """
    memberships = Membership.objects.filter(
        person_id=OuterRef("person_id"), organisation=Organisation.ADVOKATFORENINGEN
    )
    last_end = Subquery(
        memberships.order_by().values("person_id").annotate(end=Max("valid_to")).values("end")[:1],
        output_field=DateField(),
    )
    # A standing objection to direct marketing or to the newsletter stops the mail
    # whatever the basis, and outlives a re-import (R37): the opt-out adds nothing.
    objection = Objection.objects.filter(
        person_id=OuterRef("person_id"), lifted_at__isnull=True,
        activity__in=(Objection.DIRECT_MARKETING, ACTIVITY),
    )
    return Case(
        When(Exists(objection), then=TruncDate("at")),
        When(Exists(memberships.filter(valid_to__isnull=True)), then=Value(None)),
        When(~Exists(memberships), then=TruncDate("at")),
        default=last_end,
        output_field=DateField(),
    )


register(
    Holder(
        model=OptOut,
        activity="newsletter",
        person="person",
        anchors={
            # The opt-out is the record of a withdrawal: no withdrawal ends it.
            "withdrawn": lambda: Value(None, output_field=DateTimeField()),
            "membership-end": optout_membership_end,
        },
        fields=[
            ("at", _("opted out")),
            ("channel", _("opted out through")),
        ],
        portable=True,
    )
)


BASIS_MEMBERSHIP = _(
    "You receive the newsletter because of your active membership of %(organisation)s "
    "(member since %(since)s): we send it on %(organisation)s's behalf, and no consent of "
    "yours is needed or recorded."
)
BASIS_MEMBERSHIP_ENDED = _(
    "You received the newsletter because of your membership of %(organisation)s, which "
    "has ended: it is no longer sent to you on that basis."
)
BASIS_CONSENT = _(
    "You consented on %(at)s through %(channel)s (text version %(version)s); the consent "
    "ledger keeps that entry as proof."
)
BASIS_CONSENT_WITHDRAWN = _("You withdrew your consent on %(at)s.")


def _day(value: datetime) -> str:
    return timezone.localtime(value).date().isoformat()


#: The subject category whose members the newsletter reaches on their membership (R17).
MEMBERS = "advokatforeningen-members"


def membership_basis_letter() -> str:
    """The Art. 6(1) basis the policy gives the newsletter for members of
    Advokatforeningen (its ``basis_for``), so the access report states the basis
    the notice and the record state."""
    from personvern.core.policy import current_policy

    return current_policy().activity(ACTIVITY).basis_of(MEMBERS)


def newsletter_basis(person_id: int, now: datetime) -> PersonBasis | None:
    """The basis the person's newsletter subscription really rests on (R17).

    Membership of Advokatforeningen (Art. 6(1)(b), on its behalf: the processor
    activity ``advokatforeningen-course-data``) or consent with its ledger entry
    (Art. 6(1)(a)): the subscription's own link to the entry that granted it,
    and the latest newsletter event of the ledger, which says whether it stands.
    """
    subscription = Subscription.objects.filter(person_id=person_id).first()
    if subscription is None:
        return None
    if subscription.basis == SubscriptionBasis.MEMBERSHIP:
        today = timezone.localdate(now)
        membership = (
            Membership.objects.filter(person_id=person_id,
                                      organisation=subscription.organisation,
                                      valid_from__lte=today)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
            .order_by("valid_from")
            .first()
        )
        organisation = Organisation(subscription.organisation).label
        evidence: dict[str, Any] = {"basis": "membership",
                                    "organisation": subscription.organisation}
        if membership is None:
            return PersonBasis(
                basis=membership_basis_letter(),
                note=str(BASIS_MEMBERSHIP_ENDED % {"organisation": organisation}),
                evidence={**evidence, "active": False},
            )
        return PersonBasis(
            basis=membership_basis_letter(),
            note=str(BASIS_MEMBERSHIP % {"organisation": organisation,
                                         "since": membership.valid_from.isoformat()}),
            evidence={**evidence, "active": True, "member_from": membership.valid_from.isoformat()},
        )
    granted = subscription.consent or (
        ConsentEvent.objects.filter(person_id=person_id, scope=ACTIVITY,
                                    action=ConsentAction.GIVEN, at__lte=subscription.subscribed_at)
        .order_by("-at", "-pk").first()
    )
    latest = (
        ConsentEvent.objects.filter(person_id=person_id, scope=ACTIVITY).order_by("-at", "-pk")
        .first()
    )
    evidence = {"basis": "consent"}
    notes = []
    if granted is not None:
        evidence.update({"consent_entry": granted.pk, "given_at": granted.at.isoformat(),
                         "channel": granted.channel, "text_version": granted.text_version})
        notes.append(str(BASIS_CONSENT % {"at": _day(granted.at), "channel": granted.channel,
                                          "version": granted.text_version or "–"}))
    if latest is not None and latest.action == ConsentAction.WITHDRAWN:
        evidence.update({"withdrawn_at": latest.at.isoformat()})
        notes.append(str(BASIS_CONSENT_WITHDRAWN % {"at": _day(latest.at)}))
    return PersonBasis(basis="a", note=" ".join(notes), evidence=evidence)


register_basis(ACTIVITY, newsletter_basis)
