"""Writes of web statistics and analytics consent.

Consent given and withdrawn are audited (the audit entry names no visitor: a
cookie id is personal data, and the audit log outlives it). Counting a page
view and recording an analytics event are not audited one by one: they are the
statistics themselves, one per request, and an audit entry for each would be a
second, larger copy of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.webstats.models import (
    AnalyticsConsent,
    AnalyticsEvent,
    ConsentChoice,
    DeviceClass,
    ImportedLog,
    PageView,
)
from personvern.webstats.selectors import analytics_consent_state

if TYPE_CHECKING:
    from personvern.webstats.logs import ParsedLog

ACTIVITY = "web-analytics-consent"
#: Rows per INSERT … ON CONFLICT statement when many buckets are counted at once.
UPSERT_BATCH_SIZE = 500

CONSENT_TEXT_NEEDED = _("Consent must name the policy and text version.")
LOG_MALFORMED = _("%(source)s: line %(lines)s is not in the Common/Combined Log Format")
LOG_MALFORMED_MORE = _(
    "%(source)s: line %(lines)s and %(more)s more is not in the Common/Combined Log Format"
)
LOG_IMPORTED_MEANWHILE = _(
    "%(source)s: another import counted this log meanwhile; nothing was added twice."
)


class Bucket(NamedTuple):
    """The key of one :class:`PageView` counter."""

    day: date
    hour: int
    path: str
    search_term: str
    device: str
    browser: str


def bucket_for(
    *, at: datetime, path: str, search_term: str, device: str, browser: str
) -> Bucket:
    """The counter a request at ``at`` falls in (hours in the site's time zone)."""
    local = timezone.localtime(at)
    return Bucket(local.date(), local.hour, path, search_term, device, browser)


def pageviews_add(*, counts: Mapping[Bucket, int]) -> int:
    """Add ``counts`` to the page view counters; returns the number of buckets touched.

    One ``INSERT … ON CONFLICT … DO UPDATE SET count = count + excluded.count``
    per batch: the database adds atomically, so concurrent web processes never
    lose a count and never need a lock of their own (SQLite ≥ 3.24 and
    PostgreSQL both speak this syntax).
    """
    for bucket, n in counts.items():
        if n < 1:
            raise ValidationError({"count": f"bucket {bucket!r} has a count of {n}; must be >= 1"})
        if bucket.device not in DeviceClass.values:
            raise ValidationError({"device": f"{bucket.device!r} is not a device class"})
    items = iter(counts.items())  # in batches: a big log's buckets are not copied at once
    qn = connection.ops.quote_name
    table = qn(PageView._meta.db_table)
    columns = ["day", "hour", "path", "search_term", "device", "browser", "count"]
    key = ", ".join(qn(c) for c in columns[:-1])
    count = qn("count")
    # No savepoint: a single batch is one statement; several share the caller's
    # transaction (or a new one), all or nothing.
    with transaction.atomic(savepoint=False):
        while batch := list(islice(items, UPSERT_BATCH_SIZE)):
            values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(batch))
            params: list[Any] = []
            for bucket, n in batch:
                params.extend([*bucket, n])
            sql = (
                f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) VALUES {values} "  # noqa: S608
                f"ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + excluded.{count}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    return len(counts)


def pageview_count(
    *, at: datetime, path: str, search_term: str, device: str, browser: str
) -> None:
    """Count one page view (one upsert statement)."""
    bucket = bucket_for(
        at=at, path=path, search_term=search_term, device=device, browser=browser
    )
    pageviews_add(counts={bucket: 1})


def analytics_consent_grant(
    *,
    visitor_id: uuid.UUID | None,
    policy_version: str,
    text_version: str,
    actor: str,
    now: datetime | None = None,
) -> AnalyticsConsent:
    """Record that a visitor accepts analytics cookies; returns the ledger row.

    A visitor whose consent already stands keeps its id (the new row re-affirms
    it, e.g. under a newer text version). Anyone else gets a fresh random id, so
    an id that was withdrawn, and whose data was deleted, never comes back.
    """
    now = now or timezone.now()
    if not policy_version or not text_version:
        raise ValidationError({"text_version": CONSENT_TEXT_NEEDED})
    with transaction.atomic():
        if visitor_id is None or analytics_consent_state(visitor_id) != ConsentChoice.GRANTED:
            visitor_id = uuid.uuid4()
        row = AnalyticsConsent(
            visitor_id=visitor_id,
            choice=ConsentChoice.GRANTED,
            policy_version=policy_version,
            text_version=text_version,
            at=now,
        )
        row.save(force_insert=True)
        audit_log(
            actor=actor,
            action="analytics.consent_given",
            activity=ACTIVITY,
            data={"policy_version": policy_version, "text_version": text_version},
            now=now,
        )
    return row


def analytics_consent_withdraw(
    *,
    visitor_id: uuid.UUID | None,
    policy_version: str,
    text_version: str,
    actor: str,
    now: datetime | None = None,
) -> AnalyticsConsent | None:
    """Record that a visitor withdraws analytics consent and delete its analytics data.

    Returns the withdrawal row, or ``None`` when the visitor had no consent in
    force (a first "no" leaves no trace: there is nothing to prove). Every
    earlier ledger row of the visitor gets ``withdrawn_at`` (one UPDATE), so the
    policy's "0 days after withdrawal" rule removes the ledger as a whole.
    """
    now = now or timezone.now()
    if visitor_id is None or analytics_consent_state(visitor_id) != ConsentChoice.GRANTED:
        return None
    with transaction.atomic():
        row = AnalyticsConsent(
            visitor_id=visitor_id,
            choice=ConsentChoice.WITHDRAWN,
            policy_version=policy_version,
            text_version=text_version,
            at=now,
            withdrawn_at=now,
        )
        row.save(force_insert=True)
        # The one sanctioned change to ledger rows (see AnalyticsConsent).
        AnalyticsConsent.objects.filter(visitor_id=visitor_id, withdrawn_at__isnull=True).update(
            withdrawn_at=now
        )
        deleted, _ = AnalyticsEvent.objects.filter(visitor_id=visitor_id).delete()
        audit_log(
            actor=actor,
            action="analytics.consent_withdrawn",
            activity=ACTIVITY,
            data={
                "policy_version": policy_version,
                "text_version": text_version,
                "events_deleted": deleted,
            },
            now=now,
        )
    return row


def analytics_event_record(
    *, visitor_id: uuid.UUID, path: str, now: datetime | None = None
) -> bool:
    """Record a page seen by a consenting visitor; ``False`` (nothing stored) otherwise.

    The ledger, not the cookie, decides: a forged or stale "granted" cookie
    records nothing. Should a withdrawal land between the check and the insert,
    the stray row is due under the "after-withdrawal" rule at the next
    retention run (its anchor is the visitor's withdrawal time).
    """
    if analytics_consent_state(visitor_id) != ConsentChoice.GRANTED:
        return False
    AnalyticsEvent.objects.create(visitor_id=visitor_id, path=path, at=now or timezone.now())
    return True


def malformed_lines_message(parsed: ParsedLog, source: str) -> str:
    """``source: line 3, 9 and 12 more is not in …``: the first numbers and how many more."""
    shown = ", ".join(str(n) for n in parsed.malformed)
    more = parsed.malformed_total - len(parsed.malformed)
    message = LOG_MALFORMED_MORE if more > 0 else LOG_MALFORMED
    return str(message) % {"source": source, "lines": shown, "more": more}


def pageviews_import_log(*, lines: Iterable[str], source: str, actor: str) -> ParsedLog:
    """Add an access log's page views to the statistics; returns what was read.

    Idempotent: the log's lines are recorded by a keyed digest
    (:class:`~personvern.webstats.models.ImportedLog`), so importing the same
    log again, or a rotated copy of it, adds nothing, and a log that has grown
    since adds only its new lines. Crawlers are left out and token-bearing
    paths masked, as the live counter does. Malformed lines are not counted
    and reported (:attr:`ParsedLog.malformed`); the rest is. The counts, the
    record of the import and its audit entry are one transaction: a log two
    imports read at once is counted by one of them (the other gets a
    ``ValidationError`` and writes nothing).
    """
    from personvern.webstats.logs import parse_access_log

    imported: dict[int, set[str]] = {}
    for lines_read, digest in ImportedLog.objects.values_list("lines", "digest"):
        imported.setdefault(lines_read, set()).add(digest)
    parsed = parse_access_log(lines, imported=imported)
    if parsed.lines == parsed.already_imported:
        return parsed  # nothing new (or an empty log): nothing to record
    try:
        with transaction.atomic():
            ImportedLog.objects.create(
                digest=parsed.digest,
                lines=parsed.lines,
                source=source[:255],
                page_views=parsed.counted,
            )
            if parsed.counts:
                pageviews_add(counts=parsed.counts)
            audit_log(
                actor=actor,
                action="webstats.log_imported",
                activity="web-statistics",
                data={
                    "source": source,
                    "lines": parsed.lines,
                    "already_imported": parsed.already_imported,
                    "page_views": parsed.counted,
                    "bots_left_out": parsed.bots,
                    "buckets": len(parsed.counts),
                    "malformed": parsed.malformed_total,
                },
            )
    except IntegrityError as exc:
        raise ValidationError(LOG_IMPORTED_MEANWHILE, params={"source": source}) from exc
    return parsed
