"""Newsletter: subscribe, unsubscribe, interactions, recipients, retention (R16–R18, R36, R37)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core import services as core
from personvern.core.checks import check_holders
from personvern.core.models import AuditEntry, ConsentEvent, Objection, Person
from personvern.newsletter import selectors, services
from personvern.newsletter.models import Interaction, Subscription, SubscriptionBasis
from personvern.retention.engine import retention_run

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)
TEXT = "newsletter-2026-1"


def _person(email: str = "kari@example.no") -> Person:
    return core.person_create(email=email, given_name="Kari", actor="test", now=T0)


def _subscribe_by_form(person: Person, now: datetime = T0) -> Subscription:
    return services.newsletter_subscribe(
        person=person, source="form", text_version=TEXT, actor="test", now=now
    )


def _recipient_ids(as_of: datetime) -> set[int]:
    return set(selectors.recipients(as_of=as_of).values_list("person_id", flat=True))


@pytest.mark.req("R17")
def test_form_subscription_rests_on_a_consent_in_the_ledger() -> None:
    person = _person()
    subscription = _subscribe_by_form(person)

    assert subscription.basis == SubscriptionBasis.CONSENT
    event = ConsentEvent.objects.get(person=person, scope="newsletter")
    assert (event.action, event.channel, event.text_version) == ("given", "form", TEXT)
    assert AuditEntry.objects.filter(action="newsletter.subscribed").count() == 1
    assert _recipient_ids(T0 + timedelta(minutes=1)) == {person.pk}


@pytest.mark.req("R17")
def test_consent_subscription_without_consent_text_is_refused_and_writes_nothing() -> None:
    person = _person()
    with pytest.raises(ValidationError, match="consent text"):
        services.newsletter_subscribe(person=person, source="form", actor="test", now=T0)
    assert not Subscription.objects.exists()
    assert not ConsentEvent.objects.exists()


@pytest.mark.req("R17")
def test_bar_association_member_receives_it_on_active_membership_only() -> None:
    person = _person()
    membership = core.membership_add(
        person=person, organisation="advokatforeningen", valid_from=date(2020, 1, 1), actor="t"
    )
    subscription = services.newsletter_subscribe(
        person=person,
        source="member-organisation",
        organisation="advokatforeningen",
        actor="test",
        now=T0,
    )
    assert subscription.basis == SubscriptionBasis.MEMBERSHIP
    assert not ConsentEvent.objects.filter(person=person).exists()
    assert _recipient_ids(T0 + timedelta(days=1)) == {person.pk}

    core.membership_end(membership=membership, valid_to=date(2026, 3, 31), actor="t")
    assert _recipient_ids(datetime(2026, 3, 31, 12, tzinfo=UTC)) == {person.pk}
    assert _recipient_ids(datetime(2026, 4, 1, 12, tzinfo=UTC)) == set()


@pytest.mark.req("R17")
def test_membership_basis_needs_an_active_membership() -> None:
    person = _person()
    with pytest.raises(ValidationError, match="no active membership"):
        services.newsletter_subscribe(
            person=person,
            source="member-organisation",
            organisation="advokatforeningen",
            actor="test",
            now=T0,
        )
    assert not Subscription.objects.exists()


@pytest.mark.req("R17")
def test_lawyers_association_members_subscribe_on_consent_collected_by_it() -> None:
    person = _person()
    subscription = services.newsletter_subscribe(
        person=person,
        source="member-organisation",
        organisation="juristforbundet",
        text_version=TEXT,
        actor="test",
        now=T0,
    )
    assert subscription.basis == SubscriptionBasis.CONSENT
    assert ConsentEvent.objects.get(person=person).channel == "juristforbundet"


@pytest.mark.req("R18")
def test_unsubscribe_link_ends_the_subscription_at_once() -> None:
    person = _person()
    subscription = _subscribe_by_form(person)
    token = selectors.unsubscribe_token(subscription)

    found = selectors.subscription_from_token(token)
    assert found == subscription
    assert selectors.subscription_from_token(token[:-2] + "xx") is None
    later = T0 + timedelta(days=3)
    services.newsletter_unsubscribe(subscription=found, channel="link", actor="link", now=later)

    subscription.refresh_from_db()
    assert (subscription.status, subscription.unsubscribed_at) == ("unsubscribed", later)
    assert _recipient_ids(later) == set()
    latest = ConsentEvent.objects.filter(person=person).order_by("-at").first()
    assert latest is not None and (latest.action, latest.channel) == ("withdrawn", "link")


@pytest.mark.req("R18")
def test_opt_out_relayed_from_the_bar_association_member_page_takes_effect() -> None:
    person = _person("advokat@example.no")
    core.membership_add(
        person=person, organisation="advokatforeningen", valid_from=date(2020, 1, 1), actor="t"
    )
    services.newsletter_subscribe(
        person=person,
        source="member-organisation",
        organisation="advokatforeningen",
        actor="test",
        now=T0,
    )
    later = T0 + timedelta(days=1)
    subscription = services.newsletter_unsubscribe_email(
        email="ADVOKAT@example.no", channel="advokatforeningen", actor="sync", now=later
    )

    assert subscription is not None and subscription.unsubscribe_channel == "advokatforeningen"
    assert _recipient_ids(later) == set()
    assert ConsentEvent.objects.get(person=person).channel == "advokatforeningen"
    # Repeating the opt-out, or one for an unknown address, changes nothing.
    services.newsletter_unsubscribe_email(
        email="advokat@example.no", channel="advokatforeningen", actor="sync", now=later
    )
    assert ConsentEvent.objects.filter(person=person).count() == 1
    assert (
        services.newsletter_unsubscribe_email(
            email="ukjent@example.no", channel="advokatforeningen", actor="sync"
        )
        is None
    )


@pytest.mark.req("R17")
def test_resubscribing_reuses_the_row_and_records_a_new_consent() -> None:
    person = _person()
    subscription = _subscribe_by_form(person)
    services.newsletter_unsubscribe(
        subscription=subscription, channel="link", actor="t", now=T0 + timedelta(days=1)
    )
    again = _subscribe_by_form(person, now=T0 + timedelta(days=2))

    assert again.pk == subscription.pk and again.unsubscribed_at is None
    assert [e.action for e in ConsentEvent.objects.order_by("at")] == [
        "given",
        "withdrawn",
        "given",
    ]
    assert _recipient_ids(T0 + timedelta(days=2, minutes=1)) == {person.pk}


@pytest.mark.req("R37")
def test_recipients_leave_out_persons_objecting_to_direct_marketing() -> None:
    keeps, objects = _person("a@example.no"), _person("b@example.no")
    _subscribe_by_form(keeps)
    _subscribe_by_form(objects)
    objection = core.objection_record(
        person=objects, activity=Objection.DIRECT_MARKETING, actor="t", now=T0 + timedelta(hours=1)
    )
    assert _recipient_ids(T0 + timedelta(hours=2)) == {keeps.pk}
    core.objection_lift(objection=objection, actor="t", now=T0 + timedelta(hours=3))
    assert _recipient_ids(T0 + timedelta(hours=4)) == {keeps.pk, objects.pk}


@pytest.mark.req("R36")
def test_recipients_leave_out_persons_under_restriction_and_nothing_is_tracked() -> None:
    keeps, restricted = _person("a@example.no"), _person("b@example.no")
    _subscribe_by_form(keeps)
    subscription = _subscribe_by_form(restricted)
    core.restriction_place(person=restricted, ground="a", actor="t", now=T0 + timedelta(hours=1))
    newsletter = services.newsletter_create(subject="Januar", actor="t")

    assert _recipient_ids(T0 + timedelta(hours=2)) == {keeps.pk}
    assert (
        services.interaction_record(
            subscription=subscription,
            newsletter=newsletter,
            kind="open",
            actor="pixel",
            now=T0 + timedelta(hours=2),
        )
        is None
    )
    assert not Interaction.objects.exists()


def test_recipients_is_one_query_whatever_the_number_of_subscribers(
    django_assert_num_queries: object,
) -> None:
    for n in range(5):
        _subscribe_by_form(_person(f"p{n}@example.no"))
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert len(list(selectors.recipients(as_of=T0 + timedelta(hours=1)))) == 5


@pytest.mark.req("R16")
def test_opens_and_link_clicks_are_recorded_for_active_subscribers_only() -> None:
    person = _person()
    subscription = _subscribe_by_form(person)
    newsletter = services.newsletter_create(subject="Januar", actor="t")
    services.newsletter_mark_sent(newsletter=newsletter, actor="t", now=T0 + timedelta(hours=1))
    assert newsletter.recipient_count == 1

    later = T0 + timedelta(hours=2)
    services.interaction_record(
        subscription=subscription, newsletter=newsletter, kind="open", actor="pixel", now=later
    )
    services.interaction_record(
        subscription=subscription,
        newsletter=newsletter,
        kind="click",
        url="https://jus.no/kurs/1",
        actor="redirect",
        now=later,
    )
    with pytest.raises(ValidationError, match="link"):
        services.interaction_record(
            subscription=subscription, newsletter=newsletter, kind="click", actor="redirect"
        )
    assert sorted(Interaction.objects.values_list("kind", "url")) == [
        ("click", "https://jus.no/kurs/1"),
        ("open", ""),
    ]

    services.newsletter_unsubscribe(
        subscription=subscription, channel="link", actor="t", now=T0 + timedelta(days=1)
    )
    assert (
        services.interaction_record(
            subscription=subscription,
            newsletter=newsletter,
            kind="open",
            actor="pixel",
            now=T0 + timedelta(days=2),
        )
        is None
    )
    assert Interaction.objects.count() == 2


@pytest.mark.req("R18")
@pytest.mark.req("R16")
def test_retention_deletes_subscription_and_interactions_after_unsubscribe_only() -> None:
    stays, leaves = _person("a@example.no"), _person("b@example.no")
    _subscribe_by_form(stays)
    subscription = _subscribe_by_form(leaves)
    newsletter = services.newsletter_create(subject="Januar", actor="t")
    services.interaction_record(
        subscription=subscription,
        newsletter=newsletter,
        kind="open",
        actor="p",
        now=T0 + timedelta(hours=1),
    )
    services.newsletter_unsubscribe(
        subscription=subscription,
        channel="link",
        actor="t",
        now=datetime(2026, 2, 1, 9, tzinfo=UTC),
    )

    # "Until you unsubscribe" (0d): the day of unsubscribing is kept, the next run deletes.
    retention_run(as_of=datetime(2026, 2, 1, 12, tzinfo=UTC))
    assert Subscription.objects.count() == 2

    retention_run(as_of=datetime(2026, 2, 2, 12, tzinfo=UTC))
    assert list(Subscription.objects.values_list("person_id", flat=True)) == [stays.pk]
    assert not Interaction.objects.exists()


def _member_subscription(email: str, *, ends: date | None) -> Subscription:
    person = _person(email)
    membership = core.membership_add(
        person=person, organisation="advokatforeningen", valid_from=date(2020, 1, 1), actor="t"
    )
    subscription = services.newsletter_subscribe(
        person=person, source="member-organisation", organisation="advokatforeningen",
        actor="test", now=T0,
    )
    newsletter = services.newsletter_create(subject=f"Til {email}", actor="t")
    for kind, url in (("open", ""), ("click", "https://jus.no/kurs/2")):
        services.interaction_record(subscription=subscription, newsletter=newsletter, kind=kind,
                                    url=url, actor="p", now=T0 + timedelta(hours=1))
    if ends is not None:
        core.membership_end(membership=membership, valid_to=ends, actor="t")
    return subscription


@pytest.mark.req("R16")
@pytest.mark.req("R17")
@pytest.mark.req("R31")
def test_a_subscription_whose_membership_basis_has_lapsed_falls_due_with_its_interactions() -> None:
    # Issue 7, defect 3.15: no longer mailed, but kept for ever with its opens and clicks.
    lapsed = _member_subscription("slutt@example.no", ends=date(2026, 3, 31))
    active = _member_subscription("aktiv@example.no", ends=None)
    renewed = _member_subscription("fornyet@example.no", ends=date(2026, 3, 31))
    core.membership_add(person=renewed.person, organisation="advokatforeningen",
                        valid_from=date(2026, 4, 1), actor="t")
    consented = _member_subscription("samtykke@example.no", ends=date(2026, 3, 31))
    core.consent_record(person=consented.person, scope="newsletter", action="given",
                        channel="form", text_version=TEXT, actor="t",
                        now=datetime(2026, 3, 20, tzinfo=UTC))
    assert Interaction.objects.filter(subscription=lapsed).count() == 2

    # The last day of the membership is kept; the run the day after deletes.
    retention_run(as_of=datetime(2026, 3, 31, 12, tzinfo=UTC))
    assert Subscription.objects.count() == 4
    report = retention_run(as_of=datetime(2026, 4, 1, 12, tzinfo=UTC))

    assert {x.holder: x.count for x in report.lines if x.rule == "membership-basis"} == {
        "newsletter.Interaction": 2, "newsletter.Subscription": 1, "newsletter.OptOut": 0
    }
    kept = set(Subscription.objects.values_list("pk", flat=True))
    assert kept == {active.pk, renewed.pk, consented.pk}
    assert not Interaction.objects.filter(subscription_id=lapsed.pk).exists()
    assert Interaction.objects.count() == 6
    # A membership that ends in the future keeps the subscription until then.
    core.membership_end(membership=active.person.memberships.get(), valid_to=date(2027, 6, 30),
                        actor="t")
    retention_run(as_of=datetime(2027, 6, 30, 12, tzinfo=UTC))
    assert Subscription.objects.filter(pk=active.pk).exists()
    retention_run(as_of=datetime(2027, 7, 1, 12, tzinfo=UTC))
    assert not Subscription.objects.filter(pk=active.pk).exists()


def test_newsletter_holders_pass_the_system_check() -> None:
    problems = [
        e
        for e in check_holders()
        if e.obj in (Subscription, Interaction) or "'newsletter'" in e.msg
    ]
    assert problems == []
    # ... and the retention engine accepts every (rule, holder) target of the activity.
    report = retention_run(as_of=datetime(2030, 1, 1, tzinfo=UTC), dry_run=True)
    assert [r for r in report.refused if r.activity == "newsletter"] == []


@pytest.mark.req("R38")
@pytest.mark.req("R33")
def test_subscription_is_in_access_report_and_portable_but_inquiries_are_not_portable() -> None:
    from personvern.inquiries.services import inquiry_receive
    from personvern.rights.engine import access_report, portability_export

    person = _person()
    _subscribe_by_form(person)
    inquiry_receive(
        email="kari@example.no", subject="Kurs", message="Hei", channel="web", actor="site"
    )

    report = access_report(person, lang="en")
    assert report.data["newsletter"]["newsletter.Subscription"]
    assert report.data["inquiries"]["inquiries.Inquiry"]
    exported = portability_export(person)["data"]
    assert "newsletter.Subscription" in exported["newsletter"]
    assert "inquiries" not in exported  # legitimate interest: Art. 20 does not apply


def test_refusals_are_in_norwegian_when_nb_is_active() -> None:
    person = _person()
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            services.newsletter_subscribe(person=person, source="form", actor="test", now=T0)
        assert exc.value.message_dict["text_version"] == [
            "Et abonnement basert på samtykke må angi samtykketeksten."
        ]
        with pytest.raises(ValidationError) as exc:
            services.newsletter_create(subject=" ", actor="test")
        assert exc.value.message_dict["subject"] == ["Et nyhetsbrev må ha et emne."]
