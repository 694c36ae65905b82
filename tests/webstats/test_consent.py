"""Proof of analytics consent (Art. 7(1)), withdrawal, and retention of analytics data."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core.checks import check_holders
from personvern.core.models import AuditEntry
from personvern.core.registry import holders_for
from personvern.retention.engine import retention_run
from personvern.webstats.models import AnalyticsConsent, AnalyticsEvent, ConsentChoice
from personvern.webstats.selectors import analytics_consent_state
from personvern.webstats.services import (
    analytics_consent_grant,
    analytics_consent_withdraw,
    analytics_event_record,
)

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
T0 = datetime(2025, 3, 3, 12, 0, tzinfo=OSLO)


def _grant(visitor: uuid.UUID | None = None, now: datetime = T0) -> AnalyticsConsent:
    return analytics_consent_grant(
        visitor_id=visitor, policy_version="2.0", text_version="banner-1", actor="test", now=now
    )


def _withdraw(visitor: uuid.UUID, now: datetime) -> AnalyticsConsent | None:
    return analytics_consent_withdraw(
        visitor_id=visitor, policy_version="2.0", text_version="banner-1", actor="test", now=now
    )


@pytest.mark.req("R29")
def test_grant_records_proof_with_versions_and_an_anonymous_audit_entry() -> None:
    row = _grant()
    assert row.choice == ConsentChoice.GRANTED
    assert (row.policy_version, row.text_version, row.at) == ("2.0", "banner-1", T0)
    assert analytics_consent_state(row.visitor_id) == ConsentChoice.GRANTED
    entry = AuditEntry.objects.get(action="analytics.consent_given")
    assert entry.subject == ""
    assert entry.activity == "web-analytics-consent"
    assert str(row.visitor_id) not in str(entry.data)


def test_regrant_keeps_the_id_but_a_withdrawn_id_never_returns() -> None:
    first = _grant()
    again = _grant(first.visitor_id, now=T0 + timedelta(days=1))
    assert again.visitor_id == first.visitor_id
    _withdraw(first.visitor_id, now=T0 + timedelta(days=2))
    later = _grant(first.visitor_id, now=T0 + timedelta(days=3))
    assert later.visitor_id != first.visitor_id
    forged = _grant(uuid.uuid4(), now=T0 + timedelta(days=3))
    assert forged.visitor_id != later.visitor_id


@pytest.mark.req("R29")
def test_withdrawal_appends_stamps_the_ledger_and_deletes_analytics_data() -> None:
    granted = _grant()
    other = _grant()
    assert analytics_event_record(visitor_id=granted.visitor_id, path="/", now=T0)
    assert analytics_event_record(visitor_id=other.visitor_id, path="/", now=T0)
    withdrawal = _withdraw(granted.visitor_id, now=T0 + timedelta(hours=1))
    assert withdrawal is not None and withdrawal.choice == ConsentChoice.WITHDRAWN
    assert analytics_consent_state(granted.visitor_id) == ConsentChoice.WITHDRAWN
    ledger = AnalyticsConsent.objects.filter(visitor_id=granted.visitor_id)
    assert ledger.count() == 2
    assert set(ledger.values_list("withdrawn_at", flat=True)) == {T0 + timedelta(hours=1)}
    assert not AnalyticsEvent.objects.filter(visitor_id=granted.visitor_id).exists()
    assert AnalyticsEvent.objects.filter(visitor_id=other.visitor_id).count() == 1
    entry = AuditEntry.objects.get(action="analytics.consent_withdrawn")
    assert entry.subject == "" and entry.data["events_deleted"] == 1


def test_a_first_no_leaves_no_trace() -> None:
    assert _withdraw(uuid.uuid4(), now=T0) is None
    assert not AnalyticsConsent.objects.exists()
    assert not AuditEntry.objects.filter(action="analytics.consent_withdrawn").exists()


def test_ledger_rows_cannot_be_edited() -> None:
    row = _grant()
    row.choice = ConsentChoice.WITHDRAWN
    with pytest.raises(ValueError, match="append-only"):
        row.save()


@pytest.mark.req("R29")
def test_no_analytics_event_without_consent_in_the_ledger() -> None:
    assert not analytics_event_record(visitor_id=uuid.uuid4(), path="/", now=T0)
    assert not AnalyticsEvent.objects.exists()


def test_holders_implement_the_analytics_activity_for_the_system_check() -> None:
    labels = {h.label for h in holders_for("web-analytics-consent")}
    assert labels == {"webstats.AnalyticsConsent", "webstats.AnalyticsEvent"}
    assert all(h.person is None for h in holders_for("web-analytics-consent"))
    problems = [str(e.msg) for e in check_holders() if "web-analytics-consent" in str(e.msg)]
    assert problems == []
    assert not [str(e.msg) for e in check_holders() if "webstats." in str(e.msg)]


@pytest.mark.req("R29")
def test_retention_deletes_analytics_data_13_months_after_receipt() -> None:
    old = _grant(now=T0)
    analytics_event_record(visitor_id=old.visitor_id, path="/old/", now=T0)
    recent = _grant(now=T0 + timedelta(days=300))
    analytics_event_record(visitor_id=recent.visitor_id, path="/new/", now=T0 + timedelta(days=300))
    retention_run(as_of=T0 + timedelta(days=400))
    assert list(AnalyticsConsent.objects.values_list("visitor_id", flat=True)) == [
        recent.visitor_id
    ]
    assert list(AnalyticsEvent.objects.values_list("path", flat=True)) == ["/new/"]


@pytest.mark.req("R29")
def test_retention_removes_the_whole_ledger_of_a_withdrawn_visitor_the_next_day() -> None:
    withdrawn = _grant(now=T0)
    kept = _grant(now=T0)
    # A stray event that raced the withdrawal is due under the same rule.
    AnalyticsEvent.objects.create(visitor_id=withdrawn.visitor_id, path="/", at=T0)
    _withdraw(withdrawn.visitor_id, now=T0 + timedelta(days=1))
    AnalyticsEvent.objects.create(
        visitor_id=withdrawn.visitor_id, path="/late/", at=T0 + timedelta(days=1, hours=1)
    )
    retention_run(as_of=T0 + timedelta(days=1, hours=2))
    assert AnalyticsConsent.objects.filter(visitor_id=withdrawn.visitor_id).exists()
    retention_run(as_of=T0 + timedelta(days=2, hours=2))  # "0d": the withdrawal day ends first
    assert not AnalyticsConsent.objects.filter(visitor_id=withdrawn.visitor_id).exists()
    assert not AnalyticsEvent.objects.filter(visitor_id=withdrawn.visitor_id).exists()
    assert AnalyticsConsent.objects.filter(visitor_id=kept.visitor_id).exists()


def test_consent_refusal_is_in_norwegian_when_nb_is_active() -> None:
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            analytics_consent_grant(
                visitor_id=None, policy_version="2.0", text_version="", actor="test", now=T0
            )
        assert exc.value.message_dict["text_version"] == [
            "Et samtykke må angi versjonen av personvernerklæringen og teksten."
        ]
