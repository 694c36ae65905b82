"""NUL bytes, over-long text and out-of-range numbers are 4xx on both databases (issue 7, 3.2).

PostgreSQL refuses a NUL byte in text and SQLite stores it; the API refuses it
before either sees it, so no request and no person is written.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from personvern.core.models import Person
from personvern.rights import services as rights
from personvern.rights.models import Channel, Request, RequestStatus, RequestType
from tests.api.test_requests import create_body, post_json

pytestmark = pytest.mark.django_db


def _locations(response: Any) -> list[str]:
    return [".".join(str(p) for p in error["loc"]) for error in response.json()["detail"]]


def _identity(value: str) -> dict[str, Any]:
    return {"subject_identities": [{"identity_type": "email", "identity_value": value}]}


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"notes": "Asked by phone\x00"}, "notes"),
        ({"notes": "x" * 10_001}, "notes"),
        (_identity("kari\x00@example.no"), "identity_value"),
        (_identity("kari@exam\x00ple.no"), "identity_value"),
        (_identity(""), "identity_value"),
        (_identity("k" * 250 + "@example.no"), "identity_value"),
    ],
)
def test_create_refuses_nul_and_over_long_text(
    api_client: Client, overrides: dict[str, Any], field: str
) -> None:
    response = post_json(api_client, "/api/requests", create_body(**overrides))

    assert response.status_code == 422, response.content
    assert any(loc.endswith(field) for loc in _locations(response)), response.json()
    assert not Request.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.req("R32")
@pytest.mark.parametrize("reason", ["duplicate\x00", "x" * 2_001])
def test_cancel_refuses_nul_and_over_long_reason(api_client: Client, reason: str) -> None:
    row = rights.request_create(
        type=RequestType.ACCESS, email="kari@example.no", channel=Channel.EMAIL,
        received_at=timezone.now(), actor="test", notes="first note",
    )

    response = post_json(api_client, f"/api/requests/{row.public_id}/cancel", {"reason": reason})

    assert response.status_code == 422, response.content
    assert any(loc.endswith("reason") for loc in _locations(response)), response.json()
    row.refresh_from_db()
    assert row.status == RequestStatus.PENDING
    assert row.notes == "first note"


@pytest.mark.req("R40")
@pytest.mark.parametrize(
    "query",
    [
        {"offset": "9223372036854775808"},
        {"offset": "9223372036854775807"},
        {"offset": str(10**40)},
        {"limit": "9223372036854775808"},
        {"due_within_days": "9223372036854775808"},
        {"status": "pending\x00"},
    ],
)
def test_out_of_range_list_parameters_are_422(
    api_client: Client, query: dict[str, str]
) -> None:
    response = api_client.get("/api/requests", query)

    assert response.status_code == 422, response.content
    assert _locations(response) == [f"query.{next(iter(query))}"]


@pytest.mark.req("R40")
def test_the_largest_offset_allowed_answers_an_empty_page(api_client: Client) -> None:
    rights.request_create(
        type=RequestType.ACCESS, email="kari@example.no", channel=Channel.EMAIL,
        received_at=timezone.now(), actor="test",
    )
    schema = api_client.get("/api/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/requests"]["get"]["parameters"]}
    largest = params["offset"]["schema"]["maximum"]

    response = api_client.get("/api/requests", {"offset": str(largest), "limit": "500"})

    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 1}


@pytest.mark.req("R32")
def test_schema_documents_the_limits_and_the_400(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    components = schema["components"]["schemas"]

    identity = components["SubjectIdentity"]["properties"]["identity_value"]
    assert identity["minLength"] == 1
    assert identity["maxLength"] == 254
    notes = components["RequestCreateIn"]["properties"]["notes"]
    assert notes["maxLength"] == 10_000
    assert "\\u0000" in notes["pattern"]
    reason = components["RequestCancelIn"]["properties"]["reason"]
    assert reason["maxLength"] == 2_000
    for path, method in (("/api/requests", "post"), ("/api/requests/{request_id}/cancel", "post")):
        responses = schema["paths"][path][method]["responses"]
        assert "400" in responses, path
        assert "422" in responses, path
    params = {p["name"]: p for p in schema["paths"]["/api/requests"]["get"]["parameters"]}
    assert params["offset"]["schema"]["maximum"] < 2**63
