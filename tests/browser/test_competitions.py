"""Entering a competition in a real browser (R23)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from personvern.competitions import services
from personvern.competitions.models import Entry
from personvern.core.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill(page: Page, **values: str) -> None:
    labels = {"given_name": "Given name", "family_name": "Family name",
              "email": "E-mail address", "phone": "Phone (optional)",
              "workplace": "Workplace (optional)", "contribution": "Your entry"}
    for name, value in values.items():
        page.get_by_label(labels[name], exact=True).fill(value)


@pytest.mark.req("R23")
def test_a_visitor_finds_a_competition_and_enters_it(
    page: Page, live_server: Any, smtp_server: Any
) -> None:
    base = str(live_server)
    competition = services.competition_create(
        title="Årets kursidé", ends_at=timezone.now() + timedelta(days=5), actor="t",
        description="Beskriv kurset du savner.",
    )
    services.competition_create(title="Gammel quiz", actor="t",
                                ends_at=timezone.now() - timedelta(days=5))
    page.goto(f"{base}/competitions/")
    expect(page.locator("main")).not_to_contain_text("Gammel quiz")
    page.get_by_role("link", name="Årets kursidé").click()
    expect(page.locator("h1")).to_have_text("Årets kursidé")
    expect(page.locator("main")).to_contain_text("Beskriv kurset du savner.")
    expect(page.locator("main")).to_contain_text(
        "Kept for 1 month after the competition has ended, then deleted.")

    # Bad input: a message next to each field, nothing stored.
    _fill(page, email="kari.example.no", phone="ring meg")
    page.get_by_role("button", name="Send entry").click()
    for label in ("Given name", "E-mail address", "Phone (optional)", "Your entry"):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#{field.get_attribute('id')}_error.errorlist")
        expect(error).to_be_visible()  # the message, next to the field and tied to it
        assert f"{field.get_attribute('id')}_error" in (
            field.get_attribute("aria-describedby") or "").split()
    assert (Entry.objects.count(), Person.objects.count()) == (0, 0)

    _fill(page, given_name="Kari", family_name="Nordmann", email="kari@example.no",
          phone="912 34 567", workplace="Advokatfirma AS", contribution="Et kurs i KI-rett.")
    page.get_by_role("button", name="Send entry").click()
    expect(page.locator("h1")).to_have_text("Entry received")
    entry = Entry.objects.select_related("person").get(competition=competition)
    assert (entry.person.given_name, entry.person.phone, entry.workplace, entry.contribution) == (
        "Kari", "912 34 567", "Advokatfirma AS", "Et kurs i KI-rett.")
    [mail] = smtp_server.wait_for(1)
    assert "Et kurs i KI-rett." in mail.body

    # The same address again: the same answer, nothing new stored.
    page.goto(f"{base}/competitions/{competition.slug}/")
    _fill(page, given_name="Noen", family_name="Andre", email="kari@example.no",
          contribution="Noe annet")
    page.get_by_role("button", name="Send entry").click()
    expect(page.locator("h1")).to_have_text("Entry received")
    assert Entry.objects.get().contribution == "Et kurs i KI-rett."


@pytest.mark.req("R23")
def test_a_closed_competition_says_so_and_has_no_form(page: Page, live_server: Any) -> None:
    competition = services.competition_create(
        title="Sommerquiz", ends_at=timezone.now() - timedelta(hours=1), actor="t")
    page.goto(f"{live_server}/competitions/{competition.slug}/")
    expect(page.locator("main")).to_contain_text("This competition closed on")
    expect(page.locator("main form")).to_have_count(0)
