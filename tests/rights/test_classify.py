"""Unclassified requests: registered at once, classified by staff, refused until then."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core.models import AuditEntry, EmailIdentity
from personvern.rights import selectors, services
from personvern.rights.models import Request, RequestStatus, RequestType
from tests.rights.conftest import ACTOR, oslo

pytestmark = pytest.mark.django_db


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_classify_sets_the_type_is_audited_and_keeps_the_deadline(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="unclassified", received_at=oslo(2025, 3, 5, 10, 0))
    assert (request.due_strict, request.due_legal) == (date(2025, 4, 5), date(2025, 4, 7))

    classified = services.request_classify(
        request=request, type="erasure", actor=ACTOR, now=oslo(2025, 3, 20, 9, 0)
    )

    assert classified.type == RequestType.ERASURE
    assert Request.objects.get(pk=request.pk).type == RequestType.ERASURE
    # The deadline still runs from receipt, not from classification.
    assert (classified.due_strict, classified.due_legal) == (date(2025, 4, 5), date(2025, 4, 7))
    assert classified.status == RequestStatus.PENDING
    entry = AuditEntry.objects.get(action="rights.request.classified")
    assert entry.data == {"request": str(request.public_id), "type": "erasure"}
    assert entry.subject == request.subject and entry.actor == ACTOR
    # No personal data in the audit entry.
    address = EmailIdentity.objects.get(person=request.person).address
    assert address not in str(entry.data) and address.split("@")[0] not in str(entry.data)


@pytest.mark.req("R32")
def test_classify_refuses_unclassified_and_unknown_types(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="unclassified")
    for bad in ("unclassified", "delete-everything"):
        with pytest.raises(ValidationError) as exc:
            services.request_classify(request=request, type=bad, actor=ACTOR)
        assert "type" in exc.value.message_dict
    assert Request.objects.get().type == RequestType.UNCLASSIFIED
    assert not AuditEntry.objects.filter(action="rights.request.classified").exists()


@pytest.mark.req("R32")
def test_classify_only_open_unclassified_requests(make_request) -> None:  # type: ignore[no-untyped-def]
    access = make_request(type="access")
    with pytest.raises(ValidationError) as exc:
        services.request_classify(request=access, type="erasure", actor=ACTOR)
    assert "type" in exc.value.message_dict and "already classified" in str(exc.value)
    assert Request.objects.get(pk=access.pk).type == RequestType.ACCESS

    closed = services.request_cancel(request=make_request(type="unclassified"), actor=ACTOR)
    with pytest.raises(ValidationError) as exc:
        services.request_classify(request=closed, type="erasure", actor=ACTOR)
    assert "status" in exc.value.message_dict
    assert Request.objects.get(pk=closed.pk).type == RequestType.UNCLASSIFIED


@pytest.mark.req("R32")
def test_fulfil_refuses_an_unclassified_request_naming_the_type(make_request) -> None:  # type: ignore[no-untyped-def]
    # Identity may be confirmed while staff work out the right asked for ...
    request = make_request(type="unclassified", verified=True)
    assert request.status == RequestStatus.IN_PROGRESS

    # ... but nothing is carried out before the request is classified.
    with pytest.raises(ValidationError) as exc:
        services.request_fulfil(request=request, actor=ACTOR, now=oslo(2025, 3, 7, 9, 0))
    assert list(exc.value.message_dict) == ["type"]
    assert "not yet classified" in exc.value.message_dict["type"][0]
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS and request.completed_at is None
    assert not AuditEntry.objects.filter(action="rights.request.completed").exists()

    # Unverified and unclassified: the classification is named first.
    fresh = make_request(type="unclassified")
    with pytest.raises(ValidationError) as exc:
        services.request_fulfil(request=fresh, actor=ACTOR)
    assert "type" in exc.value.message_dict


@pytest.mark.req("R32")
def test_classified_request_is_fulfilled(make_request, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    request = make_request(type="unclassified", verified=True)
    request = services.request_classify(
        request=request, type="access", actor=ACTOR, now=oslo(2025, 3, 7, 9, 0)
    )
    request = services.request_fulfil(request=request, actor=ACTOR, now=oslo(2025, 3, 7, 10, 0))
    assert request.status == RequestStatus.COMPLETED and request.result["bundle"]


@pytest.mark.req("R40")
def test_unclassified_in_lists_by_type(make_request) -> None:  # type: ignore[no-untyped-def]
    unclassified = make_request(type="unclassified")
    access = make_request(type="access")
    today = date(2025, 3, 17)
    assert set(selectors.request_list(today=today)) == {unclassified, access}
    assert list(selectors.request_list(type="unclassified", today=today)) == [unclassified]
    with translation.override("en"):
        assert str(unclassified).startswith("not yet classified ")
