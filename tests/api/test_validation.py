"""Bad input gets a 4xx naming the field, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from personvern.core.models import Person
from personvern.rights.models import Request
from tests.api.test_requests import create_body, post_json

pytestmark = pytest.mark.django_db


def _locations(response: Any) -> list[str]:
    return [".".join(str(p) for p in error["loc"]) for error in response.json()["detail"]]


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject_request_type": "deletion"}, "subject_request_type"),
        ({"subject_request_type": None}, "subject_request_type"),
        (
            {"subject_identities": [{"identity_type": "email", "identity_value": "not-an-email"}]},
            "subject_identities.0.identity_value",
        ),
        (
            {"subject_identities": [{"identity_type": "phone", "identity_value": "+4799999999"}]},
            "subject_identities.0.identity_type",
        ),
        (
            {
                "subject_identities": [
                    {"identity_type": "email", "identity_value": "x@example.no",
                     "identity_format": "sha256"}
                ]
            },
            "subject_identities.0.identity_format",
        ),
        ({"subject_identities": []}, "subject_identities"),
        ({"submitted_time": "2025-03-05T14:30:00"}, "submitted_time"),
        ({"submitted_time": "yesterday"}, "submitted_time"),
        ({"channel": "pigeon"}, "channel"),
        ({"notes": "x" * 10_001}, "notes"),
    ],
)
def test_invalid_create_input_is_422_naming_the_field(
    api_client: Client, overrides: dict[str, Any], field: str
) -> None:
    response = post_json(api_client, "/api/requests", create_body(**overrides))

    assert response.status_code == 422, response.content
    assert any(loc.endswith(field) for loc in _locations(response)), response.json()
    assert not Request.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.req("R32")
def test_submitted_time_in_the_future_is_refused(api_client: Client) -> None:
    future = (timezone.now() + timedelta(days=2)).isoformat()

    response = post_json(api_client, "/api/requests", create_body(submitted_time=future))

    assert response.status_code == 422
    assert _locations(response) == ["body.submitted_time"]
    assert "future" in response.json()["detail"][0]["msg"]
    assert not Request.objects.exists()
    assert not Person.objects.exists()  # nothing half-created


@pytest.mark.req("R32")
def test_missing_field_and_broken_json_are_422(api_client: Client) -> None:
    body = create_body()
    del body["subject_identities"]

    missing = post_json(api_client, "/api/requests", body)
    broken = api_client.post("/api/requests", data="{not json", content_type="application/json")

    assert missing.status_code == 422
    assert any(loc.endswith("subject_identities") for loc in _locations(missing))
    assert broken.status_code == 400
    assert broken.json()["detail"] == "Cannot parse request body"


@pytest.mark.req("R32")
def test_unknown_and_malformed_ids(api_client: Client) -> None:
    unknown = "8c3bb4a5-4b0e-4c1f-9d7e-3f6f0b1f2a11"

    for url in (f"/api/requests/{unknown}", f"/api/requests/{unknown}/bundle"):
        response = api_client.get(url)
        assert response.status_code == 404, url
        assert unknown in response.json()["detail"]
    cancel = post_json(api_client, f"/api/requests/{unknown}/cancel", {})
    assert cancel.status_code == 404

    malformed = api_client.get("/api/requests/not-a-uuid")
    assert malformed.status_code == 422
    assert _locations(malformed) == ["path.request_id"]


@pytest.mark.req("R40")
@pytest.mark.parametrize(
    "query",
    [{"status": "open"}, {"overdue": "maybe"}, {"limit": "0"}, {"due_within_days": "-1"}],
)
def test_invalid_list_filters_are_422(api_client: Client, query: dict[str, str]) -> None:
    response = api_client.get("/api/requests", query)

    assert response.status_code == 422
    assert _locations(response) == [f"query.{next(iter(query))}"]


def test_bundle_language_must_be_nb_or_en(api_client: Client) -> None:
    response = api_client.get(
        "/api/requests/8c3bb4a5-4b0e-4c1f-9d7e-3f6f0b1f2a11/bundle", {"lang": "de"}
    )

    assert response.status_code == 422
    assert _locations(response) == ["query.lang"]
    assert json.loads(response.content)  # a JSON body, not an HTML error page


def test_messages_follow_the_clients_language(token: str) -> None:
    client = Client(headers={"Authorization": f"Bearer {token}", "Accept-Language": "nb"})

    response = client.get("/api/requests/8c3bb4a5-4b0e-4c1f-9d7e-3f6f0b1f2a11")

    assert response.status_code == 404
    assert response.json()["detail"].startswith("Ingen henvendelse har ID-en")
