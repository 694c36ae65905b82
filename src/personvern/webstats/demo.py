"""Demo data for consent-based web analytics (R29) and anonymous page counts (R30).

Set-based (bulk_create), by the rules of :mod:`personvern.webstats.services`:
a visitor id appears only after a "granted" ledger row; analytics events only
while the consent stands; a withdrawal appends a "withdrawn" row, stamps
``withdrawn_at`` on the visitor's earlier rows and deletes its events (so none
are created for withdrawn visitors). Visitor ids come from ``rng`` (random
UUIDs, reproducible for a seed). Spread over the last 15 months, so the 13-month
rule has data due now and within the year. Anonymous page view counts (what the
back office's charts show) cover the last :data:`PAGEVIEW_DAYS` days: busier on
weekdays and in working hours, a third from phones, some bots and site searches.
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
from personvern.webstats.services import ACTIVITY, Bucket, pageviews_add

VISITORS = 400
WITHDRAW_SHARE = 0.1
PATHS = ["/", "/kurs/", "/kurs/arbeidsrett-2026/", "/kurs/personvernrett/", "/personvern/",
         "/personvern/informasjonskapsler/", "/kontakt/", "/nyhetsbrev/"]


PAGEVIEW_DAYS = 120
#: Public pages with their share of the views, and what visitors search for on the site.
SITE_PAGES = [("/", 30), ("/courses/", 25), ("/privacy/", 8), ("/newsletter/", 6),
              ("/competitions/", 5), ("/jobs/", 5), ("/me/", 10), ("/privacy/requests/", 3),
              ("/privacy/cookies/", 2)]
SEARCH_TERMS = ["arbeidsrett", "personvern", "skatterett", "etterutdanning", "arverett",
                "kurs i oslo", "advokatetikk"]
#: (device class, browser family, share of the views).
DEVICES = [("desktop", "chrome", 30), ("desktop", "firefox", 10), ("desktop", "edge", 12),
           ("mobile", "safari", 20), ("mobile", "chrome", 14), ("bot", "bot", 10),
           ("other", "other", 4)]
#: Relative traffic in each hour of the day (0–23).
HOURLY = [1, 1, 0, 0, 0, 1, 2, 5, 9, 12, 12, 11, 10, 11, 12, 11, 9, 7, 6, 6, 5, 4, 3, 2]


def _pageview_counts(rng: random.Random, now: datetime) -> dict[Bucket, int]:
    """Counts per (day, hour, page, search term, device, browser) for the last days."""
    counts: dict[Bucket, int] = {}
    today = timezone.localdate(now)
    pages, page_weights = zip(*SITE_PAGES, strict=True)
    for back in range(PAGEVIEW_DAYS):
        day = today - timedelta(days=back)
        busy = (0.5 if day.weekday() >= 5 else 1.0) * rng.uniform(0.7, 1.3)
        for hour, weight in enumerate(HOURLY):
            if back == 0 and hour > timezone.localtime(now).hour:
                break
            for device, browser, share in DEVICES:
                views = int(weight * share * busy * rng.uniform(0.5, 1.5) / 30)
                for path in rng.choices(pages, weights=page_weights, k=views):
                    term = rng.choice(SEARCH_TERMS) if path == "/" and rng.random() < 0.2 else ""
                    key = Bucket(day, hour, path, term, device, browser)
                    counts[key] = counts.get(key, 0) + 1
    return counts


def generate(*, rng: random.Random, now: datetime, progress: Progress | None = None) -> None:
    """Analytics consents of some hundred visitors, a tenth withdrawn, and their page events;
    anonymous page view counts of the last months."""
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
        buckets = pageviews_add(counts=_pageview_counts(rng, now))
        if progress:
            progress(len(consents) + len(events) + buckets)
        audit_log(actor="system:demo", action="demo.webstats_created", activity=ACTIVITY,
                  data={"consents": len(consents), "events": len(events)}, now=timezone.now())
