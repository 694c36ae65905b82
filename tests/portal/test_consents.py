"""Newsletter and consents on Min side: each withdrawable in one step, recorded in the ledger."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from personvern.core.models import AuditEntry, ConsentEvent, Membership, Person
from personvern.core.selectors import has_consent
from personvern.core.services import consent_record, membership_add
from personvern.newsletter import services as newsletter
from personvern.newsletter.models import Subscription
from personvern.portal.auth import SELF_ACTOR
from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db


def _main(client: Client) -> str:
    html = client.get("/me/", headers={"accept-language": "en"}).content.decode()
    return html[html.index("<main"):html.index("</main>")]


@pytest.mark.req("R18")
@pytest.mark.req("R16")
def test_a_consent_based_subscription_shows_its_basis_and_ends_in_one_step(
    client: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person()
    subscription = newsletter.newsletter_subscribe(
        person=person, source="form", text_version="v1", actor="t"
    )
    sign_in(client, person)
    html = _main(client)
    assert "You receive our newsletter" in html
    assert "Basis: your consent, given" in html

    response = client.post("/me/newsletter/unsubscribe/")
    assert response.status_code == 302
    assert response["Location"] == "/me/#newsletter.consents"
    subscription.refresh_from_db()
    assert (subscription.status, subscription.unsubscribe_channel) == ("unsubscribed", "portal")
    latest = ConsentEvent.objects.filter(person=person, scope="newsletter").latest("at", "pk")
    assert (latest.action, latest.channel) == ("withdrawn", "portal")
    assert AuditEntry.objects.filter(
        action="consent.withdrawn", actor=SELF_ACTOR
    ).exists()
    assert "You unsubscribed on" in _main(client)


@pytest.mark.req("R17")
def test_a_membership_subscription_says_so_and_can_be_stopped(
    client: Client, make_person: Callable[..., Person]
) -> None:
    from datetime import date

    person = make_person()
    membership_add(person=person, organisation="advokatforeningen", valid_from=date(2020, 1, 1),
                   actor="t")
    assert Membership.objects.filter(person=person).exists()
    newsletter.newsletter_subscribe(
        person=person, source="member-organisation", organisation="advokatforeningen", actor="t"
    )
    sign_in(client, person)
    html = _main(client)
    assert "Basis: your membership of" in html
    client.post("/me/newsletter/unsubscribe/")
    assert Subscription.objects.get(person=person).status == "unsubscribed"


@pytest.mark.req("R29")
def test_another_consent_is_withdrawn_in_one_step(
    client: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person()
    consent_record(person=person, scope="web-analytics-consent", action="given",
                   channel="test", text_version="t1", actor="t")
    sign_in(client, person)
    html = _main(client)
    assert "Web analytics with consent" in html
    assert "/me/newsletter/consents/web-analytics-consent/withdraw/" in html
    client.post("/me/newsletter/consents/web-analytics-consent/withdraw/")
    assert not has_consent(person, "web-analytics-consent")
    event = ConsentEvent.objects.filter(person=person).latest("at", "pk")
    assert (event.action, event.channel) == ("withdrawn", "portal")
    html = _main(client)
    assert "withdrawn" in html
    assert "/withdraw/" not in html
    # Withdrawing twice adds nothing to the ledger.
    client.post("/me/newsletter/consents/web-analytics-consent/withdraw/")
    assert ConsentEvent.objects.filter(person=person).count() == 2


def test_withdrawing_needs_a_post_and_a_signed_in_person(
    client: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person()
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    assert client.post("/me/newsletter/unsubscribe/").status_code == 302  # to sign-in
    assert Subscription.objects.get(person=person).status == "active"
    sign_in(client, person)
    assert client.get("/me/newsletter/unsubscribe/").status_code == 405
    assert Subscription.objects.get(person=person).status == "active"


def test_one_person_cannot_withdraw_another_persons_consent(
    client: Client, make_person: Callable[..., Person]
) -> None:
    kari, ola = make_person(), make_person()
    newsletter.newsletter_subscribe(person=kari, source="form", text_version="v1", actor="t")
    sign_in(client, ola)
    client.post("/me/newsletter/unsubscribe/")
    assert Subscription.objects.get(person=kari).status == "active"
