"""Staff token authentication and permissions; no cookie-based access (no CSRF hole)."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from personvern.api.models import ApiToken
from personvern.api.services import api_token_create, api_token_revoke
from personvern.core.models import AuditEntry
from personvern.rights.models import Request
from tests.api.conftest import make_staff, token_client
from tests.api.test_requests import create_body, post_json

pytestmark = pytest.mark.django_db


@pytest.mark.req("R40")
def test_token_is_stored_hashed_and_shown_once(staff: User) -> None:
    token, plain = api_token_create(user=staff, name="crm", actor="test")

    row = ApiToken.objects.get(pk=token.pk)
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert AuditEntry.objects.filter(action="api.token_created").count() == 1
    with pytest.raises(ValidationError):
        api_token_create(user=staff, name="crm", actor="test")  # names are unique per user


@pytest.mark.req("R40")
def test_only_staff_get_tokens(db: None) -> None:
    outsider = make_staff("outsider", "view_request", is_staff=False)

    with pytest.raises(ValidationError) as excinfo:
        api_token_create(user=outsider, name="x", actor="test")

    assert "user" in excinfo.value.message_dict
    assert not ApiToken.objects.exists()


@pytest.mark.req("R40")
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz"])
def test_missing_or_wrong_token_is_401(token: str, header: str | None) -> None:
    client = Client(headers={"Authorization": header} if header else {})

    response = client.get("/api/requests")

    assert response.status_code == 401


@pytest.mark.req("R40")
def test_revoked_token_and_deactivated_user_stop_working(staff: User, token: str) -> None:
    client = token_client(token)
    assert client.get("/api/requests").status_code == 200

    row = ApiToken.objects.get(user=staff)
    assert row.last_used_at is not None
    staff.is_active = False
    staff.save()
    assert client.get("/api/requests").status_code == 401
    staff.is_active = True
    staff.save()
    api_token_revoke(token=row, actor="test")
    assert client.get("/api/requests").status_code == 401


@pytest.mark.req("R40")
def test_staff_without_rights_permission_is_403(db: None) -> None:
    reader = make_staff("reader", "view_request")
    _row, plain = api_token_create(user=reader, name="r", actor="test")
    client = token_client(plain)

    assert client.get("/api/requests").status_code == 200
    refused = post_json(client, "/api/requests", create_body())
    assert refused.status_code == 403
    assert "rights.add_request" in refused.json()["detail"]
    assert not Request.objects.exists()

    nobody = make_staff("nobody")
    _row, plain = api_token_create(user=nobody, name="n", actor="test")
    assert token_client(plain).get("/api/requests").status_code == 403


@pytest.mark.req("R40")
def test_a_logged_in_session_is_not_an_api_credential(staff: User) -> None:
    # A browser logged in to the back office must not be able to call the API:
    # otherwise another site could make it POST (CSRF). Only the bearer token counts.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)

    created = post_json(browser, "/api/requests", create_body())
    listed = browser.get("/api/requests")

    assert created.status_code == 401
    assert listed.status_code == 401
    assert not Request.objects.exists()


@pytest.mark.req("R40")
def test_token_calls_need_no_csrf_token(token: str) -> None:
    client = Client(
        enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"}
    )

    response = post_json(client, "/api/requests", create_body())

    assert response.status_code == 201


@pytest.mark.req("R40")
def test_admin_revokes_tokens_through_the_service(staff: User, token: str) -> None:
    admin = User.objects.create_superuser("root", password=None)
    browser = Client()
    browser.force_login(admin)
    row = ApiToken.objects.get(user=staff)

    listing = browser.get("/admin/api/apitoken/")
    response = browser.post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}
    )

    assert listing.status_code == 200
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert AuditEntry.objects.filter(action="api.token_revoked", actor="staff:root").exists()
    assert token_client(token).get("/api/requests").status_code == 401
    assert token not in listing.content.decode()


def test_token_refusals_are_in_norwegian_when_nb_is_active(db: None) -> None:
    outsider = make_staff("outsider", "view_request", is_staff=False)
    with translation.override("nb"), pytest.raises(ValidationError) as excinfo:
        api_token_create(user=outsider, name="x", actor="test")
    with translation.override("nb"):
        assert excinfo.value.message_dict["user"] == [
            "Bare aktive brukere med tilgang til administrasjonen kan ha API-nøkler."
        ]
    with translation.override("en"):  # the message follows the language it is read in
        assert excinfo.value.message_dict["user"] == [
            "Only active staff users can have API tokens."
        ]
