"""The member organisations' feeds over the API (R3, R14, R17, R18; ADR 0023)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from personvern.api.services import api_token_create
from personvern.core import services as core
from personvern.core.models import Membership, Person
from personvern.newsletter import services as newsletter
from personvern.newsletter.models import Subscription

pytestmark = pytest.mark.django_db

AV = "advokatforeningen"
FEED = f"/api/members/{AV}/feed"
OPT_OUTS = f"/api/members/{AV}/opt-outs"


def _client(*codenames: str, username: str = "feed") -> Client:
    user = User.objects.create_user(username=username, password=None, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="core", codename__in=codenames)
    )
    _row, plain = api_token_create(user=user, name="feed", actor="test")
    return Client(headers={"Authorization": f"Bearer {plain}", "Accept-Language": "en"})


@pytest.fixture
def bar() -> Client:
    return _client(f"feed_{AV}", username="advokatforeningen-feed")


def _post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, body, content_type="application/json")


MEMBERS = [
    {"member_id": "1", "email": "ola@example.no", "given_name": "Ola",
     "family_name": "Nordmann", "member_from": "2020-01-01"},
    {"member_id": "2", "email": "kari@example.no", "member_from": "2019-01-01",
     "member_to": None},
]


@pytest.mark.req("R14")
def test_the_organisation_pushes_its_members_and_a_repeat_changes_nothing(bar: Client) -> None:
    response = _post(bar, FEED, {"members": MEMBERS})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["started"] == 2 and body["persons_created"] == 2
    assert body["organisation"] == AV and body["nothing_changed"] is False
    assert Membership.objects.filter(organisation=AV).count() == 2
    again = _post(bar, FEED, {"members": MEMBERS}).json()
    assert again["unchanged"] == 2 and again["nothing_changed"] is True


@pytest.mark.req("R14")
def test_a_full_feed_ends_the_missing_member_on_its_date(bar: Client) -> None:
    _post(bar, FEED, {"members": MEMBERS})
    body = _post(bar, FEED, {"members": MEMBERS[:1], "full": True, "as_of": "2026-10-31"}).json()
    assert body["ended"] == 1 and body["full"] is True
    assert Membership.objects.get(member_id="2").valid_to == date(2026, 10, 31)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"member_id": "3", "email": "x@example.no", "member_from": "not a date"}, "member_from"),
        ({"member_id": "3", "email": "not an address", "member_from": "2020-01-01"}, "email"),
        ({"member_id": "1", "email": "y@example.no", "member_from": "2020-01-01"}, "member_id"),
        ({"member_id": "3", "email": "x@example.no", "member_from": "2020-01-01",
          "member_to": "2019-01-01"}, "member_to"),
        ({"email": "x@example.no", "member_from": "2020-01-01"}, "member_id"),
    ],
)
def test_bad_input_is_422_naming_the_item_and_field_and_nothing_is_written(
    bar: Client, item: dict[str, Any], field: str
) -> None:
    response = _post(bar, FEED, {"members": [*MEMBERS, item]})
    assert response.status_code == 422, response.content
    locations = [e["loc"] for e in response.json()["detail"]]
    assert any(loc[-2:] == [2, field] for loc in locations), locations
    assert Person.objects.count() == 0 and Membership.objects.count() == 0


def test_no_token_is_401(client: Client) -> None:
    response = client.post(FEED, {"members": MEMBERS}, content_type="application/json")
    assert response.status_code == 401
    assert Membership.objects.count() == 0


@pytest.mark.req("R3")
def test_a_token_of_one_organisation_cannot_touch_the_other(bar: Client) -> None:
    response = _post(bar, "/api/members/juristforbundet/feed", {"members": MEMBERS})
    assert response.status_code == 403
    assert "core.feed_juristforbundet" in response.json()["detail"]
    response = _post(bar, "/api/members/juristforbundet/opt-outs",
                     {"opt_outs": [{"email": "ola@example.no"}]})
    assert response.status_code == 403
    assert Membership.objects.count() == 0


def test_staff_without_the_feed_permission_is_403() -> None:
    # A course administrator's permissions (add/change memberships) are not a feed.
    staff = _client("add_membership", "change_membership", "view_membership")
    assert _post(staff, FEED, {"members": MEMBERS}).status_code == 403
    assert Membership.objects.count() == 0


def test_an_unknown_organisation_is_422(bar: Client) -> None:
    assert _post(bar, "/api/members/elsewhere/feed", {"members": MEMBERS}).status_code == 422


@pytest.mark.req("R18")
def test_opt_outs_take_effect_at_once_and_a_repeat_says_so(bar: Client) -> None:
    _post(bar, FEED, {"members": MEMBERS})
    ola = Person.objects.get(emails__address="ola@example.no")
    newsletter.newsletter_subscribe(person=ola, source="member-organisation", organisation=AV,
                                    actor="t")
    body = {"opt_outs": [{"member_id": "1"}, {"email": "nobody@example.no"}]}
    answer = _post(bar, OPT_OUTS, body).json()
    assert answer["unsubscribed"] == 1 and answer["unknown"] == [1]
    subscription = Subscription.objects.get(person=ola)
    assert subscription.status == "unsubscribed"
    assert subscription.unsubscribe_channel == "advokatforeningen-member-page"
    repeat = _post(bar, OPT_OUTS, body).json()
    assert repeat["already_unsubscribed"] == 1 and repeat["nothing_changed"] is True


@pytest.mark.req("R18")
def test_an_organisations_token_cannot_opt_out_or_probe_a_person_not_its_member(
    bar: Client,
) -> None:
    """The token touches its organisation only: a consent subscriber who is not its
    member stays subscribed and is reported exactly as an address we do not know."""
    person = core.person_create(email="reader@example.no", actor="t")
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    known = _post(bar, OPT_OUTS, {"opt_outs": [{"email": "reader@example.no"}]}).json()
    stranger = _post(bar, OPT_OUTS, {"opt_outs": [{"email": "nobody@example.no"}]}).json()
    assert known == stranger
    assert known["unknown"] == [0] and known["unsubscribed"] == 0
    assert Subscription.objects.get(person=person).status == "active"


@pytest.mark.req("R18")
def test_a_bad_opt_out_is_422_with_its_index(bar: Client) -> None:
    person = core.person_create(email="a@example.no", actor="t")
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    body = {"opt_outs": [{"email": "a@example.no"}, {"email": "bad", "member_id": "2"}]}
    response = _post(bar, OPT_OUTS, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "opt_outs", 1, "email"]
    assert Subscription.objects.get(person=person).status == "active"


@pytest.mark.req("R3")
def test_the_token_command_makes_a_token_for_one_organisation_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.members.conftest import run

    assert run("members", "token", "--organisation", AV) == 0
    plain = capsys.readouterr().out.strip()
    user = User.objects.get(username="feed-advokatforeningen")
    assert not user.has_usable_password()
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert _post(client, FEED, {"members": MEMBERS}).status_code == 200
    assert _post(client, "/api/members/juristforbundet/feed",
                 {"members": MEMBERS}).status_code == 403
    # The user holds no other permission: the requests API is closed to it.
    assert client.get("/api/requests").status_code == 403


def test_a_full_feed_without_members_is_422_on_full(bar: Client) -> None:
    _post(bar, FEED, {"members": MEMBERS})
    response = _post(bar, FEED, {"members": [], "full": True})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "full"]
    assert not Membership.objects.filter(valid_to__isnull=False).exists()


@pytest.mark.req("R14")
def test_a_feed_the_size_of_a_large_register_is_read_and_checked_whole(bar: Client) -> None:
    """25,000 members (about 3 MB of JSON) are more than Django reads by default (2.5 MB):
    the body is read and every item checked; one bad item refuses the feed by its index."""
    members = [
        {"member_id": str(i), "email": f"medlem{i}@example.no", "given_name": "Ola",
         "family_name": f"Nordmann{i}", "member_from": "2020-01-01"}
        for i in range(25_000)
    ]
    members[-1]["member_from"] = "2020-13-01"
    response = _post(bar, FEED, {"members": members})
    assert response.status_code == 422, response.content[:200]
    assert response.json()["detail"][0]["loc"][-2:] == [24_999, "member_from"]
    assert not Membership.objects.exists()


def test_a_feed_dated_after_today_is_refused(bar: Client) -> None:
    response = _post(bar, FEED, {"members": MEMBERS, "full": True, "as_of": "2999-01-01"})
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"][-1] == "as_of"
    assert not Membership.objects.exists()
