"""The newsletter's basis as it really is, per subscription (R17)."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.core import services as core
from personvern.core.models import Person
from personvern.members.feeds import check_members
from personvern.members.services import members_import
from personvern.newsletter import services as newsletter
from personvern.policy.ropa import ropa_rows
from personvern.rights.engine.access import access_report, access_report_html

pytestmark = pytest.mark.django_db

AV = "advokatforeningen"


def _newsletter(report):  # type: ignore[no-untyped-def]
    return next(a for a in report.activities if a.id == "newsletter")


def _bar_member(email: str, member_to: str = "") -> Person:
    members_import(organisation=AV, rows=check_members(
        [(2, {"member_id": email, "email": email, "member_from": "2020-01-01",
              "member_to": member_to})]), actor="t")
    return Person.objects.get(emails__address=email)


@pytest.mark.req("R17")
def test_a_membership_based_subscription_is_reported_on_the_membership_not_as_consent() -> None:
    person = _bar_member("advokat@example.no")
    newsletter.newsletter_subscribe(person=person, source="member-organisation",
                                    organisation=AV, actor="t")
    report = access_report(person, lang="en")
    info = _newsletter(report)
    assert "6(1)(b)" in info.basis and "consent" not in info.basis
    assert "active membership of The Norwegian Bar Association" in info.basis_note
    assert info.basis_evidence == {"basis": "membership", "organisation": AV, "active": True,
                                   "member_from": "2020-01-01"}
    processing = next(p for p in report.as_json()["processing"] if p["activity"] == "newsletter")
    assert processing["basis_evidence"]["basis"] == "membership"
    assert "active membership" in access_report_html(report)


@pytest.mark.req("R17")
def test_a_consent_based_subscription_points_to_its_ledger_entry() -> None:
    person = core.person_create(email="jurist@example.no", actor="t")
    subscription = newsletter.newsletter_subscribe(
        person=person, source="member-organisation", organisation="juristforbundet",
        text_version="jf-2024", actor="t",
    )
    assert subscription.consent is not None
    assert subscription.consent.channel == "juristforbundet"
    info = _newsletter(access_report(person, lang="en"))
    assert "6(1)(a)" in info.basis
    assert info.basis_evidence["consent_entry"] == subscription.consent.pk
    assert "text version jf-2024" in info.basis_note
    newsletter.newsletter_unsubscribe(subscription=subscription, channel="link", actor="t")
    info = _newsletter(access_report(person, lang="en"))
    assert "You withdrew your consent" in info.basis_note


@pytest.mark.req("R17")
def test_an_ended_membership_is_reported_as_no_longer_a_basis() -> None:
    person = _bar_member("tidligere@example.no")
    newsletter.newsletter_subscribe(person=person, source="member-organisation",
                                    organisation=AV, actor="t")
    _bar_member("tidligere@example.no", member_to=date(2026, 1, 31).isoformat())
    info = _newsletter(access_report(person, lang="en"))
    assert "has ended" in info.basis_note
    assert info.basis_evidence["active"] is False


@pytest.mark.req("R17")
def test_the_notice_and_the_record_of_processing_state_both_bases() -> None:
    from personvern.core.policy import current_policy
    from personvern.policy.render import render_notice

    row = next(r for r in ropa_rows(current_policy(), "en") if r["activity_id"] == "newsletter")
    assert "6(1)(a)" in row["legal_basis"]
    assert "on the basis of their active membership" in row["legal_basis"]
    notice = render_notice(current_policy(), lang="en")
    assert "on the basis of their active membership, on Advokatforeningen" in notice
