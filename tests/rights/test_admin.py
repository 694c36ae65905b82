"""Back office: staff register requests, see deadline lists, and take each step by action."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from personvern.core.models import AuditEntry
from personvern.rights import services
from personvern.rights.models import Request, RequestStatus, RequestType
from tests.rights.conftest import oslo

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    user = django_user_model.objects.create_superuser(
        username="dpo", email="dpo@jus.example", password="unused-pw-42"
    )
    client.force_login(user)
    return client


@pytest.mark.req("R40")
def test_staff_register_request_received_earlier(staff_client) -> None:  # type: ignore[no-untyped-def]
    received = timezone.localtime(timezone.now() - timedelta(days=10))
    response = staff_client.post(
        reverse("admin:rights_request_register"),
        {
            "email": "letter@example.org",
            "type": "access",
            "channel": "post",
            "received_at_0": received.date().isoformat(),
            "received_at_1": "09:00",
            "notes": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request = Request.objects.get()
    assert request.channel == "post"
    from personvern.rights.deadlines import received_date, response_deadline

    assert request.due_legal == response_deadline(received_date(request.received_at)).legal
    assert request.created_by == "staff:dpo"
    assert AuditEntry.objects.filter(action="rights.request.created", actor="staff:dpo").exists()


@pytest.mark.req("R40")
def test_future_received_date_is_a_form_error(staff_client) -> None:  # type: ignore[no-untyped-def]
    future = timezone.localtime(timezone.now() + timedelta(days=3))
    response = staff_client.post(
        reverse("admin:rights_request_register"),
        {
            "email": "a@example.org",
            "type": "access",
            "channel": "post",
            "received_at_0": future.date().isoformat(),
            "received_at_1": "09:00",
        },
    )
    assert response.status_code == 200
    assert not Request.objects.exists()


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_overdue_filter_and_actions(staff_client, make_request) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    old = make_request(
        received_at=oslo(today.year - 1, 1, 10, 10, 0), now=oslo(today.year - 1, 1, 11, 9, 0)
    )
    fresh = make_request(received_at=timezone.now() - timedelta(hours=1), now=timezone.now())
    url = reverse("admin:rights_request_changelist")
    page = staff_client.get(url, {"deadline": "overdue"}).content.decode()
    assert str(old)[-8:] in page and str(fresh)[-8:] not in page

    response = staff_client.post(
        url,
        {
            "action": "verify_by_staff",
            "_selected_action": [fresh.pk],
            "parameter": "Called back on the number we hold",
            "index": 0,
        },
    )
    assert response.status_code == 302
    fresh.refresh_from_db()
    assert fresh.verification_method == "staff" and fresh.status == RequestStatus.IN_PROGRESS

    staff_client.post(url, {"action": "assign", "_selected_action": [fresh.pk], "index": 0})
    fresh.refresh_from_db()
    assert fresh.assignee is not None and fresh.assignee.username == "dpo"

    staff_client.post(
        url,
        {
            "action": "extend",
            "_selected_action": [fresh.pk],
            "months": "1",
            "parameter": "Archive search",
            "index": 0,
        },
    )
    fresh.refresh_from_db()
    assert fresh.extended_by_months == 1 and fresh.due_strict > date.today()

    staff_client.post(
        url, {"action": "fulfil", "_selected_action": [fresh.pk], "lang": "en", "index": 0}
    )
    fresh.refresh_from_db()
    assert fresh.status == RequestStatus.COMPLETED

    staff_client.post(
        url, {"action": "cancel", "_selected_action": [old.pk], "parameter": "dup", "index": 0}
    )
    old.refresh_from_db()
    assert old.status == RequestStatus.CANCELLED
    actions = set(AuditEntry.objects.filter(actor="staff:dpo").values_list("action", flat=True))
    assert {
        "rights.request.verified",
        "rights.request.assigned",
        "rights.request.extended",
        "rights.request.completed",
        "rights.request.cancelled",
    } <= actions


@pytest.mark.req("R32")
def test_failed_action_reports_the_reason(staff_client, make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request()
    url = reverse("admin:rights_request_changelist")
    response = staff_client.post(
        url, {"action": "fulfil", "_selected_action": [request.pk], "index": 0}, follow=True
    )
    # The back office speaks Norwegian (LANGUAGE_CODE nb), the service's reason too.
    assert "Bekreft personens identitet før henvendelsen utføres" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_unclassified_filter_and_classify_action(staff_client, make_request) -> None:  # type: ignore[no-untyped-def]
    unclear = make_request(type="unclassified")
    access = make_request(type="access")
    closed = make_request(type="unclassified")
    services.request_cancel(request=closed, actor="staff:test")
    url = reverse("admin:rights_request_changelist")

    page = staff_client.get(url, {"classification": "unclassified"}).content.decode()
    assert str(unclear.public_id)[:8] in page
    assert str(access.public_id)[:8] not in page and str(closed.public_id)[:8] not in page

    # Without a type chosen nothing changes, and staff are told why.
    response = staff_client.post(
        url, {"action": "classify", "_selected_action": [unclear.pk], "index": 0}, follow=True
    )
    assert response.status_code == 200
    unclear.refresh_from_db()
    assert unclear.type == RequestType.UNCLASSIFIED

    response = staff_client.post(
        url,
        {
            "action": "classify",
            "_selected_action": [unclear.pk, access.pk],
            "classify_as": "objection",
            "index": 0,
        },
        follow=True,
    )
    unclear.refresh_from_db()
    access.refresh_from_db()
    assert unclear.type == RequestType.OBJECTION
    # An already classified request keeps its type; the reason is shown (in Norwegian).
    assert access.type == RequestType.ACCESS
    assert "er allerede klassifisert som innsyn (art. 15)" in response.content.decode()
    entry = AuditEntry.objects.get(action="rights.request.classified")
    assert entry.actor == "staff:dpo" and entry.data["type"] == "objection"
    page = staff_client.get(url, {"classification": "unclassified"}).content.decode()
    assert str(unclear.public_id)[:8] not in page


@pytest.mark.req("R32")
def test_fulfil_action_refuses_unclassified(staff_client, make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="unclassified", verified=True)
    url = reverse("admin:rights_request_changelist")
    response = staff_client.post(
        url, {"action": "fulfil", "_selected_action": [request.pk], "index": 0}, follow=True
    )
    assert "er ikke klassifisert ennå" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS
