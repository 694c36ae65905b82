"""Account managers and marketing do their daily work in the back office (R15, R22, R23).

One real task per role, end to end in Chromium: the account manager registers
an inquiry and creates a customer with a contact person and an invoice;
marketing creates a competition, reviews an entry and closes the competition.
Fields are found by their ids, so the test holds in either language.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from personvern.competitions import services as competitions
from personvern.competitions.models import Competition, Entry
from personvern.core.models import AuditEntry
from personvern.customers.models import Customer, CustomerContact, Invoice
from personvern.inquiries.models import Inquiry
from tests.browser.test_backoffice import _login, _staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _save(page: Page) -> None:
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist .success")).to_be_visible()


@pytest.mark.req("R15")
@pytest.mark.req("R22")
def test_account_manager_registers_an_inquiry_and_a_customer_with_contact_and_invoice(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    password = _staff("anne", "account manager")
    _login(page, base, "anne", password)

    page.goto(f"{base}/admin/inquiries/inquiry/add/")
    page.fill("#id_given_name", "Ola")
    page.fill("#id_family_name", "Nordmann")
    page.fill("#id_email", "ola@fjord.no")
    page.fill("#id_company", "Fjord Advokat AS")
    page.fill("#id_subject", "Bedriftskurs i personvern")
    page.fill("#id_message", "Ringte og spurte om et kurs for ti ansatte.")
    _save(page)
    inquiry = Inquiry.objects.get()
    assert (inquiry.channel, inquiry.person.given_name) == ("account-manager", "Ola")
    expect(page.locator("#result_list")).to_contain_text("Bedriftskurs i personvern")

    page.goto(f"{base}/admin/customers/customer/add/")
    page.fill("#id_name", "Fjord Advokat AS")
    page.fill("#id_org_no", "987 654 321")
    page.select_option("#id_kind", "customer")
    page.click("#id_relationship_started_at_0 ~ .datetimeshortcuts a")  # Today
    page.click("#id_relationship_started_at_1 ~ .datetimeshortcuts a")  # Now
    page.fill("#id_agreed_retention_until", "2035-12-31")
    page.fill("#id_contacts-2-0-given_name", "Ola")
    page.fill("#id_contacts-2-0-email", "ola@fjord.no")
    page.fill("#id_contacts-2-0-role", "Daglig leder")
    _save(page)
    customer = Customer.objects.get()
    assert customer.agreed_retention_until.isoformat() == "2035-12-31"
    contact = CustomerContact.objects.get()
    assert contact.person == inquiry.person  # the inquirer, not a second profile

    page.goto(f"{base}/admin/customers/customer/{customer.pk}/change/")
    expect(page.locator("#content-main")).to_contain_text("Daglig leder")
    page.fill("#id_invoices-2-0-number", "2026-001")
    page.fill("#id_invoices-2-0-issued_on", timezone.localdate().isoformat())
    page.fill("#id_invoices-2-0-amount", "12500")
    page.select_option("#id_invoices-2-0-person", str(contact.person_id))
    _save(page)
    invoice = Invoice.objects.get()
    assert (invoice.customer, invoice.person, invoice.amount) == (customer, contact.person, 12500)
    actions = set(AuditEntry.objects.filter(actor="staff:anne").values_list("action", flat=True))
    assert {"inquiry.received", "customer.created", "customer.contact_added",
            "customer.invoice_recorded"} <= actions


@pytest.mark.req("R23")
def test_marketing_creates_a_competition_reviews_an_entry_and_closes_it(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    password = _staff("mia", "marketing")
    _login(page, base, "mia", password)

    page.goto(f"{base}/admin/competitions/competition/add/")
    page.fill("#id_title", "Årets kursidé")
    page.fill("#id_description", "Foreslå et kurs. Premie: et gavekort.")
    ends = timezone.localtime() + timedelta(days=30)
    page.fill("#id_ends_at_0", ends.date().isoformat())
    page.fill("#id_ends_at_1", "12:00:00")
    _save(page)
    competition = Competition.objects.get()
    assert competition.slug == "arets-kurside"

    entry = competitions.entry_submit(
        competition=competition, email="kari@example.no", given_name="Kari",
        family_name="Nordmann", contribution="Kurs i klarspråk.", workplace="Advokatfirma AS",
        actor="site",
    )
    page.goto(f"{base}/admin/competitions/competition/{competition.pk}/change/")
    expect(page.locator("#content-main")).to_contain_text("Advokatfirma AS")
    page.goto(f"{base}/admin/competitions/entry/{entry.pk}/change/")
    expect(page.locator("#content-main")).to_contain_text("Kurs i klarspråk.")
    page.fill("#id_feedback", "Et godt forslag: vi setter det opp i høst.")
    page.check("#id_is_winner")
    page.check("#id_send_feedback")
    _save(page)
    reviewed = Entry.objects.get()
    assert reviewed.is_winner and reviewed.feedback_sent_at is not None

    page.goto(f"{base}/admin/competitions/competition/")
    page.check(f"input[name=_selected_action][value='{competition.pk}']")
    page.select_option("select[name=action]", "close")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist .success")).to_be_visible()
    assert Competition.objects.get().ends_at <= timezone.now()
    actions = set(AuditEntry.objects.filter(actor="staff:mia").values_list("action", flat=True))
    assert {"competition.created", "competition.entry_reviewed", "competition.feedback_sent",
            "competition.closed"} <= actions
