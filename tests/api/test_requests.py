"""The REST API's request endpoints: create, list, get, cancel, bundle download."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from personvern.core.audit import pseudonym, seal_pending, verify_chain
from personvern.core.models import AuditEntry
from personvern.core.selectors import person_by_email
from personvern.rights import services as rights
from personvern.rights.models import Channel, Request, RequestStatus, RequestType

OSLO = ZoneInfo("Europe/Oslo")
pytestmark = pytest.mark.django_db


def create_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject_request_type": "access",
        "subject_identities": [
            {"identity_type": "email", "identity_value": "Kari.Nordmann@Example.no"}
        ],
        "submitted_time": "2025-03-05T14:30:00+01:00",
        "channel": "email",
        "notes": "Asked by e-mail to juspost.",
    }
    body.update(overrides)
    return body


def post_json(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def register(
    email: str, type_: str = RequestType.ACCESS, received: datetime | None = None
) -> Request:
    return rights.request_create(
        type=type_,
        email=email,
        channel=Channel.EMAIL,
        received_at=received or timezone.now(),
        actor="test",
    )


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_create_registers_request_with_deadline_from_submitted_time(api_client: Client) -> None:
    response = post_json(api_client, "/api/requests", create_body())

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["subject_request_type"] == "access"
    assert body["request_status"] == "pending"
    assert body["channel"] == "email"
    # Reg. 1182/71: received 2025-03-05 -> strict 2025-04-05 (Saturday), legal Monday 04-07.
    assert body["due_strict"] == "2025-04-05"
    assert body["due_legal"] == "2025-04-07"
    assert datetime.fromisoformat(body["expected_completion_time"]) == datetime(
        2025, 4, 7, 23, 59, 59, tzinfo=OSLO
    )
    assert datetime.fromisoformat(body["submitted_time"]) == datetime(
        2025, 3, 5, 14, 30, tzinfo=OSLO
    )
    assert body["overdue"] is True  # the deadline of 2025 has long passed
    assert body["results_url"] is None  # not verified yet
    # No personal data in the response.
    assert "kari" not in response.content.decode().lower()

    request = Request.objects.get(public_id=body["subject_request_id"])
    assert request.person == person_by_email("kari.nordmann@example.no")
    assert request.notes == "Asked by e-mail to juspost."
    entry = AuditEntry.objects.get(action="rights.request.created")
    assert entry.actor == "api:dpo"
    assert request.person is not None
    assert entry.subject == pseudonym(request.person)


@pytest.mark.req("R32")
def test_create_defaults_submitted_time_to_now_and_channel_to_api(api_client: Client) -> None:
    before = timezone.now()
    body = create_body()
    del body["submitted_time"], body["channel"], body["notes"]

    response = post_json(api_client, "/api/requests", body)

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["channel"] == "api"
    assert datetime.fromisoformat(created["submitted_time"]) >= before
    assert created["overdue"] is False


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_list_filters_by_overdue_and_status(api_client: Client) -> None:
    old = register("old@example.no", received=timezone.now() - timedelta(days=90))
    fresh = register("fresh@example.no")
    cancelled = register("gone@example.no")
    rights.request_cancel(request=cancelled, actor="test")

    everything = api_client.get("/api/requests").json()
    overdue = api_client.get("/api/requests", {"overdue": "true"}).json()
    by_status = api_client.get("/api/requests", {"status": "cancelled"}).json()
    pending = api_client.get("/api/requests", {"status": "pending", "overdue": "false"}).json()

    assert everything["count"] == 3
    assert [r["subject_request_id"] for r in overdue["items"]] == [str(old.public_id)]
    assert overdue["items"][0]["overdue"] is True
    assert [r["subject_request_id"] for r in by_status["items"]] == [str(cancelled.public_id)]
    assert [r["subject_request_id"] for r in pending["items"]] == [str(fresh.public_id)]


@pytest.mark.req("R40")
def test_list_pages_with_limit_and_offset(api_client: Client) -> None:
    for i in range(3):
        register(f"p{i}@example.no", received=timezone.now() - timedelta(days=i))

    first = api_client.get("/api/requests", {"limit": 2}).json()
    rest = api_client.get("/api/requests", {"limit": 2, "offset": 2}).json()

    assert first["count"] == rest["count"] == 3
    assert len(first["items"]) == 2 and len(rest["items"]) == 1
    ids = {r["subject_request_id"] for r in first["items"] + rest["items"]}
    assert len(ids) == 3


@pytest.mark.req("R40")
def test_list_query_count_does_not_grow_with_requests(api_client: Client) -> None:
    register("a@example.no")
    api_client.get("/api/requests")  # warm up: the token's last_used_at is written once

    with CaptureQueriesContext(connection) as one:
        assert api_client.get("/api/requests").status_code == 200
    for i in range(6):
        register(f"more{i}@example.no")
    with CaptureQueriesContext(connection) as seven:
        response = api_client.get("/api/requests")

    assert response.json()["count"] == 7
    assert len(seven.captured_queries) == len(one.captured_queries)


@pytest.mark.req("R32")
def test_get_one_request(api_client: Client) -> None:
    request = register("kari@example.no", RequestType.ERASURE)

    response = api_client.get(f"/api/requests/{request.public_id}")

    assert response.status_code == 200
    assert response.json()["subject_request_type"] == "erasure"
    assert response.json()["subject_request_id"] == str(request.public_id)


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_cancel_closes_an_open_request_and_refuses_a_closed_one(api_client: Client) -> None:
    request = register("kari@example.no")

    response = post_json(api_client, f"/api/requests/{request.public_id}/cancel", {"reason": "dup"})
    again = post_json(api_client, f"/api/requests/{request.public_id}/cancel", {})

    assert response.status_code == 200, response.content
    assert response.json()["request_status"] == "cancelled"
    assert response.json()["cancelled_time"] is not None
    request.refresh_from_db()
    assert request.status == RequestStatus.CANCELLED
    assert AuditEntry.objects.filter(action="rights.request.cancelled", actor="api:dpo").exists()
    assert again.status_code == 409
    assert "cancelled" in again.json()["detail"]


@pytest.mark.req("R33")
def test_bundle_of_a_verified_access_request_is_a_zip_and_audited(api_client: Client) -> None:
    request = register("kari@example.no")
    rights.request_verify(request=request, staff_note="Known caller, checked ID", actor="test")

    detail = api_client.get(f"/api/requests/{request.public_id}").json()
    response = api_client.get(f"/api/requests/{request.public_id}/bundle", {"lang": "en"})

    assert detail["results_url"].endswith(f"/api/requests/{request.public_id}/bundle")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    assert f"access-{request.public_id}.zip" in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        names = bundle.namelist()
        data = bundle.read("data.json").decode()
    assert "data.json" in names and "report.html" in names
    assert "kari@example.no" in data
    entry = AuditEntry.objects.get(action="rights.request.bundle_downloaded")
    assert entry.actor == "api:dpo"
    assert entry.subject == pseudonym(request.person)  # type: ignore[arg-type]
    assert entry.data["request"] == str(request.public_id)
    seal_pending()
    assert verify_chain().problem is None


@pytest.mark.req("R33")
def test_bundle_is_refused_unless_verified_access_request(api_client: Client) -> None:
    unverified = register("kari@example.no")
    erasure = register("ola@example.no", RequestType.ERASURE)
    rights.request_verify(request=erasure, staff_note="checked", actor="test")

    not_verified = api_client.get(f"/api/requests/{unverified.public_id}/bundle")
    wrong_type = api_client.get(f"/api/requests/{erasure.public_id}/bundle")

    assert not_verified.status_code == 409
    assert "verified" in not_verified.json()["detail"]
    assert wrong_type.status_code == 409
    assert "access" in wrong_type.json()["detail"]
    assert not AuditEntry.objects.filter(action="rights.request.bundle_downloaded").exists()


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_unclassified_request_is_created_listed_and_shown(api_client: Client) -> None:
    """An integrator that cannot tell the right asked for registers it unclassified."""
    body = create_body(subject_request_type="unclassified")
    response = post_json(api_client, "/api/requests", body)
    register("ola@example.no", RequestType.ERASURE)

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["subject_request_type"] == "unclassified"
    # The deadline runs from submitted_time, classified or not.
    assert created["due_legal"] == "2025-04-07"
    request = Request.objects.get(public_id=created["subject_request_id"])
    assert request.type == RequestType.UNCLASSIFIED

    listed = api_client.get("/api/requests", {"subject_request_type": "unclassified"}).json()
    everything = api_client.get("/api/requests").json()
    detail = api_client.get(f"/api/requests/{request.public_id}").json()

    assert [r["subject_request_id"] for r in listed["items"]] == [str(request.public_id)]
    assert everything["count"] == 2
    assert {r["subject_request_type"] for r in everything["items"]} == {"unclassified", "erasure"}
    assert detail["subject_request_type"] == "unclassified"

    # Staff classify it; the API then shows the right, and the deadline has not moved.
    rights.request_classify(request=request, type=RequestType.ACCESS, actor="test")
    after = api_client.get(f"/api/requests/{request.public_id}").json()
    assert after["subject_request_type"] == "access" and after["due_legal"] == "2025-04-07"


@pytest.mark.req("R33")
def test_bundle_of_an_unclassified_request_is_refused(api_client: Client) -> None:
    request = register("kari@example.no", RequestType.UNCLASSIFIED)
    rights.request_verify(request=request, staff_note="checked", actor="test")

    response = api_client.get(f"/api/requests/{request.public_id}/bundle")
    detail = api_client.get(f"/api/requests/{request.public_id}").json()

    assert response.status_code == 409
    assert "not yet classified" in response.json()["detail"]
    assert detail["results_url"] is None
    assert not AuditEntry.objects.filter(action="rights.request.bundle_downloaded").exists()
