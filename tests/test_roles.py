"""Staff roles in the Django admin: each role sees what its work needs and nothing else.

Groups and their permissions come from ``personvern.core.roles`` after migrate;
these tests log in through the real admin (test client) and ask for pages.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from personvern.core import services as core
from personvern.core.roles import COURSE_ADMIN, DPO, HR, MARKETING
from personvern.recruitment import services as recruitment
from personvern.recruitment.services import DocumentUpload

pytestmark = pytest.mark.django_db


def _client(role: str) -> Client:
    user = User.objects.create_user(role.replace(" ", "-"), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def _application_url() -> str:
    application = recruitment.application_receive(
        email="soker@example.no",
        source="direct",
        documents=[DocumentUpload("cv", "cv-siv.pdf", "application/pdf", b"%PDF-1.7")],
        actor="site",
    )
    return f"/admin/recruitment/application/{application.pk}/change/"


@pytest.mark.req("R24")
def test_course_administrator_cannot_see_job_applications() -> None:
    url = _application_url()
    client = _client(COURSE_ADMIN)

    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/courses/" in index.content  # sanity: the role sees its own area
    assert b"/admin/recruitment/" not in index.content
    assert client.get("/admin/recruitment/application/").status_code == 403
    assert client.get(url).status_code == 403
    assert client.get("/admin/recruitment/").status_code == 404  # the app page does not exist


@pytest.mark.req("R24")
def test_hr_sees_job_applications_and_their_notes() -> None:
    url = _application_url()
    client = _client(HR)

    index = client.get("/admin/")
    assert b"/admin/recruitment/application/" in index.content
    assert b"/admin/courses/" not in index.content
    assert client.get("/admin/recruitment/application/").status_code == 200
    page = client.get(url)
    assert page.status_code == 200
    assert b"cv-siv.pdf" in page.content  # the application's documents are shown with it
    assert client.get("/admin/recruitment/applicationnote/").status_code == 200
    assert client.get("/admin/courses/registration/").status_code == 403


def test_marketing_sees_the_newsletter_but_not_course_registrations() -> None:
    client = _client(MARKETING)
    assert client.get("/admin/newsletter/subscription/").status_code == 200
    assert client.get("/admin/courses/registration/").status_code == 403
    assert client.get("/admin/recruitment/application/").status_code == 403
    assert b"/admin/courses/registration/" not in client.get("/admin/").content


def test_data_protection_officer_sees_holds_restrictions_and_the_audit_log() -> None:
    person = core.person_create(email="a@example.no", actor="t")
    core.restriction_place(person=person, ground="a", actor="t")
    client = _client(DPO)
    for page in ("/admin/core/hold/", "/admin/core/restriction/", "/admin/core/auditentry/"):
        assert client.get(page).status_code == 200, page
    assert client.get("/admin/recruitment/application/").status_code == 403


def test_staff_without_a_role_sees_nothing() -> None:
    user = User.objects.create_user("ny", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/core/person/").status_code == 403
    assert client.get("/admin/recruitment/application/").status_code == 403


def test_every_domain_admin_page_renders() -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    from django.utils import timezone

    from personvern.competitions import services as competitions
    from personvern.customers import services as customers
    from personvern.inquiries import services as inquiries
    from personvern.mailbox import services as mailbox
    from personvern.newsletter import services as newsletter

    person = core.person_create(email="kari@example.no", actor="t")
    subscription = newsletter.newsletter_subscribe(
        person=person, source="form", text_version="v1", actor="t"
    )
    issue = newsletter.newsletter_create(subject="Januar", actor="t")
    objects = [
        subscription,
        issue,
        newsletter.interaction_record(
            subscription=subscription, newsletter=issue, kind="open", actor="t"
        ),
        inquiries.inquiry_receive(
            email="kari@example.no", subject="Hei", message="Hei", channel="web", actor="t"
        ),
        competitions.entry_submit(
            competition=competitions.competition_create(
                title="Quiz", ends_at=timezone.now() + timedelta(days=1), actor="t"
            ),
            email="kari@example.no",
            contribution="42",
            actor="t",
        ),
        mailbox.mail_message_record(
            person=person, direction="in", mailbox="salg", subject="Hei", actor="t"
        ),
    ]
    customer = customers.customer_create(name="Fjord AS", kind="supplier", actor="t")
    customers.contact_add(customer=customer, person=person, actor="t")
    objects += [
        customer,
        customers.invoice_record(
            customer=customer, number="1", issued_on=date(2025, 1, 1), amount=Decimal(1), actor="t"
        ),
    ]
    url = _application_url()
    admin = User.objects.create_superuser("root", password=None)
    client = Client()
    client.force_login(admin)
    assert client.get(url).status_code == 200
    for obj in objects:
        assert obj is not None
        meta = obj._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        assert client.get(base).status_code == 200, base
        assert client.get(f"{base}{obj.pk}/change/").status_code == 200, base
    for page in (
        "/admin/recruitment/position/",
        "/admin/recruitment/applicationnote/",
        "/admin/recruitment/position/add/",
        "/admin/newsletter/newsletter/add/",
        "/admin/competitions/competition/add/",
        "/admin/customers/customer/add/",
    ):
        assert client.get(page).status_code == 200, page


def test_course_administrator_finds_participants_but_not_applicants_among_persons() -> None:
    from tests.courses.factories import make_course, register

    _application_url()  # an applicant: soker@example.no
    participant = register(make_course()).person
    client = _client(COURSE_ADMIN)
    listing = client.get("/admin/core/person/")
    assert listing.status_code == 200
    assert f"/admin/core/person/{participant.pk}/change/".encode() in listing.content
    applicant = core.person_get_or_create(email="soker@example.no", actor="t")[0]
    assert f"/admin/core/person/{applicant.pk}/change/".encode() not in listing.content
    assert client.get(f"/admin/core/person/{applicant.pk}/change/").status_code == 302
    # Nobody edits a person directly: corrections are audited rectification requests.
    page = client.get(f"/admin/core/person/{participant.pk}/change/")
    assert page.status_code == 200 and b'name="given_name"' not in page.content
    dpo_listing = _client(DPO).get("/admin/core/person/")
    assert f"/admin/core/person/{applicant.pk}/change/".encode() in dpo_listing.content


def test_view_only_roles_cannot_run_writing_actions() -> None:
    from personvern.customers import services as customers
    from personvern.customers.models import Customer

    customer = customers.customer_create(
        name="Advokatfirma AS", org_no="999888777", kind="customer", actor="t"
    )
    client = _client(COURSE_ADMIN)  # may view customers, not change them
    response = client.post(
        "/admin/customers/customer/",
        {"action": "end_relationship", "_selected_action": [customer.pk]},
    )
    assert response.status_code in (200, 302)
    assert Customer.objects.get(pk=customer.pk).relationship_ended_at is None


@pytest.mark.req("R24")
def test_course_administrator_does_not_meet_applicants_through_their_memberships() -> None:
    """Issue 7, 3.4: the membership list named job applicants the person admin hides."""
    from datetime import date

    from tests.courses.factories import make_course, register

    _application_url()  # an applicant: soker@example.no
    applicant = core.person_get_or_create(email="soker@example.no", actor="t")[0]
    participant = register(make_course()).person
    hidden, shown = (
        core.membership_add(person=person, organisation="juristforbundet",
                            valid_from=date(2020, 1, 1), actor="t")
        for person in (applicant, participant)
    )
    client = _client(COURSE_ADMIN)
    listing = client.get("/admin/core/membership/")
    assert listing.status_code == 200
    assert f"/admin/core/membership/{shown.pk}/change/".encode() in listing.content
    assert f"/admin/core/membership/{hidden.pk}/change/".encode() not in listing.content
    assert str(applicant.public_id).encode() not in listing.content
    assert client.get(f"/admin/core/membership/{hidden.pk}/change/").status_code == 302
    dpo_listing = _client(DPO).get("/admin/core/membership/")
    assert f"/admin/core/membership/{hidden.pk}/change/".encode() in dpo_listing.content


@pytest.mark.req("R15")
@pytest.mark.req("R22")
def test_account_manager_keeps_inquiries_and_customers_but_sees_nothing_else() -> None:
    from personvern.core.roles import ACCOUNT_MANAGER

    url = _application_url()
    client = _client(ACCOUNT_MANAGER)
    for page in (
        "/admin/inquiries/inquiry/",
        "/admin/inquiries/inquiry/add/",
        "/admin/customers/customer/",
        "/admin/customers/customer/add/",
        "/admin/customers/invoice/",
        "/admin/customers/invoice/add/",
    ):
        assert client.get(page).status_code == 200, page
    for page in (
        url,
        "/admin/recruitment/application/",
        "/admin/courses/registration/",
        "/admin/newsletter/subscription/",
        "/admin/competitions/entry/",
        "/admin/core/person/",
        "/admin/rights/request/",
    ):
        assert client.get(page).status_code == 403, page
    index = client.get("/admin/").content
    assert b"/admin/customers/customer/" in index and b"/admin/courses/" not in index


def test_marketing_may_create_and_close_competitions_but_not_customers() -> None:
    client = _client(MARKETING)
    assert client.get("/admin/competitions/competition/add/").status_code == 200
    assert client.get("/admin/competitions/entry/").status_code == 200
    assert client.get("/admin/customers/customer/add/").status_code == 403
