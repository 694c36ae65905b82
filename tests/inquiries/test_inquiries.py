"""Inquiries (R15): a customer profile to follow up, kept only while relevant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core.checks import check_holders
from personvern.core.models import AuditEntry, Person
from personvern.inquiries import selectors, services
from personvern.inquiries.models import Inquiry
from personvern.retention.engine import retention_run

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 3, 10, tzinfo=UTC)


def _receive(email: str = "ola@example.no", at: datetime = T0) -> Inquiry:
    return services.inquiry_receive(
        email=email,
        subject="Kurs for nye advokater",
        message="Når er neste kurs?",
        channel="web",
        given_name="Ola",
        actor="site",
        received_at=at,
    )


@pytest.mark.req("R15")
def test_an_inquiry_creates_a_customer_profile_to_follow_it_up() -> None:
    inquiry = _receive()
    assert Person.objects.get(emails__address="ola@example.no") == inquiry.person
    assert inquiry.last_contact_at == T0
    assert list(selectors.open_inquiries()) == [inquiry]
    assert AuditEntry.objects.filter(action="inquiry.received").exists()

    second = services.inquiry_receive(
        email="OLA@example.no",
        subject="Faktura",
        message="Hvor er fakturaen?",
        channel="account-manager",
        actor="staff:anne",
        received_at=T0 + timedelta(days=1),
    )
    assert second.person == inquiry.person  # the same profile, not a duplicate


def test_an_inquiry_without_a_message_is_refused_and_creates_no_person() -> None:
    with pytest.raises(ValidationError, match="message"):
        services.inquiry_receive(
            email="ola@example.no", subject="Hei", message=" ", channel="web", actor="site"
        )
    assert not Person.objects.exists()


@pytest.mark.req("R15")
def test_inquiry_is_deleted_a_year_after_the_last_contact_not_the_first() -> None:
    inquiry = _receive()
    services.inquiry_record_contact(
        inquiry=inquiry, actor="staff:anne", now=T0 + timedelta(days=60)
    )
    services.inquiry_record_contact(
        inquiry=inquiry, actor="staff:anne", now=T0 + timedelta(days=90)
    )
    last_contact = T0 + timedelta(days=90)

    retention_run(as_of=T0 + timedelta(days=400))  # a year after receipt, not after last contact
    assert Inquiry.objects.filter(pk=inquiry.pk).exists()

    retention_run(as_of=last_contact + timedelta(days=366))
    assert not Inquiry.objects.filter(pk=inquiry.pk).exists()


def test_inquiry_holder_passes_the_system_check() -> None:
    problems = [e for e in check_holders() if e.obj is Inquiry or "'inquiries'" in e.msg]
    assert problems == []
    # ... and the retention engine accepts every (rule, holder) target of the activity.
    report = retention_run(as_of=datetime(2030, 1, 1, tzinfo=UTC), dry_run=True)
    assert [r for r in report.refused if r.activity == "inquiries"] == []


def test_refusals_are_in_norwegian_when_nb_is_active() -> None:
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            services.inquiry_receive(
                email="ola@example.no", subject="Hei", message=" ", channel="web", actor="site"
            )
        assert exc.value.message_dict["message"] == ["En henvendelse må ha en melding."]
        with pytest.raises(ValidationError) as exc:
            services.inquiry_receive(
                email="ola@example.no", subject="Hei", message="Hei", channel="fax", actor="site"
            )
        assert exc.value.message_dict["channel"] == ["«fax» er ikke en kanal for henvendelser."]
