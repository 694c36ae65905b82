"""Persons, identities, memberships, the consent ledger, holds, restrictions, objections."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core import selectors, services
from personvern.core.models import AuditEntry, ConsentEvent, EmailIdentity, HoldScope

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)


def test_email_identities_are_normalised_and_unique() -> None:
    person = services.person_create(email="  Kari.Nordmann@EXAMPLE.no ", actor="test")
    assert EmailIdentity.objects.get(person=person).address == "kari.nordmann@example.no"
    with pytest.raises(ValidationError, match="already belongs"):
        services.person_create(email="kari.nordmann@example.NO", actor="test")
    found, created = services.person_get_or_create(email="KARI.nordmann@example.no", actor="t")
    assert found == person and not created
    assert selectors.person_by_email("kari.nordmann@example.no") == person


def test_invalid_email_is_refused_with_the_address() -> None:
    with pytest.raises(ValidationError, match="not an e-mail"):
        services.person_create(email="no-at-sign", actor="test")


def test_membership_period_must_be_ordered() -> None:
    person = services.person_create(email="a@example.no", actor="test")
    with pytest.raises(ValidationError):
        services.membership_add(
            person=person,
            organisation="advokatforeningen",
            valid_from=date(2025, 1, 1),
            valid_to=date(2024, 1, 1),
            actor="test",
        )


@pytest.mark.req("R17")
def test_consent_ledger_is_append_only_and_latest_event_wins() -> None:
    person = services.person_create(email="a@example.no", actor="test")
    services.consent_record(
        person=person, scope="newsletter", action="given", channel="web",
        text_version="newsletter-2024-1", actor="test", now=T0,
    )
    services.consent_record(
        person=person, scope="newsletter", action="withdrawn", channel="email",
        actor="test", now=T0 + timedelta(days=30),
    )
    assert selectors.has_consent(person, "newsletter", at=T0 + timedelta(days=1))
    assert not selectors.has_consent(person, "newsletter", at=T0 + timedelta(days=31))
    assert list(selectors.consenting_persons("newsletter", at=T0 + timedelta(days=1))) == [person]
    assert not selectors.consenting_persons("newsletter", at=T0 + timedelta(days=31)).exists()
    event = ConsentEvent.objects.first()
    assert event is not None
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert ConsentEvent.objects.count() == 2  # proof of what was agreed to stays


def test_consent_needs_a_known_scope_and_a_text_version() -> None:
    person = services.person_create(email="a@example.no", actor="test")
    with pytest.raises(ValidationError, match="not an activity"):
        services.consent_record(
            person=person, scope="nonsense", action="given", channel="web",
            text_version="v1", actor="test",
        )
    with pytest.raises(ValidationError, match="text"):
        services.consent_record(
            person=person, scope="newsletter", action="given", channel="web", actor="test"
        )


@pytest.mark.req("R36")
def test_restriction_needs_an_article_18_ground_and_is_audited() -> None:
    person = services.person_create(email="a@example.no", actor="test")
    with pytest.raises(ValidationError, match="18"):
        services.restriction_place(person=person, ground="z", actor="test")
    restriction = services.restriction_place(person=person, ground="b", actor="dpo", now=T0)
    assert selectors.is_restricted(person, now=T0 + timedelta(hours=1))
    services.restriction_lift(restriction=restriction, actor="dpo", now=T0 + timedelta(days=2))
    assert not selectors.is_restricted(person, now=T0 + timedelta(days=3))
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "restriction.placed" in actions and "restriction.lifted" in actions


@pytest.mark.req("R37")
def test_objection_only_to_legitimate_interest_or_direct_marketing() -> None:
    person = services.person_create(email="a@example.no", actor="test")
    services.objection_record(person=person, activity="market-research", actor="test")
    services.objection_record(person=person, activity="direct-marketing", actor="test")
    with pytest.raises(ValidationError, match="does not rest on"):
        services.objection_record(person=person, activity="course-participation", actor="test")
    assert selectors.objecting_person_ids("market-research").filter(person_id=person.pk).exists()


def test_hold_needs_a_reason_and_expires() -> None:
    person = services.person_create(email="a@example.no", actor="test")
    with pytest.raises(ValidationError, match="reason"):
        services.hold_place(scope=HoldScope.PERSON, reason=" ", person=person, actor="t")
    hold = services.hold_place(
        scope=HoldScope.PERSON, reason="Legal claim 2026-17", person=person, actor="dpo",
        expires_at=T0 + timedelta(days=10), now=T0,
    )
    assert hold in selectors.active_holds(now=T0 + timedelta(days=9))
    assert hold not in selectors.active_holds(now=T0 + timedelta(days=11))


def test_refusals_are_in_norwegian_when_nb_is_active() -> None:
    """A Norwegian staff member (the back office runs in nb) reads the reason in Bokmål."""
    services.person_create(email="kari@example.no", actor="test")
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            services.person_create(email="Kari@Example.no", actor="test")
        assert exc.value.message_dict["email"] == ["kari@example.no tilhører allerede en person."]
        with pytest.raises(ValidationError) as exc:
            services.person_create(email="no-at-sign", actor="test")
        assert exc.value.messages == ["«no-at-sign» er ikke en e-postadresse."]
        with pytest.raises(ValidationError) as exc:
            services.hold_place(scope=HoldScope.PERSON, reason=" ", actor="test")
        assert exc.value.message_dict["reason"] == ["En sperre mot sletting må ha en begrunnelse."]
