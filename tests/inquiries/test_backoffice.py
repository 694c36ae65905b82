"""Account managers register inquiries (R15); a closed inquiry is no longer relevant.

The back office form registers an inquiry received by an account manager with
the inquirer's name, address and company and when it arrived; the person is
linked or created (the customer profile). Closing puts the inquiry under the
policy's shorter rule for closed inquiries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from personvern.core.models import AuditEntry, Person
from personvern.core.roles import ACCOUNT_MANAGER, COURSE_ADMIN
from personvern.core.services import person_create
from personvern.inquiries import services
from personvern.inquiries.models import Inquiry
from personvern.retention.engine import retention_forecast, retention_run

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 3, 10, tzinfo=UTC)


def _staff(role: str, name: str = "anne") -> Client:
    user = User.objects.create_user(name, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def _register(company: str = "Fjord Advokat AS") -> Inquiry:
    return services.inquiry_receive(
        email="ola@fjord.no", given_name="Ola", family_name="Nordmann", company=company,
        subject="Bedriftskurs", message="Kan dere holde et kurs hos oss?",
        channel="account-manager", actor="staff:anne", received_at=T0,
    )


@pytest.mark.req("R15")
def test_account_manager_registers_an_inquiry_in_the_back_office() -> None:
    known = person_create(email="kari@fjord.no", given_name="Kari", actor="t")
    client = _staff(ACCOUNT_MANAGER)
    assert client.get("/admin/inquiries/inquiry/add/").status_code == 200
    response = client.post("/admin/inquiries/inquiry/add/", {
        "given_name": "Kari", "family_name": "", "email": "KARI@fjord.no",
        "company": "Fjord Advokat AS", "subject": "Bedriftskurs",
        "message": "Ring meg om et kurs.", "received_at_0": "2025-03-03",
        "received_at_1": "09:30:00",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    inquiry = Inquiry.objects.get()
    assert inquiry.person == known  # linked, not duplicated
    assert (inquiry.channel, inquiry.company) == ("account-manager", "Fjord Advokat AS")
    assert inquiry.received_at.date().isoformat() == "2025-03-03"
    audit = AuditEntry.objects.get(action="inquiry.received")
    assert audit.actor == "staff:anne" and audit.data["channel"] == "account-manager"
    listing = client.get("/admin/inquiries/inquiry/?status=open")
    assert b"Bedriftskurs" in listing.content


@pytest.mark.req("R15")
def test_a_new_inquirer_gets_a_customer_profile() -> None:
    inquiry = _register()
    assert inquiry.person.given_name == "Ola"
    assert Person.objects.count() == 1
    assert AuditEntry.objects.filter(action="person.created", actor="staff:anne").exists()


@pytest.mark.req("R15")
def test_only_the_account_manager_and_marketing_register_inquiries() -> None:
    assert _staff(COURSE_ADMIN, "kurs").get("/admin/inquiries/inquiry/add/").status_code == 403


@pytest.mark.req("R15")
def test_closing_an_inquiry_shortens_its_retention_to_the_closed_rule() -> None:
    inquiry = _register()
    closed = T0 + timedelta(days=20)
    services.inquiry_close(inquiry=inquiry, actor="staff:anne", now=closed)
    # Open, it would be kept a year after the last contact; closed, three months.
    forecast = retention_forecast(as_of=closed + timedelta(days=80))
    [line] = [ln for ln in forecast.lines
              if ln.rule == "closed" and ln.holder == "inquiries.Inquiry"]
    assert (line.due_now, line.due_within[30]) == (0, 1)
    retention_run(as_of=closed + timedelta(days=91))  # 3 months + the closing day: kept
    assert Inquiry.objects.exists()
    report = retention_run(as_of=closed + timedelta(days=93))
    assert [(ln.rule, ln.count) for ln in report.lines if ln.count] == [("closed", 1)]
    assert not Inquiry.objects.exists()


@pytest.mark.req("R15")
def test_an_open_inquiry_is_not_under_the_closed_rule() -> None:
    _register()
    report = retention_run(as_of=T0 + timedelta(days=200))
    assert report.rows == 0
    assert Inquiry.objects.exists()


@pytest.mark.req("R15")
def test_account_manager_closes_inquiries_with_the_admin_action() -> None:
    inquiry = _register()
    client = _staff(ACCOUNT_MANAGER)
    response = client.post("/admin/inquiries/inquiry/",
                           {"action": "close", "_selected_action": [inquiry.pk]})
    assert response.status_code == 302
    assert Inquiry.objects.get().closed_at is not None
    assert AuditEntry.objects.get(action="inquiry.closed").actor == "staff:anne"


@pytest.mark.req("R15")
def test_an_action_on_an_inquiry_dated_later_is_refused_by_name_not_a_server_error() -> None:
    from django.utils import timezone

    later = services.inquiry_receive(
        email="ola@fjord.no", subject="Kurs i mars", message="m", channel="account-manager",
        actor="t", received_at=timezone.now() + timedelta(days=30),
    )
    client = _staff(ACCOUNT_MANAGER)
    for action in ("record_contact", "close"):
        response = client.post("/admin/inquiries/inquiry/", {
            "action": action, "_selected_action": [later.pk]}, follow=True,
            headers={"Accept-Language": "en"})
        assert response.status_code == 200, action
        assert "Kurs i mars: " in response.content.decode(), action
    later.refresh_from_db()
    assert later.closed_at is None and later.last_contact_at == later.received_at
    assert not AuditEntry.objects.filter(action__in=["inquiry.contacted", "inquiry.closed"])
