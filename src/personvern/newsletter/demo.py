"""Demo data for the newsletter: subscriptions, consent ledger, mailings, opens and clicks.

Written set-based (bulk_create in batches) for ``personvern demo``; it follows
the rules of :mod:`personvern.newsletter.services` without calling them per row:

- R17: a subscription from the Bar Association (Advokatforeningen) rests on an
  active membership on the day it starts and records no consent; every other
  subscription rests on consent, recorded in the core consent ledger with the
  channel it came through (``form``, ``import`` or ``juristforbundet``).
- R18: an unsubscribe stamps ``unsubscribed_at`` and records a withdrawal in the
  ledger; an Advokatforeningen subscription ends when the membership does.
- R16: opens and clicks only from subscribers the real recipient selector
  (:func:`personvern.newsletter.selectors.recipients`) gives for the mailing,
  and only while their subscription lasted. Each mailing's recipient count is
  that selector's count, as ``newsletter_mark_sent`` records it.

Everything depends only on (persons, rng, now), so the same seed gives the same data.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import ConsentAction, ConsentEvent, Membership, Organisation, Person
from personvern.demo.bulk import BATCH, Progress, bulk_insert
from personvern.newsletter.models import (
    Interaction,
    InteractionKind,
    Newsletter,
    OptOut,
    Subscription,
    SubscriptionBasis,
    SubscriptionSource,
    SubscriptionStatus,
)
from personvern.newsletter.selectors import recipients
from personvern.newsletter.services import ACTIVITY, link_granting_consents

#: Share of persons who have (or had) a subscription.
SUBSCRIBER_SHARE = 0.45
#: Share of subscriptions that have ended.
UNSUBSCRIBE_SHARE = 0.18
#: Monthly mailings sent over this many months; opens and clicks are kept for the latest few.
MAILINGS = 36
TRACKED_MAILINGS = 12
OPEN_SHARE = 0.38
CLICK_SHARE = 0.25  # of those who opened

MONTHS_NB = [
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
]
THEMES = [
    ("Nytt i arbeidsretten", "arbeidsrett"),
    ("Kurs i kontraktsrett for næringslivsjurister", "kontraktsrett"),
    ("Personvern: dette må du vite om innsyn", "personvern"),
    ("Skatterett etter statsbudsjettet", "skatterett"),
    ("Etterutdanning: husk fristen for obligatoriske timer", "etterutdanning"),
    ("Nye digitale kurs i forvaltningsrett", "forvaltningsrett"),
    ("Advokatetikk i praksis", "advokatetikk"),
    ("Familierett: endringer i barneloven", "familierett"),
]
# The consent text changed with the privacy statement of 5 April 2022.
TEXT_CHANGED = date(2022, 4, 5)


def _text_version(at: datetime) -> str:
    return "nyhetsbrev-2" if timezone.localdate(at) >= TEXT_CHANGED else "nyhetsbrev-1"


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment between ``start`` and ``end`` (``start`` if the span is empty), to the minute."""
    minutes = int((end - start).total_seconds() // 60)
    return start + timedelta(minutes=rng.randint(0, max(0, minutes)))



def _memberships(persons: QuerySet[Person]) -> dict[int, list[tuple[str, date, date | None]]]:
    found: dict[int, list[tuple[str, date, date | None]]] = {}
    rows = (
        Membership.objects.filter(person__in=persons.values("pk"))
        .order_by("person_id", "valid_from", "pk")
        .values_list("person_id", "organisation", "valid_from", "valid_to")
    )
    for person_id, organisation, valid_from, valid_to in rows.iterator(chunk_size=BATCH):
        found.setdefault(person_id, []).append((organisation, valid_from, valid_to))
    return found


def _oslo(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def generate(
    *,
    persons: QuerySet[Person],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """Create monthly mailings, subscriptions for about 45 % of ``persons`` (with their
    consent ledger), unsubscribes, and opens and clicks for the latest mailings."""
    people = list(persons.values_list("pk", "created_at"))
    if not people:
        return
    today = timezone.localdate(now)
    memberships = _memberships(persons)
    earliest = now - timedelta(days=6 * 365)

    with transaction.atomic():
        subscriptions: list[Subscription] = []
        consents: list[ConsentEvent] = []
        optouts: list[OptOut] = []
        for person_id, created_at in people:
            if rng.random() >= SUBSCRIBER_SHARE:
                continue
            held = memberships.get(person_id, [])
            bar = [m for m in held if m[0] == Organisation.ADVOKATFORENINGEN and m[1] <= today]
            lawyers = [m for m in held if m[0] == Organisation.JURISTFORBUNDET and m[1] <= today]
            lo = max(created_at, earliest)
            hi = now - timedelta(days=1)
            values: dict[str, Any]
            ended_with_membership: date | None = None
            channel = ""
            window = None
            if bar and rng.random() < 0.7:
                _org, valid_from, valid_to = bar[-1]
                start = max(lo, _oslo(valid_from))
                stop = min(hi, _oslo(valid_to, 17)) if valid_to else hi
                if start <= stop:
                    window = (start, stop, valid_to)
            if window is not None:
                # Membership basis: the subscription starts while the membership is active.
                start, stop, valid_to = window
                subscribed_at = _between(rng, start, stop)
                values = {
                    "source": SubscriptionSource.MEMBER_ORGANISATION,
                    "basis": SubscriptionBasis.MEMBERSHIP,
                    "organisation": Organisation.ADVOKATFORENINGEN,
                    "basis_note": "Aktivt medlem av Advokatforeningen",
                }
                if valid_to is not None and valid_to < today:
                    ended_with_membership = valid_to
            else:
                subscribed_at = _between(rng, lo, max(lo, hi))
                if lawyers and rng.random() < 0.6:
                    values = {
                        "source": SubscriptionSource.MEMBER_ORGANISATION,
                        "basis": SubscriptionBasis.CONSENT,
                        "organisation": Organisation.JURISTFORBUNDET,
                        "basis_note": "Samtykke gitt på Juristforbundets medlemsside",
                    }
                    channel = Organisation.JURISTFORBUNDET
                else:
                    source = (
                        SubscriptionSource.FORM if rng.random() < 0.8 else SubscriptionSource.IMPORT
                    )
                    values = {"source": source, "basis": SubscriptionBasis.CONSENT}
                    channel = str(source)
                consents.append(
                    ConsentEvent(
                        person_id=person_id,
                        scope=ACTIVITY,
                        action=ConsentAction.GIVEN,
                        text_version=_text_version(subscribed_at),
                        channel=channel,
                        at=subscribed_at,
                    )
                )
            unsubscribed_at: datetime | None = None
            unsubscribe_channel = ""
            if ended_with_membership is not None:
                # The Bar Association tells us when a membership ends (R18).
                unsubscribed_at = max(subscribed_at + timedelta(minutes=1),
                                      _oslo(ended_with_membership, 16))
                unsubscribe_channel = Organisation.ADVOKATFORENINGEN
            elif rng.random() < UNSUBSCRIBE_SHARE and subscribed_at < now - timedelta(days=8):
                unsubscribed_at = _between(rng, subscribed_at + timedelta(days=7), now)
                choices = ["link", "link", "link", "portal", "staff"]
                if values.get("organisation"):
                    choices.append(str(values["organisation"]))
                unsubscribe_channel = rng.choice(choices)
                # The person said no: remembered (ADR 0035), as newsletter_unsubscribe does.
                optouts.append(OptOut(person_id=person_id, at=unsubscribed_at,
                                      channel=unsubscribe_channel))
            if unsubscribed_at is not None:
                consents.append(
                    ConsentEvent(
                        person_id=person_id,
                        scope=ACTIVITY,
                        action=ConsentAction.WITHDRAWN,
                        channel=unsubscribe_channel,
                        at=unsubscribed_at,
                    )
                )
            subscriptions.append(
                Subscription(
                    person_id=person_id,
                    status=(
                        SubscriptionStatus.UNSUBSCRIBED if unsubscribed_at
                        else SubscriptionStatus.ACTIVE
                    ),
                    subscribed_at=subscribed_at,
                    unsubscribed_at=unsubscribed_at,
                    unsubscribe_channel=unsubscribe_channel,
                    **values,
                )
            )
        bulk_insert(Subscription, subscriptions, progress)
        bulk_insert(OptOut, optouts, progress)
        bulk_insert(ConsentEvent, consents, progress)
        link_granting_consents(
            Subscription.objects.filter(person_id__in=[s.person_id for s in subscriptions])
        )

        # Monthly mailings on the 10th at 09:00, the latest one last month; one draft.
        mailings: list[Newsletter] = []
        for back in range(MAILINGS, 0, -1):
            index = today.year * 12 + today.month - 1 - back
            year, month = divmod(index, 12)
            sent_at = _oslo(date(year, month + 1, 10))
            if sent_at >= now:
                continue
            theme, _slug = THEMES[index % len(THEMES)]
            mailings.append(
                Newsletter(
                    subject=f"Nyhetsbrev {MONTHS_NB[month]} {year}: {theme}", sent_at=sent_at
                )
            )
        index = today.year * 12 + today.month
        year, month = divmod(index, 12)
        draft = Newsletter(
            subject=f"Nyhetsbrev {MONTHS_NB[month]} {year}: {THEMES[0][0]}",
            body=(
                f"Hei!\n\nHer er de nyeste kursene innen {THEMES[0][1]}, og "
                "påmeldingen er åpen. Velkommen!\n\nHilsen Juristenes Utdanningssenter"
            ),
        )
        Newsletter.objects.bulk_create([*mailings, draft])

        # Recipient counts and who could interact: the real selector at the sending time.
        ended = {s.pk: s.unsubscribed_at for s in subscriptions if s.unsubscribed_at}
        interactions: list[Interaction] = []
        for number, mailing in enumerate(mailings):
            assert mailing.sent_at is not None
            received = recipients(as_of=mailing.sent_at)
            Newsletter.objects.filter(pk=mailing.pk).update(recipient_count=received.count())
            if number < len(mailings) - TRACKED_MAILINGS:
                continue
            slug = THEMES[number % len(THEMES)][1]
            for subscription_id in received.values_list("pk", flat=True):
                if rng.random() >= OPEN_SHARE:
                    continue
                # Tracking stops when the subscription does (interaction_record).
                limit = min(now, ended.get(subscription_id) or now) - timedelta(minutes=1)
                opened = _between(rng, mailing.sent_at, min(limit, mailing.sent_at
                                                             + timedelta(hours=72)))
                interactions.append(
                    Interaction(
                        subscription_id=subscription_id,
                        newsletter=mailing,
                        kind=InteractionKind.OPEN,
                        at=opened,
                    )
                )
                if rng.random() < CLICK_SHARE:
                    interactions.append(
                        Interaction(
                            subscription_id=subscription_id,
                            newsletter=mailing,
                            kind=InteractionKind.CLICK,
                            url=f"https://www.jus.no/kurs/{slug}?utm_source=nyhetsbrev",
                            at=min(limit, opened + timedelta(minutes=rng.randint(0, 20))),
                        )
                    )
        bulk_insert(Interaction, interactions, progress)
        audit_log(
            actor="system:demo",
            action="demo.newsletter_created",
            activity=ACTIVITY,
            data={
                "subscriptions": len(subscriptions),
                "optouts": len(optouts),
                "consent_events": len(consents),
                "newsletters": len(mailings) + 1,
                "interactions": len(interactions),
            },
            now=timezone.now(),
        )
