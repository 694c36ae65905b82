"""Demo data for consent-based web analytics (R29) and anonymous page counts (R30).

Set-based (bulk_create), by the rules of :mod:`personvern.webstats.services`:
a visitor id appears only after a "granted" ledger row; analytics events only
while the consent stands; a withdrawal appends a "withdrawn" row, stamps
``withdrawn_at`` on the visitor's earlier rows and deletes its events (so none
are created for withdrawn visitors). Visitor ids come from ``rng`` (random
UUIDs, reproducible for a seed). Spread over the last 15 months, so the 13-month
rule has data due now and within the year.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.demo.bulk import BATCH, Progress
from personvern.webstats.models import AnalyticsConsent, AnalyticsEvent, ConsentChoice
from personvern.webstats.services import ACTIVITY

VISITORS = 400
WITHDRAW_SHARE = 0.1
PATHS = ["/", "/kurs/", "/kurs/arbeidsrett-2026/", "/kurs/personvernrett/", "/personvern/",
         "/personvern/informasjonskapsler/", "/kontakt/", "/nyhetsbrev/"]


def generate(*, rng: random.Random, now: datetime, progress: Progress | None = None) -> None:
    """Analytics consents of some hundred visitors, a tenth withdrawn, and their page events."""
    from personvern.core.policy import current_policy

    policy_version = current_policy().version
    consents: list[AnalyticsConsent] = []
    events: list[AnalyticsEvent] = []
    for _ in range(VISITORS):
        visitor = uuid.UUID(int=rng.getrandbits(128), version=4)
        granted = now - timedelta(days=rng.randint(0, 450), minutes=rng.randint(0, 1440))
        withdrawn = None
        if rng.random() < WITHDRAW_SHARE:
            withdrawn = granted + (now - granted) * rng.random()
        consents.append(AnalyticsConsent(visitor_id=visitor, choice=ConsentChoice.GRANTED,
                                         policy_version=policy_version,
                                         text_version="cookie-banner-1", at=granted,
                                         withdrawn_at=withdrawn))
        if withdrawn is not None:
            consents.append(AnalyticsConsent(visitor_id=visitor, choice=ConsentChoice.WITHDRAWN,
                                             policy_version=policy_version,
                                             text_version="cookie-banner-1", at=withdrawn,
                                             withdrawn_at=withdrawn))
            continue  # the withdrawal deleted the visitor's events
        for _visit in range(rng.randint(1, 8)):
            events.append(AnalyticsEvent(visitor_id=visitor, path=rng.choice(PATHS),
                                         at=granted + (now - granted) * rng.random()))
    with transaction.atomic():
        AnalyticsConsent.objects.bulk_create(consents, batch_size=BATCH)
        AnalyticsEvent.objects.bulk_create(events, batch_size=BATCH)
        if progress:
            progress(len(consents) + len(events))
        audit_log(actor="system:demo", action="demo.webstats_created", activity=ACTIVITY,
                  data={"consents": len(consents), "events": len(events)}, now=timezone.now())
