"""Requests: registration, deadlines from receipt, verification, extension, back office lists."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core.models import AuditEntry, EmailIdentity
from personvern.rights import selectors, services
from personvern.rights.models import Request, RequestStatus, VerificationMethod
from tests.rights.conftest import ACTOR, oslo

pytestmark = pytest.mark.django_db


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_staff_registers_past_received_request_deadline_runs_from_receipt() -> None:
    # Registered on 20 March for a letter received on 5 March.
    request = services.request_create(
        type="access",
        email="Kari@Example.org",
        channel="post",
        received_at=oslo(2025, 3, 5, 9, 0),
        actor=ACTOR,
        now=oslo(2025, 3, 20, 14, 0),
    )
    assert request.due_strict == date(2025, 4, 5)
    assert request.due_legal == date(2025, 4, 7)  # 5 April 2025 is a Saturday
    assert request.status == RequestStatus.PENDING
    assert request.person is not None
    assert EmailIdentity.objects.get(person=request.person).address == "kari@example.org"
    entry = AuditEntry.objects.get(action="rights.request.created")
    assert entry.subject == request.subject and entry.subject
    assert "kari" not in str(entry.data).lower()


@pytest.mark.req("R32")
def test_receipt_date_is_the_oslo_calendar_date() -> None:
    from datetime import UTC, datetime

    request = services.request_create(
        type="erasure",
        email="a@example.org",
        channel="email",
        received_at=datetime(2025, 1, 30, 23, 30, tzinfo=UTC),  # 31 January in Oslo
        actor=ACTOR,
        now=datetime(2025, 2, 1, tzinfo=UTC),
    )
    assert request.due_strict == date(2025, 2, 28)


@pytest.mark.req("R40")
def test_request_cannot_be_received_in_the_future() -> None:
    with pytest.raises(ValidationError) as exc:
        services.request_create(
            type="access",
            email="a@example.org",
            channel="email",
            received_at=oslo(2025, 4, 1, 10, 0),
            actor=ACTOR,
            now=oslo(2025, 3, 1, 10, 0),
        )
    assert "received_at" in exc.value.message_dict
    assert not Request.objects.exists()


@pytest.mark.req("R32")
def test_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as exc:
        services.request_create(
            type="delete-everything",
            email="a@example.org",
            channel="email",
            received_at=oslo(2025, 3, 1, 10, 0),
            actor=ACTOR,
            now=oslo(2025, 3, 1, 11, 0),
        )
    assert "type" in exc.value.message_dict


@pytest.mark.req("R32")
def test_duplicate_source_message_is_refused(make_person) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    kwargs = {
        "type": "access",
        "person": person,
        "channel": "email",
        "received_at": oslo(2025, 3, 1, 10, 0),
        "actor": ACTOR,
        "now": oslo(2025, 3, 1, 11, 0),
    }
    services.request_create(source_message_id="<abc@mail.example.org>", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as exc:
        services.request_create(source_message_id="abc@mail.example.org", **kwargs)  # type: ignore[arg-type]
    assert "source_message_id" in exc.value.message_dict
    assert selectors.request_by_source_message("<abc@mail.example.org>") is not None
    # Only a digest is stored, never the Message-ID itself.
    assert "mail.example.org" not in Request.objects.get().source_message_id


@pytest.mark.req("R32")
def test_verification_by_emailed_code(make_request, smtp_server) -> None:  # type: ignore[no-untyped-def]
    request = make_request()
    code = services.request_send_verification(
        request=request, actor=ACTOR, now=oslo(2025, 3, 6, 10, 0)
    )
    assert len(smtp_server.wait_for(1)) == 1
    address = EmailIdentity.objects.get(person=request.person).address
    assert smtp_server.messages[0].rcpt_tos == [address]
    assert code in smtp_server.messages[0].body
    with pytest.raises(ValidationError):
        services.request_verify(
            request=request,
            code="000000" if code != "000000" else "111111",
            actor=ACTOR,
            now=oslo(2025, 3, 6, 11, 0),
        )
    request.refresh_from_db()
    assert request.verification_attempts == 1 and request.verified_at is None
    request = services.request_verify(
        request=request, code=code, actor="public", now=oslo(2025, 3, 7, 8, 0)
    )
    assert request.verification_method == VerificationMethod.CODE
    assert request.status == RequestStatus.IN_PROGRESS
    assert request.verification_code_digest == ""


@pytest.mark.req("R32")
def test_wrong_codes_are_bounded(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request()
    code = services.request_send_verification(
        request=request, actor=ACTOR, now=oslo(2025, 3, 6, 10, 0)
    )
    wrong = "123456" if code != "123456" else "654321"
    for _ in range(services.VERIFICATION_MAX_ATTEMPTS):
        with pytest.raises(ValidationError):
            services.request_verify(
                request=request, code=wrong, actor="public", now=oslo(2025, 3, 6, 11, 0)
            )
    with pytest.raises(ValidationError) as exc:
        services.request_verify(
            request=request, code=code, actor="public", now=oslo(2025, 3, 6, 11, 0)
        )
    assert "Too many" in str(exc.value)


@pytest.mark.req("R32")
def test_expired_code_is_refused(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request()
    code = services.request_send_verification(
        request=request, actor=ACTOR, now=oslo(2025, 3, 6, 10, 0)
    )
    with pytest.raises(ValidationError) as exc:
        services.request_verify(
            request=request, code=code, actor="public", now=oslo(2025, 3, 30, 10, 0)
        )
    assert "expired" in str(exc.value)


@pytest.mark.req("R32")
def test_staff_verification_needs_a_note(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request()
    with pytest.raises(ValidationError):
        services.request_verify(request=request, staff_note="  ", actor=ACTOR)
    request = services.request_verify(
        request=request,
        staff_note="Met in person, showed ID",
        actor=ACTOR,
        now=oslo(2025, 3, 6, 12, 0),
    )
    assert request.verification_method == VerificationMethod.STAFF
    assert request.verification_note == "Met in person, showed ID"


@pytest.mark.req("R32")
def test_clock_does_not_pause_while_verification_is_pending(make_request) -> None:  # type: ignore[no-untyped-def]
    """Decision 0006: the deadline runs from receipt even when identity is confirmed late."""
    request = make_request(received_at=oslo(2025, 3, 5, 10, 0))
    before = (request.due_strict, request.due_legal)
    code = services.request_send_verification(
        request=request, actor=ACTOR, now=oslo(2025, 3, 6, 10, 0)
    )
    request = services.request_verify(
        request=request, code=code, actor="public", now=oslo(2025, 3, 19, 10, 0)
    )
    assert (request.due_strict, request.due_legal) == before == (date(2025, 4, 5), date(2025, 4, 7))


@pytest.mark.req("R32")
def test_fulfil_requires_verification(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request()
    with pytest.raises(ValidationError) as exc:
        services.request_fulfil(request=request, actor=ACTOR)
    assert "verified_at" in exc.value.message_dict


@pytest.mark.req("R32")
def test_extension_within_first_month_tells_the_person(make_request, smtp_server) -> None:  # type: ignore[no-untyped-def]
    request = make_request(received_at=oslo(2025, 3, 5, 10, 0))
    request = services.request_extend(
        request=request,
        months=2,
        reason="Many records in archives",
        actor=ACTOR,
        now=oslo(2025, 4, 7, 15, 0),
    )
    assert request.extended_by_months == 2
    assert request.due_strict == date(2025, 6, 5)
    assert request.due_legal == date(2025, 6, 5)
    assert request.extension_notified_at == oslo(2025, 4, 7, 15, 0)
    assert len(smtp_server.wait_for(1)) == 1
    assert "2025-06-05" in smtp_server.messages[0].body
    assert "Many records in archives" in smtp_server.messages[0].body
    entry = AuditEntry.objects.get(action="rights.request.extended")
    assert entry.data["months"] == 2 and "reason" not in entry.data


@pytest.mark.req("R32")
def test_extension_after_first_month_is_refused(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(received_at=oslo(2025, 3, 5, 10, 0))
    with pytest.raises(ValidationError) as exc:
        services.request_extend(
            request=request, months=1, reason="Late", actor=ACTOR, now=oslo(2025, 4, 8, 9, 0)
        )
    assert "months" in exc.value.message_dict
    request.refresh_from_db()
    assert request.extended_by_months == 0 and request.due_legal == date(2025, 4, 7)


@pytest.mark.req("R32")
def test_extension_limited_to_two_months_with_reason(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(received_at=oslo(2025, 3, 5, 10, 0))
    with pytest.raises(ValidationError):
        services.request_extend(
            request=request, months=1, reason=" ", actor=ACTOR, now=oslo(2025, 3, 10)
        )
    request = services.request_extend(
        request=request, months=1, reason="Complex", actor=ACTOR, now=oslo(2025, 3, 10, 9, 0)
    )
    assert request.due_strict == date(2025, 5, 5)
    with pytest.raises(ValidationError):
        services.request_extend(
            request=request, months=2, reason="More", actor=ACTOR, now=oslo(2025, 3, 11, 9, 0)
        )
    request = services.request_extend(
        request=request, months=1, reason="More", actor=ACTOR, now=oslo(2025, 3, 11, 9, 0)
    )
    assert request.extended_by_months == 2 and request.due_strict == date(2025, 6, 5)


@pytest.mark.req("R40")
def test_assign_and_cancel_are_audited(make_request, django_user_model) -> None:  # type: ignore[no-untyped-def]
    request = make_request()
    staff = django_user_model.objects.create_user(username="ola", password="x-unused-9")
    request = services.request_assign(request=request, assignee=staff, actor=ACTOR)
    assert request.assignee == staff
    request = services.request_cancel(
        request=request, actor=ACTOR, reason="withdrawn by the person"
    )
    assert request.status == RequestStatus.CANCELLED and request.cancelled_at is not None
    with pytest.raises(ValidationError):
        services.request_assign(request=request, assignee=None, actor=ACTOR)
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "rights.request.assigned" in actions and "rights.request.cancelled" in actions


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_overdue_and_due_soon_lists(make_request) -> None:  # type: ignore[no-untyped-def]
    overdue = make_request(received_at=oslo(2025, 1, 10, 10, 0), now=oslo(2025, 1, 11, 9, 0))
    soon = make_request(received_at=oslo(2025, 2, 20, 10, 0), now=oslo(2025, 2, 21, 9, 0))
    later = make_request(received_at=oslo(2025, 3, 5, 10, 0))
    done = make_request(received_at=oslo(2025, 1, 2, 10, 0), now=oslo(2025, 1, 3, 9, 0))
    services.request_cancel(request=done, actor=ACTOR)
    today = date(2025, 3, 17)
    assert list(selectors.request_list(overdue=True, today=today)) == [overdue]
    assert list(selectors.request_list(due_within_days=7, today=today)) == [soon]
    assert set(selectors.request_list(overdue=False, today=today)) == {soon, later, done}
    assert list(selectors.request_list(status="cancelled", today=today)) == [done]
    assert selectors.request_get(str(later.public_id)) == later


@pytest.mark.req("R40")
@pytest.mark.req("R35")
def test_cancel_reason_is_kept_in_the_notes_not_in_the_result(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request()
    Request.objects.filter(pk=request.pk).update(notes="Ringte inn.")
    request = services.request_cancel(request=request, actor=ACTOR, reason="Kari trakk den")
    assert request.result == {"cancelled": True}
    assert request.notes.startswith("Ringte inn.") and "Kari trakk den" in request.notes


@pytest.mark.req("R35")
def test_migration_moves_cancel_reasons_out_of_the_result(make_request) -> None:  # type: ignore[no-untyped-def]
    import importlib

    from django.apps import apps

    migration = importlib.import_module("personvern.rights.migrations.0003_cancel_reason_in_notes")
    with_notes, without_notes, erased, silent = (make_request() for _n in range(4))
    Request.objects.filter(pk=with_notes.pk).update(notes="Ringte inn.")
    Request.objects.filter(pk=erased.pk).update(person=None)
    for request, reason in ((with_notes, "Kari A"), (without_notes, "Kari B"), (erased, "Kari C")):
        Request.objects.filter(pk=request.pk).update(
            status=RequestStatus.CANCELLED, result={"cancelled": True, "reason": reason}
        )
    Request.objects.filter(pk=silent.pk).update(
        status=RequestStatus.CANCELLED, result={"cancelled": True, "reason": ""}
    )

    migration.move_reasons(apps, None)

    rows = {r.pk: r for r in Request.objects.all()}
    assert all(r.result == {"cancelled": True} for r in rows.values())
    assert rows[with_notes.pk].notes == "Ringte inn.\n\nCancelled: Kari A"
    assert rows[without_notes.pk].notes == "Cancelled: Kari B"
    assert rows[erased.pk].notes == "" and rows[silent.pk].notes == ""


def test_refusals_are_in_norwegian_when_nb_is_active(make_request) -> None:  # type: ignore[no-untyped-def]
    """The back office runs in nb: a Norwegian staff member reads the reason in Bokmål."""
    request = make_request()
    code = services.request_send_verification(
        request=request, actor=ACTOR, now=oslo(2025, 3, 6, 10, 0)
    )
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            services.request_verify(
                request=request, code=code, actor="public", now=oslo(2025, 3, 30, 10, 0)
            )
        assert exc.value.message_dict["code"] == ["Koden er utløpt; send en ny."]
        services.request_cancel(request=request, actor=ACTOR, reason="Trukket tilbake")
        with pytest.raises(ValidationError) as exc:
            services.request_extend(request=request, months=1, reason="Mye arkiv", actor=ACTOR)
        status = RequestStatus.CANCELLED.label  # its nb label comes from the models' catalogues
        assert exc.value.message_dict["status"] == [
            f"Henvendelse {request.public_id} har status «{status}»; den kan ikke lenger endres."
        ]


def test_a_cancelled_request_and_a_cancelled_registration_are_different_words_in_nb():
    from django.utils import translation

    from personvern.courses.models import RegistrationStatus
    from personvern.rights.models import RequestStatus

    with translation.override("nb"):
        assert str(RequestStatus.CANCELLED.label) == "avbrutt"
        assert str(RegistrationStatus.CANCELLED.label) == "avbestilt"
