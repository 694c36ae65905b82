"""The public sign-up form with double opt-in (R16, R17, R18; docs/decisions/0022).

The form stores nothing and answers every address alike; the mailed link
carries the sign-up, signed and expiring; confirming subscribes, with the
consent text version in the ledger, or on the basis of an Advokatforeningen
membership, which the page and the mail name.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from personvern.core import services as core
from personvern.core.models import AuditEntry, ConsentEvent, EmailIdentity, Person
from personvern.newsletter import services
from personvern.newsletter.models import Subscription, SubscriptionBasis
from personvern.worker.outbox import OutgoingMail

pytestmark = pytest.mark.django_db
URL = "/newsletter/subscribe/"
LINK = re.compile(r"https?://\S+/newsletter/confirm/\S+/")


def _client(lang: str = "en", ip: str = "127.0.0.1") -> Client:
    return Client(REMOTE_ADDR=ip, headers={"Accept-Language": lang})


def _post(data: dict[str, str], lang: str = "en") -> Any:
    return _client(lang).post(URL, data)


def _page(response: Any) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def _link(body: str) -> str:
    match = LINK.search(body)
    assert match, body
    return "/newsletter/" + match.group(0).split("/newsletter/", 1)[1]


def _member(email: str, organisation: str) -> Person:
    person = core.person_create(email=email, given_name="Ola", actor="t")
    core.membership_add(person=person, organisation=organisation,
                        valid_from=date(2020, 1, 1), actor="t")
    return person


def _rows() -> tuple[int, int, int]:
    return Person.objects.count(), Subscription.objects.count(), ConsentEvent.objects.count()


@pytest.mark.req("R17")
def test_the_form_shows_the_consent_text_and_the_member_bases() -> None:
    html = " ".join(_client().get(URL).content.decode().split())
    assert str(services.CONSENT_TEXTS[services.CONSENT_TEXT_VERSION]) in html
    assert "member of Advokatforeningen, you receive the newsletter because you are" in html
    nb = " ".join(_client("nb").get(URL).content.decode().split())
    assert "Abonner på nyhetsbrevet" in nb


@pytest.mark.req("R17")
def test_signing_up_stores_nothing_until_the_link_is_confirmed(smtp_server: Any) -> None:
    response = _post({"email": "Kari@Example.no", "given_name": "Kari", "family_name": ""})
    assert (response.status_code, response["Location"]) == (302, "/newsletter/subscribe/sent/")
    assert _rows() == (0, 0, 0)
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["kari@example.no"]
    assert mail.message["Subject"] == "Confirm your newsletter subscription"
    assert "By confirming you agree to this:" in mail.body
    link = _link(mail.body)

    page = _client().get(link)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200
    assert "Confirm subscription" in page.content.decode()
    assert _rows() == (0, 0, 0)

    done = _client().post(link)
    assert done.status_code == 200
    assert "You are subscribed" in done.content.decode()
    person = Person.objects.get()
    assert person.given_name == "Kari"
    assert EmailIdentity.objects.get(person=person).verified_at is not None
    subscription = Subscription.objects.get(person=person)
    assert (subscription.status, subscription.basis, subscription.source) == (
        "active", SubscriptionBasis.CONSENT, "form")
    event = ConsentEvent.objects.get(person=person, scope="newsletter")
    assert (event.action, event.channel, event.text_version) == (
        "given", "form", services.CONSENT_TEXT_VERSION)

    again = _client().post(link)  # confirming twice changes nothing
    assert again.status_code == 200
    assert ConsentEvent.objects.count() == 1


@pytest.mark.req("R17")
def test_the_answer_is_the_same_for_unknown_known_subscribed_and_member_addresses(
    smtp_server: Any,
) -> None:
    known = core.person_create(email="known@example.no", actor="t")
    subscribed = core.person_create(email="subscribed@example.no", actor="t")
    services.newsletter_subscribe(person=subscribed, source="form", text_version="v1", actor="t")
    _member("advokat@example.no", "advokatforeningen")
    addresses = ["new@example.no", "known@example.no", "subscribed@example.no",
                 "advokat@example.no", "new@example.no"]  # the last: over the per-address limit
    responses = [_post({"email": address}) for address in addresses]
    answers = {(r.status_code, r["Location"]) for r in responses}
    assert answers == {(302, "/newsletter/subscribe/sent/")}
    pages = {_page(_client().get(r["Location"])) for r in responses}
    assert len(pages) == 1
    assert not Subscription.objects.filter(person=known).exists()

    mails = {m.rcpt_tos[0]: m for m in smtp_server.wait_for(4)}
    assert len(smtp_server.messages) == 4  # one mail to new@, not two
    assert mails["subscribed@example.no"].message["Subject"] == "You already receive our newsletter"
    assert not LINK.search(mails["subscribed@example.no"].body)
    assert "active membership" in mails["advokat@example.no"].body
    assert "active membership" not in mails["new@example.no"].body


@pytest.mark.req("R17")
def test_a_bar_association_member_is_told_the_basis_and_no_consent_is_recorded(
    smtp_server: Any,
) -> None:
    member = _member("advokat@example.no", "advokatforeningen")
    _post({"email": "advokat@example.no"})
    [mail] = smtp_server.wait_for(1)
    assert "You are a member of Advokatforeningen" in mail.body
    link = _link(mail.body)
    page = _client().get(link).content.decode()
    assert "because of your active membership" in page
    assert "What you agree to" not in page
    assert "Du er medlem av Advokatforeningen" in _client("nb").get(link).content.decode()

    assert "because of your active membership" in _client().post(link).content.decode()
    subscription = Subscription.objects.get(person=member)
    assert (subscription.basis, subscription.organisation, subscription.source) == (
        SubscriptionBasis.MEMBERSHIP, "advokatforeningen", "form")
    assert not ConsentEvent.objects.filter(person=member).exists()


@pytest.mark.req("R17")
def test_a_juristforbundet_member_consents_and_is_told_so(smtp_server: Any) -> None:
    member = _member("jurist@example.no", "juristforbundet")
    _post({"email": "jurist@example.no"})
    link = _link(smtp_server.wait_for(1)[0].body)
    assert "You are a member of Juristforbundet" in _client().get(link).content.decode()
    _client().post(link)
    assert Subscription.objects.get(person=member).basis == SubscriptionBasis.CONSENT
    assert ConsentEvent.objects.get(person=member).text_version == services.CONSENT_TEXT_VERSION


@pytest.mark.req("R17")
@pytest.mark.parametrize("data", [
    {"email": ""},
    {"email": "not an address"},
    {"email": "kari@"},
    {"email": "kari@example.no", "given_name": "x" * 151},
])
def test_bad_input_gets_a_message_next_to_the_field_and_sends_nothing(
    data: dict[str, str],
) -> None:
    response = _post(data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert "errorlist" in html
    assert _rows() == (0, 0, 0)
    assert OutgoingMail.objects.count() == 0


@pytest.mark.req("R17")
def test_a_forged_or_cut_link_fails_clearly_and_subscribes_no_one(smtp_server: Any) -> None:
    _post({"email": "kari@example.no"})
    link = _link(smtp_server.wait_for(1)[0].body)
    forged = signing.dumps(
        {"e": "kari@example.no", "g": "", "f": "", "v": services.CONSENT_TEXT_VERSION,
         "i": int(time.time())},
        salt="personvern.newsletter.unsubscribe",  # another purpose's token
    )
    for bad in (link[:-6] + "/", f"/newsletter/confirm/{forged}/"):
        for method in ("get", "post"):
            response = getattr(_client(), method)(bad)
            assert response.status_code == 404
            assert "The link is not valid" in response.content.decode()
    assert _rows() == (0, 0, 0)


@pytest.mark.req("R17")
def test_an_expired_link_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    long_ago = time.time() - services.CONFIRMATION_MAX_AGE.total_seconds() - 60
    monkeypatch.setattr(signing.time, "time", lambda: long_ago)
    token = services.signup_token(services.SignUp(
        email="kari@example.no", given_name="", family_name="",
        text_version=services.CONSENT_TEXT_VERSION,
        issued_at=timezone.now() - services.CONFIRMATION_MAX_AGE - timedelta(minutes=1),
    ))
    monkeypatch.undo()
    for method in ("get", "post"):
        response = getattr(_client(), method)(f"/newsletter/confirm/{token}/")
        assert response.status_code == 410
        assert "The link has expired" in response.content.decode()
    assert _rows() == (0, 0, 0)


@pytest.mark.req("R18")
def test_an_old_link_does_not_undo_a_later_unsubscribe(smtp_server: Any) -> None:
    _post({"email": "kari@example.no"})
    link = _link(smtp_server.wait_for(1)[0].body)
    _client().post(link)
    subscription = Subscription.objects.get()
    services.newsletter_unsubscribe(subscription=subscription, channel="link", actor="t",
                                    now=timezone.now() + timedelta(seconds=2))
    response = _client().post(link)
    assert response.status_code == 410
    assert "The link no longer works" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"


@pytest.mark.req("R17")
def test_the_form_is_rate_limited_per_client() -> None:
    rates = {**settings.RATELIMIT_RATES, "newsletter-subscribe": "2/h"}
    with override_settings(RATELIMIT_RATES=rates):
        codes = [_post({"email": f"k{n}@example.no"}).status_code for n in range(3)]
        assert codes == [302, 302, 429]
        assert _client(ip="192.0.2.9").post(URL, {"email": "x@example.no"}).status_code == 302


@pytest.mark.req("R17")
def test_the_sign_up_writes_only_an_audit_entry_without_the_address(smtp_server: Any) -> None:
    _post({"email": "kari@example.no", "given_name": "Kari"})
    entry = AuditEntry.objects.get(action="newsletter.signup_link_sent")
    assert "kari" not in f"{entry.data} {entry.personal} {entry.subject}".lower()
    assert entry.subject == ""  # an unknown address: no person, no pseudonym
