"""Writes of the newsletter: subscribe, unsubscribe, mailings, interactions.

Each write is audited in its own transaction. Consent-based subscriptions go
through the core consent ledger, which is the proof of consent (Art. 7(1));
the subscription row only says whether mail should go out.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import ConsentAction, Membership, Organisation, Person
from personvern.core.selectors import is_restricted
from personvern.core.services import consent_record
from personvern.newsletter.models import (
    Interaction,
    InteractionKind,
    Newsletter,
    Subscription,
    SubscriptionBasis,
    SubscriptionSource,
    SubscriptionStatus,
)

ACTIVITY = "newsletter"


def _has_active_membership(person: Person, organisation: str, now: datetime) -> bool:
    today = timezone.localdate(now)
    return (
        Membership.objects.filter(person=person, organisation=organisation, valid_from__lte=today)
        .exclude(valid_to__lt=today)
        .exists()
    )


def newsletter_subscribe(
    *,
    person: Person,
    source: SubscriptionSource | str,
    actor: str,
    text_version: str = "",
    organisation: Organisation | str = "",
    basis_note: str = "",
    now: datetime | None = None,
) -> Subscription:
    """Subscribe ``person`` (or re-subscribe after an unsubscribe), per R17.

    - ``form`` and ``import``: the basis is consent; ``text_version`` names the
      consent text agreed to and goes into the consent ledger.
    - ``member-organisation`` with Advokatforeningen: the basis is the person's
      active membership, which must exist now; no consent is recorded.
    - ``member-organisation`` with Juristforbundet: the organisation collected
      the consent; it is recorded in the ledger with that channel.
    An already active subscription is returned unchanged.
    """
    now = now or timezone.now()
    if source not in SubscriptionSource.values:
        raise ValidationError({"source": f"{source!r} is not a subscription source."})
    organisation = str(organisation)
    if source == SubscriptionSource.MEMBER_ORGANISATION:
        if organisation not in Organisation.values:
            raise ValidationError(
                {"organisation": "A subscription from a member organisation must name it."}
            )
    elif organisation:
        raise ValidationError(
            {"organisation": "Only a member-organisation subscription names an organisation."}
        )
    if organisation == Organisation.ADVOKATFORENINGEN:
        basis = SubscriptionBasis.MEMBERSHIP
        if not _has_active_membership(person, organisation, now):
            raise ValidationError(
                {
                    "organisation": "The person has no active membership of the Norwegian Bar "
                    "Association, which is the basis of this subscription."
                }
            )
    else:
        basis = SubscriptionBasis.CONSENT
        if not text_version:
            raise ValidationError(
                {"text_version": "A consent-based subscription must name the consent text."}
            )

    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(person=person).first()
        if subscription is not None and subscription.status == SubscriptionStatus.ACTIVE:
            return subscription
        if basis == SubscriptionBasis.CONSENT:
            consent_record(
                person=person,
                scope=ACTIVITY,
                action=ConsentAction.GIVEN,
                channel=organisation or str(source),
                text_version=text_version,
                actor=actor,
                now=now,
            )
        values = {
            "status": SubscriptionStatus.ACTIVE,
            "source": source,
            "basis": basis,
            "organisation": organisation,
            "basis_note": basis_note,
            "subscribed_at": now,
            "unsubscribed_at": None,
            "unsubscribe_channel": "",
        }
        if subscription is None:
            subscription = Subscription.objects.create(person=person, **values)
            action = "newsletter.subscribed"
        else:
            Subscription.objects.filter(pk=subscription.pk).update(**values)
            subscription.refresh_from_db()
            action = "newsletter.resubscribed"
        audit_log(
            actor=actor,
            action=action,
            person=person,
            activity=ACTIVITY,
            data={"subscription": subscription.pk, "source": str(source), "basis": str(basis)},
            now=now,
        )
    return subscription


def newsletter_unsubscribe(
    *,
    subscription: Subscription,
    channel: str,
    actor: str,
    now: datetime | None = None,
) -> Subscription:
    """End a subscription at once (R18) and record the withdrawal in the consent ledger.

    ``channel`` says where the opt-out came from: ``link`` (the link in every
    newsletter), ``portal``, ``staff``, or a member organisation
    (``advokatforeningen``, ``juristforbundet``) relaying an opt-out made on its
    member page. A withdrawal is recorded for membership-based subscriptions
    too, so the ledger shows every opt-out and where it came from. Unsubscribing
    twice changes nothing.
    """
    now = now or timezone.now()
    if not channel:
        raise ValidationError({"channel": "An unsubscribe must say where it came from."})
    with transaction.atomic():
        updated = Subscription.objects.filter(
            pk=subscription.pk, status=SubscriptionStatus.ACTIVE
        ).update(
            status=SubscriptionStatus.UNSUBSCRIBED,
            unsubscribed_at=now,
            unsubscribe_channel=channel,
        )
        subscription.refresh_from_db()
        if not updated:
            return subscription
        consent_record(
            person=subscription.person,
            scope=ACTIVITY,
            action=ConsentAction.WITHDRAWN,
            channel=channel,
            actor=actor,
            now=now,
        )
        audit_log(
            actor=actor,
            action="newsletter.unsubscribed",
            person=subscription.person,
            activity=ACTIVITY,
            data={"subscription": subscription.pk, "channel": channel},
            now=now,
        )
    return subscription


def newsletter_unsubscribe_email(
    *, email: str, channel: str, actor: str, now: datetime | None = None
) -> Subscription | None:
    """Unsubscribe whoever holds ``email`` (an opt-out relayed by a member organisation).

    Returns ``None`` when no subscription belongs to the address: the opt-out
    then has nothing to act on here, and nothing is stored about the address.
    """
    from personvern.core.selectors import person_by_email

    person = person_by_email(email)
    if person is None:
        return None
    subscription = Subscription.objects.filter(person=person).first()
    if subscription is None:
        return None
    return newsletter_unsubscribe(subscription=subscription, channel=channel, actor=actor, now=now)


def newsletter_create(*, subject: str, actor: str, now: datetime | None = None) -> Newsletter:
    """Create a mailing (not yet sent)."""
    if not subject.strip():
        raise ValidationError({"subject": "A newsletter needs a subject."})
    with transaction.atomic():
        newsletter = Newsletter.objects.create(subject=subject.strip())
        audit_log(
            actor=actor,
            action="newsletter.created",
            activity=ACTIVITY,
            data={"newsletter": newsletter.pk},
            now=now,
        )
    return newsletter


def newsletter_mark_sent(
    *, newsletter: Newsletter, actor: str, now: datetime | None = None
) -> Newsletter:
    """Record that ``newsletter`` went out now, to the recipients the selector gives.

    The delivery itself belongs to the mail worker; this records when and to
    how many, which is what the retention rules and the audit need.
    """
    from personvern.newsletter.selectors import recipients

    now = now or timezone.now()
    if newsletter.sent_at is not None:
        raise ValidationError({"newsletter": "This newsletter has already been sent."})
    with transaction.atomic():
        count = recipients(as_of=now).count()
        Newsletter.objects.filter(pk=newsletter.pk).update(sent_at=now, recipient_count=count)
        newsletter.refresh_from_db()
        audit_log(
            actor=actor,
            action="newsletter.sent",
            activity=ACTIVITY,
            data={"newsletter": newsletter.pk, "recipients": count},
            now=now,
        )
    return newsletter


def interaction_record(
    *,
    subscription: Subscription,
    newsletter: Newsletter,
    kind: InteractionKind | str,
    url: str = "",
    actor: str,
    now: datetime | None = None,
) -> Interaction | None:
    """Record an open or a link click (R16).

    Nothing is recorded (``None``) for an ended subscription or while the
    person's processing is restricted (Art. 18): tracking is processing too.
    """
    now = now or timezone.now()
    if kind not in InteractionKind.values:
        raise ValidationError({"kind": f"{kind!r} is not an interaction kind."})
    if kind == InteractionKind.CLICK and not url:
        raise ValidationError({"url": "A click must name the link."})
    if subscription.status != SubscriptionStatus.ACTIVE or is_restricted(subscription.person, now):
        return None
    with transaction.atomic():
        interaction = Interaction.objects.create(
            subscription=subscription,
            newsletter=newsletter,
            kind=kind,
            url=url if kind == InteractionKind.CLICK else "",
            at=now,
        )
        audit_log(
            actor=actor,
            action="newsletter.interaction_recorded",
            person=subscription.person,
            activity=ACTIVITY,
            data={"newsletter": newsletter.pk, "kind": str(kind)},
            now=now,
        )
    return interaction
