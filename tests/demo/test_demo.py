"""`personvern demo`: covers every holder, stays valid, verifies, forecasts.

The demo is built once, by the real command (``personvern.cli.main``) on the
empty test database, as a user would, for all the tests of this module: they
only read it, each in its own transaction rolled back to the built data
(``tests/shared_data.py``, ADR 0034). Reproducing it from its seed, which
builds it twice on a flushed database, is in ``test_demo_reproducible.py``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Exists, OuterRef, Q

from personvern.cli import main
from personvern.core.audit import verify_chain
from personvern.core.models import (
    ConsentAction,
    ConsentEvent,
    Hold,
    Membership,
)
from personvern.core.policy import current_policy
from personvern.core.registry import holders
from personvern.newsletter.models import Subscription, SubscriptionBasis
from personvern.retention.engine import retention_forecast
from personvern.rights.models import Request, RequestStatus, RequestType
from personvern.rights.selectors import request_list
from tests.shared_data import anchor_copy, built_once_fixture

AS_OF = "2026-06-01"
ARGS = ["demo", "--persons", "200", "--seed", "5", "--as-of", AS_OF]
# The demo's clock: noon in Oslo on the --as-of day.
NOW = datetime.combine(date.fromisoformat(AS_OF), time(12), tzinfo=ZoneInfo("Europe/Oslo"))

# Holders that may stay empty in the demo: none. A new holder without demo data
# fails the test.
NOT_YET_GENERATED: set[str] = set()


def _stored_holders() -> list:
    policy = current_policy()
    return [
        h for h in holders()
        if h.activity is not None and policy.activity(h.activity).stores_data
    ]


def _run_demo() -> None:
    assert main(ARGS) == 0


_demo_built = built_once_fixture("_demo_built", _run_demo, scope="module")


@pytest.fixture
def demo(_demo_built: Path, audit_anchor: Path, db: None) -> None:
    """The demo, built once for the module; the test's writes are rolled back."""
    anchor_copy(_demo_built, audit_anchor)


def test_demo_fills_every_holder_and_the_audit_chain_verifies(demo: None) -> None:

    empty = {h.label for h in _stored_holders() if not h.model._default_manager.exists()}
    assert empty == NOT_YET_GENERATED

    report = verify_chain()  # the demo seals its entries
    assert report.problem is None
    assert report.checked > 0 and report.unsealed == 0


def test_demo_gives_the_retention_forecast_work_now_and_within_the_year(demo: None) -> None:

    forecast = retention_forecast(as_of=NOW)
    assert not forecast.refused
    assert forecast.due_now > 0
    # Rows not due yet but due within 30, 90 and 365 days, across several holders.
    soon = {
        window: sum(line.due_within[window] - line.due_now for line in forecast.lines)
        for window in (30, 90, 365)
    }
    assert all(count > 0 for count in soon.values()), soon
    holders_due_later = {
        line.holder for line in forecast.lines if line.due_within[365] > line.due_now
    }
    assert len(holders_due_later) >= 4, holders_due_later
    # Messages kept for a reason show up as held, with the reason.
    assert sum(line.held for line in forecast.lines) > 0


def test_demo_requests_are_in_every_state_the_back_office_shows(demo: None) -> None:
    today = NOW.date()

    assert request_list(overdue=True, today=today).exists()
    assert request_list(due_within_days=7, today=today).exists()
    assert Request.objects.filter(status=RequestStatus.COMPLETED).exists()
    assert Request.objects.filter(status=RequestStatus.CANCELLED).exists()
    extended = Request.objects.get(extended_by_months__gt=0)
    assert extended.due_legal > today
    assert extended.extension_notified_at is not None
    if "unclassified" in RequestType.values:
        assert Request.objects.filter(type="unclassified", status=RequestStatus.PENDING).exists()
    # An erased requester leaves only the pseudonym.
    erased = Request.objects.filter(type=RequestType.ERASURE, status=RequestStatus.COMPLETED)
    assert not erased.filter(person__isnull=False).exists()
    # Open verified requests are in progress, unverified ones pending.
    assert not Request.objects.filter(
        status=RequestStatus.IN_PROGRESS, verified_at__isnull=True
    ).exists()


def test_demo_rows_pass_model_validation_and_the_services_rules(demo: None) -> None:

    # Every field of every row is valid (choices, lengths, URLs, e-mail addresses);
    # foreign keys and constraints the database itself enforces.
    for holder in holders():
        relations = [f.name for f in holder.model._meta.fields if f.is_relation]
        for row in holder.model._default_manager.all():
            row.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)

    # R17: a membership-based subscription started during an active membership; a
    # consent-based one has the consent in the ledger when it started.
    membership = Membership.objects.filter(
        person=OuterRef("person"),
        organisation=OuterRef("organisation"),
        valid_from__lte=OuterRef("subscribed_at__date"),
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("subscribed_at__date")))
    consent = ConsentEvent.objects.filter(
        person=OuterRef("person"),
        scope="newsletter",
        action=ConsentAction.GIVEN,
        at=OuterRef("subscribed_at"),
    )
    subscriptions = Subscription.objects.all()
    assert subscriptions.filter(basis=SubscriptionBasis.MEMBERSHIP).exists()
    assert not subscriptions.filter(basis=SubscriptionBasis.MEMBERSHIP).exclude(
        Exists(membership)
    ).exists()
    assert not subscriptions.filter(basis=SubscriptionBasis.CONSENT).exclude(
        Exists(consent)
    ).exists()
    # Each unsubscribe is a withdrawal in the ledger.
    withdrawn = ConsentEvent.objects.filter(
        person=OuterRef("person"), action=ConsentAction.WITHDRAWN, at=OuterRef("unsubscribed_at")
    )
    assert not subscriptions.filter(unsubscribed_at__isnull=False).exclude(
        Exists(withdrawn)
    ).exists()

    # Kept e-mail has a row hold with the same expiry the service sets.
    from personvern.mailbox.models import MailMessage

    kept = MailMessage.objects.exclude(keep_reason="")
    assert kept.exists()
    assert Hold.objects.filter(scope="row", activity="email-correspondence").count() == (
        kept.count()
    )

    # Invoices: fiscal year end as the service computes it.
    from personvern.customers.models import Invoice
    from personvern.customers.services import fiscal_year_end

    for issued_on, year_end in Invoice.objects.values_list("issued_on", "fiscal_year_end"):
        assert year_end == fiscal_year_end(issued_on)


def test_the_demo_leaves_the_planner_statistics_of_what_it_loaded(demo: None) -> None:
    """A bulk load without statistics lets PostgreSQL plan blind (issue 10: a newsletter
    send scanned the whole address table per recipient): the demo analyses what it loaded."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics (pg_stats) are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_stats WHERE tablename IN "
            "('core_person', 'core_emailidentity', 'courses_registration')"
        )
        analysed = {row[0] for row in cursor.fetchall()}
    assert analysed == {"core_person", "core_emailidentity", "courses_registration"}
