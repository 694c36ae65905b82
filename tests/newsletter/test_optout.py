"""An opt-out is remembered for someone not (or no longer) subscribed (R18, ADR 0035).

Without it, a member organisation passing its members on (a subscription on the
basis of the membership, R17) would mail a member who had said no. The person's
own sign-up or consent lifts it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from personvern.core import services as core
from personvern.core.models import AuditEntry, Person
from personvern.members.services import member_optouts_apply
from personvern.newsletter import cli, services
from personvern.newsletter.models import OptOut, Subscription
from personvern.newsletter.selectors import recipients
from personvern.retention.engine import retention_run

pytestmark = pytest.mark.django_db

AV = "advokatforeningen"
PAGE = "advokatforeningen-member-page"
T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)


def _member(email: str, member_id: str = "", *, valid_to: date | None = None) -> Person:
    person = core.person_create(email=email, actor="t", now=T0)
    membership = core.membership_add(person=person, organisation=AV,
                                     valid_from=date(2020, 1, 1), actor="t")
    type(membership).objects.filter(pk=membership.pk).update(member_id=member_id,
                                                             valid_to=valid_to)
    return person


def _pass_on(person: Person, now: datetime = T0) -> Subscription:
    """The organisation passes its member on: a subscription on the membership."""
    return services.newsletter_subscribe(person=person, source="member-organisation",
                                         organisation=AV, actor="feed", now=now)


def _optouts(*rows: tuple[str, str]) -> object:
    from personvern.members.feeds import OptOutRow

    return member_optouts_apply(
        organisation=AV,
        rows=[OptOutRow(where=i, member_id=m, email=e, opted_out_at=T0)
              for i, (m, e) in enumerate(rows, start=2)],
        actor="api:advokatforeningen", now=T0,
    )


@pytest.mark.req("R18")
@pytest.mark.req("R17")
def test_a_member_page_opt_out_before_any_subscription_keeps_the_membership_from_mailing(
) -> None:
    person = _member("advokat@example.no", "11")

    summary = _optouts(("11", ""))

    assert summary.not_subscribed == 1  # type: ignore[attr-defined]
    optout = OptOut.objects.get(person=person)
    assert (optout.channel, optout.at) == (PAGE, T0)
    assert AuditEntry.objects.filter(action="newsletter.optout_recorded").count() == 1
    # Later the organisation passes its members on: the member who said no is left out.
    with pytest.raises(ValidationError) as refused:
        _pass_on(person, T0 + timedelta(days=30))
    assert refused.value.code == "opted_out"
    assert not Subscription.objects.exists()
    assert not recipients(as_of=T0 + timedelta(days=31)).exists()
    # Repeating the opt-out changes nothing.
    _optouts(("11", ""))
    assert OptOut.objects.get().at == T0
    assert AuditEntry.objects.filter(action="newsletter.optout_recorded").count() == 1


@pytest.mark.req("R18")
def test_an_unsubscribe_is_remembered_after_the_subscription_itself_is_gone() -> None:
    person = _member("advokat@example.no")
    subscription = _pass_on(person)
    services.newsletter_unsubscribe(subscription=subscription, channel="link", actor="p",
                                    now=T0 + timedelta(days=1))
    # The policy deletes an ended subscription at once (rule "subscription").
    retention_run(as_of=T0 + timedelta(days=3))
    assert not Subscription.objects.exists()
    assert OptOut.objects.get(person=person).channel == "link"  # the membership lasts

    with pytest.raises(ValidationError):
        _pass_on(person, T0 + timedelta(days=10))
    assert not Subscription.objects.exists()


@pytest.mark.req("R18")
@pytest.mark.req("R17")
def test_the_person_s_own_sign_up_or_consent_lifts_the_opt_out() -> None:
    member = _member("advokat@example.no", "11")
    assert OptOut.objects.count() == 0
    other = core.person_create(email="jurist@example.no", actor="t", now=T0)
    _optouts(("11", ""))
    services.newsletter_optout_record(person=other, channel="juristforbundet", actor="t",
                                      now=T0)

    # The sign-up form (double opt-in): a member of the bar gets it on the membership.
    later = T0 + timedelta(days=5)
    signup = services.SignUp(email="advokat@example.no", given_name="", family_name="",
                             text_version=services.CONSENT_TEXT_VERSION, issued_at=later)
    subscription = services.newsletter_signup_confirm(signup=signup, actor="site", now=later)
    assert (subscription.person, subscription.status, subscription.basis) == (
        member, "active", "membership"
    )
    # Consent, from the form or relayed by the organisation that collected it.
    services.newsletter_subscribe(person=other, source="member-organisation",
                                  organisation="juristforbundet", text_version="v1",
                                  actor="feed", now=later)

    assert not OptOut.objects.exists()
    lifted = AuditEntry.objects.filter(action="newsletter.optout_lifted")
    assert lifted.count() == 2


@pytest.mark.req("R18")
def test_a_confirmation_link_sent_before_the_opt_out_does_not_undo_it() -> None:
    person = _member("advokat@example.no", "11")
    signup = services.SignUp(email="advokat@example.no", given_name="", family_name="",
                             text_version=services.CONSENT_TEXT_VERSION,
                             issued_at=T0 - timedelta(hours=1))
    _optouts(("11", ""))

    with pytest.raises(ValidationError):
        services.newsletter_signup_confirm(signup=signup, actor="site", now=T0)
    assert OptOut.objects.filter(person=person).exists()
    assert not Subscription.objects.exists()


@pytest.mark.req("R18")
def test_the_opt_outs_command_remembers_a_known_person_and_stores_nothing_of_a_stranger(
    tmp_path: Path,
) -> None:
    person = _member("advokat@example.no")
    file = tmp_path / "avmeldinger.txt"
    file.write_text("advokat@example.no\nukjent@example.no\n")
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["newsletter", "opt-outs", str(file), "--channel", AV])

    assert args.func(args) == 0

    assert list(OptOut.objects.values_list("person_id", "channel")) == [(person.pk, AV)]
    assert not Person.objects.filter(emails__address="ukjent@example.no").exists()
    with pytest.raises(ValidationError):
        _pass_on(person, timezone.now())


@pytest.mark.req("R18")
@pytest.mark.req("R31")
def test_an_opt_out_is_kept_while_the_bar_membership_lasts_and_no_longer() -> None:
    ended = _member("slutt@example.no", "11", valid_to=date(2026, 3, 31))
    member = _member("aktiv@example.no", "12")
    stranger = core.person_create(email="jurist@example.no", actor="t", now=T0)
    _optouts(("11", ""), ("12", ""))
    services.newsletter_optout_record(person=stranger, channel="juristforbundet", actor="t",
                                      now=T0)

    # No membership of the bar: nothing to guard against, gone the day after.
    retention_run(as_of=T0 + timedelta(days=1))
    assert set(OptOut.objects.values_list("person_id", flat=True)) == {ended.pk, member.pk}
    # The last day of the membership keeps it; the run the day after deletes it.
    retention_run(as_of=datetime(2026, 3, 31, 12, tzinfo=UTC))
    assert OptOut.objects.filter(person=ended).exists()
    retention_run(as_of=datetime(2026, 4, 1, 12, tzinfo=UTC))
    assert set(OptOut.objects.values_list("person_id", flat=True)) == {member.pk}
    retention_run(as_of=datetime(2036, 4, 1, 12, tzinfo=UTC))
    assert OptOut.objects.filter(person=member).exists()


@pytest.mark.req("R18")
@pytest.mark.req("R38")
def test_the_opt_out_is_in_the_access_report_and_erased_with_the_person() -> None:
    from personvern.rights.engine import access_report, portability_export
    from personvern.rights.engine.erasure import erase

    person = _member("advokat@example.no", "11")
    _optouts(("11", ""))

    report = access_report(person, lang="en")
    [row] = report.data["newsletter"]["newsletter.OptOut"]
    assert PAGE in str(row)
    assert portability_export(person)["data"]["newsletter"]["newsletter.OptOut"]

    erase(person, actor="staff:dpo", now=T0 + timedelta(days=1))
    assert not OptOut.objects.exists()
