"""Reads for the data protection officer's overview page: one place for the day's work.

Each part reuses the selector that owns its subject: request deadlines
(:func:`personvern.rights.selectors.request_list`, the reminders' buckets), processor audits
(the policy's processors and the reminder job's notice period), the retention
engine's forecast (:func:`personvern.retention.engine.retention_forecast`, a
rehearsal rolled back), the worker's job runs and the consent ledgers. Counts
and case numbers only, apart from hold reasons written by staff.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import translation

from personvern.rights.deadlines import days_left, received_date
from personvern.rights.models import OPEN_STATUSES, Request
from personvern.rights.selectors import DUE_SOON_DAYS, ReminderBucket, request_list

#: How many open requests the page lists (the list in the admin has them all).
REQUESTS_SHOWN = 50
#: How many of the newest job runs the page lists.
JOB_RUNS_SHOWN = 15
#: How long the overview keeps a retention forecast before making it again.
FORECAST_CACHE_SECONDS = 3600
FORECAST_CACHE_KEY = "rights:dpo-overview:retention-forecast"
#: The period the consent figures count over.
CONSENT_DAYS = 30


@dataclass(frozen=True)
class DueRequest:
    request: Request
    bucket: ReminderBucket | None
    days_left: int

    @property
    def days_overdue(self) -> int:
        return -self.days_left


@dataclass(frozen=True)
class ProcessorAttention:
    name: str
    service: str
    last_audit: dt.date | None
    dpa_date: dt.date
    next_audit: dt.date
    overdue: bool
    placeholder: bool


@dataclass(frozen=True)
class ConsentFigures:
    newsletter_given: int
    newsletter_withdrawn: int
    analytics_granted: int
    analytics_withdrawn: int
    since: dt.date


@dataclass
class Overview:
    today: dt.date
    due: list[DueRequest]
    open_total: int
    holds: list[Any]
    processors: list[ProcessorAttention]
    forecast: ForecastSummary
    job_runs: list[Any]
    failed_runs: int
    consents: ConsentFigures


def due_requests(
    *, today: dt.date, soon_days: int = DUE_SOON_DAYS, limit: int = REQUESTS_SHOWN
) -> list[DueRequest]:
    """Open requests, soonest legal deadline first (overdue ones lead), each marked
    overdue, due today, due within ``soon_days`` or not yet (``bucket`` None)."""
    rows = []
    for request in request_list(today=today).filter(status__in=OPEN_STATUSES)[:limit]:
        left = days_left(request.due_legal, today)
        bucket: ReminderBucket | None = None
        if left < 0:
            bucket = ReminderBucket.OVERDUE
        elif left == 0:
            bucket = ReminderBucket.DUE_TODAY
        elif left <= soon_days:
            bucket = ReminderBucket.DUE_SOON
        rows.append(DueRequest(request=request, bucket=bucket, days_left=left))
    return rows


def active_holds(*, now: datetime) -> list[Any]:
    """Holds in force (not lifted, not expired), those expiring first at the top."""
    from personvern.core.models import Hold

    return list(
        Hold.objects.filter(lifted_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("expires_at", "-created_at")
    )


def processors_needing_attention(*, today: dt.date, lang: str) -> list[ProcessorAttention]:
    """Processors whose audit is overdue or falls due within the reminder's notice (R10),
    or whose entry is still a placeholder (no real processor and DPA named yet)."""
    from personvern.core.policy import current_policy
    from personvern.policy.jobs import AUDIT_NOTICE

    rows = [
        ProcessorAttention(
            name=p.name_in(lang),
            service=p.service.get(lang),
            last_audit=p.last_audit,
            dpa_date=p.dpa_date,
            next_audit=p.next_audit_due(),
            overdue=p.audit_overdue(today),
            placeholder=p.placeholder,
        )
        for p in current_policy().processors
        if p.placeholder or p.next_audit_due() <= today + AUDIT_NOTICE
    ]
    return sorted(rows, key=lambda row: row.next_audit)


def consent_figures(*, now: datetime, days: int = CONSENT_DAYS) -> ConsentFigures:
    """Newsletter consents given and withdrawn, analytics consents granted and withdrawn,
    over the last ``days`` days (two aggregate queries)."""
    from personvern.core.models import ConsentAction, ConsentEvent
    from personvern.newsletter.services import ACTIVITY as NEWSLETTER
    from personvern.webstats.models import AnalyticsConsent, ConsentChoice

    since = now - timedelta(days=days)
    newsletter = ConsentEvent.objects.filter(scope=NEWSLETTER, at__gte=since).aggregate(
        given=Count("pk", filter=Q(action=ConsentAction.GIVEN)),
        withdrawn=Count("pk", filter=Q(action=ConsentAction.WITHDRAWN)),
    )
    analytics = AnalyticsConsent.objects.filter(at__gte=since).aggregate(
        granted=Count("pk", filter=Q(choice=ConsentChoice.GRANTED)),
        withdrawn=Count("pk", filter=Q(choice=ConsentChoice.WITHDRAWN)),
    )
    return ConsentFigures(
        newsletter_given=newsletter["given"],
        newsletter_withdrawn=newsletter["withdrawn"],
        analytics_granted=analytics["granted"],
        analytics_withdrawn=analytics["withdrawn"],
        since=received_date(since),
    )


@dataclass(frozen=True)
class ForecastLineSummary:
    activity: str
    rule: str
    holder: str
    due_now: int
    due_within: list[int]  # cumulative, in the order of ``retention.reports.WINDOWS``
    held: int

    # The summary is cached whatever the reader's language: words are looked up when shown.
    @property
    def activity_title(self) -> str:
        from personvern.core.policy import activity_title

        return activity_title(self.activity)

    @property
    def holder_name(self) -> str:
        """The holder model's plural name ("courses.HotelStay" → "hotel stays")."""
        from django.apps import apps

        try:
            return str(apps.get_model(self.holder)._meta.verbose_name_plural)
        except (LookupError, ValueError):
            return self.holder


@dataclass(frozen=True)
class ForecastSummary:
    """What the overview shows of the retention forecast: counts only, cacheable."""

    as_of: datetime
    due_now: int
    lines: list[ForecastLineSummary]
    refused: list[str]


def retention_forecast_summary(*, now: datetime, refresh: bool = False) -> ForecastSummary:
    """The retention engine's forecast (its own selector, a rehearsal rolled back),
    kept for ``FORECAST_CACHE_SECONDS``: rehearsing every rule takes seconds on a
    full database, too long for each opening of the overview. ``refresh``: make it
    afresh (the page's "Recalculate" button)."""
    from django.core.cache import cache

    from personvern.retention.engine import retention_forecast

    if not refresh:
        cached = cache.get(FORECAST_CACHE_KEY)
        if isinstance(cached, ForecastSummary):
            return cached
    forecast = retention_forecast(as_of=now)
    summary = ForecastSummary(
        as_of=now,
        due_now=forecast.due_now,
        # Lines with nothing to remove and nothing held say nothing to the reader.
        lines=[
            ForecastLineSummary(
                activity=line.activity, rule=line.rule, holder=line.holder,
                due_now=line.due_now, due_within=list(line.due_within.values()), held=line.held,
            )
            for line in forecast.lines
            if line.due_now or line.held or any(line.due_within.values())
        ],
        refused=[f"{r.activity}/{r.rule} ({r.holder})" for r in forecast.refused],
    )
    cache.set(FORECAST_CACHE_KEY, summary, FORECAST_CACHE_SECONDS)
    return summary


def recent_job_runs(*, limit: int = JOB_RUNS_SHOWN) -> list[Any]:
    from personvern.worker import registry
    from personvern.worker.labels import job_label
    from personvern.worker.models import JobRun

    runs = list(JobRun.objects.order_by("-slot", "job")[:limit])
    for run in runs:  # the job's name in words and what it does
        run.label = job_label(run.job)  # type: ignore[attr-defined]
        try:
            run.description = registry.get(run.job).description  # type: ignore[attr-defined]
        except KeyError:
            run.description = ""  # type: ignore[attr-defined]
    return runs


def dpo_overview(*, now: datetime, refresh_forecast: bool = False) -> Overview:
    """Everything on the data protection officer's overview page, as of ``now``."""
    from personvern.worker.models import JobRun, JobRunState

    today = received_date(now)
    lang = translation.get_language() or "nb"
    return Overview(
        today=today,
        due=due_requests(today=today),
        open_total=Request.objects.filter(status__in=OPEN_STATUSES).count(),
        holds=active_holds(now=now),
        processors=processors_needing_attention(today=today, lang=lang),
        forecast=retention_forecast_summary(now=now, refresh=refresh_forecast),
        job_runs=recent_job_runs(),
        failed_runs=JobRun.objects.filter(
            state=JobRunState.FAILED, slot__gte=now - timedelta(days=7)
        ).count(),
        consents=consent_figures(now=now),
    )
