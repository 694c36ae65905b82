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
    forecast: Any
    forecast_lines: list[Any]
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


def recent_job_runs(*, limit: int = JOB_RUNS_SHOWN) -> list[Any]:
    from personvern.worker.models import JobRun

    return list(JobRun.objects.order_by("-slot", "job")[:limit])


def dpo_overview(*, now: datetime) -> Overview:
    """Everything on the data protection officer's overview page, as of ``now``."""
    from personvern.retention.engine import retention_forecast
    from personvern.worker.models import JobRun, JobRunState

    today = received_date(now)
    lang = translation.get_language() or "nb"
    forecast = retention_forecast(as_of=now)
    return Overview(
        today=today,
        due=due_requests(today=today),
        open_total=Request.objects.filter(status__in=OPEN_STATUSES).count(),
        holds=active_holds(now=now),
        processors=processors_needing_attention(today=today, lang=lang),
        forecast=forecast,
        # Lines with nothing to remove and nothing held say nothing to the reader.
        forecast_lines=[
            line for line in forecast.lines
            if line.due_now or line.held or any(line.due_within.values())
        ],
        job_runs=recent_job_runs(),
        failed_runs=JobRun.objects.filter(
            state=JobRunState.FAILED, slot__gte=now - timedelta(days=7)
        ).count(),
        consents=consent_figures(now=now),
    )
