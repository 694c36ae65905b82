"""Pages of the newsletter sign-up and the competitions, for the axe checks
(tests/browser/test_accessibility.py picks up ``PAGES``)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from personvern.competitions import services as competitions
from personvern.competitions.models import Competition
from personvern.newsletter import services as newsletter
from tests.browser.openers import Opener, goto, seq


def _signup_token() -> str:
    return newsletter.signup_token(newsletter.SignUp(
        email=f"leser{next(seq)}@example.no", given_name="Kari", family_name="",
        text_version=newsletter.CONSENT_TEXT_VERSION, issued_at=timezone.now(),
    ))


def _subscribe_errors(page: Page, base: str, lang: str) -> None:
    goto("/newsletter/subscribe/")(page, base, lang)
    page.locator("#id_email").fill("not an address")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".errorlist").first).to_be_visible()


def _subscribe_sent(page: Page, base: str, lang: str) -> None:
    goto("/newsletter/subscribe/")(page, base, lang)
    page.locator("#id_email").fill(f"leser{next(seq)}@example.no")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/subscribe/sent/")


def _confirm(page: Page, base: str, lang: str) -> None:
    goto(f"/newsletter/confirm/{_signup_token()}/")(page, base, lang)


def _confirmed(page: Page, base: str, lang: str) -> None:
    _confirm(page, base, lang)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main form")).to_have_count(0)


def _confirm_invalid(page: Page, base: str, lang: str) -> None:
    response = page.goto(f"{base}/newsletter/confirm/not-a-token/")
    assert response is not None and response.status == 404


def _competition(*, days: int = 14) -> Competition:
    return competitions.competition_create(
        title=f"Årets beste kursidé {next(seq)}", actor="t",
        ends_at=timezone.now() + timedelta(days=days),
        description="Beskriv kurset du savner.\n\nPremie: et valgfritt dagskurs.",
    )


def _competition_list(page: Page, base: str, lang: str) -> None:
    _competition()
    goto("/competitions/")(page, base, lang)


def _entry_form(page: Page, base: str, lang: str) -> None:
    goto(f"/competitions/{_competition().slug}/")(page, base, lang)


def _entry_errors(page: Page, base: str, lang: str) -> None:
    _entry_form(page, base, lang)
    page.locator("#id_email").fill("not an address")
    page.locator("#id_phone").fill("ring meg")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".errorlist").first).to_be_visible()


def _entered(page: Page, base: str, lang: str) -> None:
    _entry_form(page, base, lang)
    page.locator("#id_given_name").fill("Kari")
    page.locator("#id_family_name").fill("Nordmann")
    page.locator("#id_email").fill(f"kari{next(seq)}@example.no")
    page.locator("#id_contribution").fill("Et kurs om KI og personvern.")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/entered/")


def _closed(page: Page, base: str, lang: str) -> None:
    goto(f"/competitions/{_competition(days=-3).slug}/")(page, base, lang)


PAGES: dict[str, Opener] = {
    "newsletter subscribe form": goto("/newsletter/subscribe/"),
    "newsletter subscribe form with errors": _subscribe_errors,
    "newsletter subscribe, mail sent": _subscribe_sent,
    "newsletter confirm": _confirm,
    "newsletter confirmed": _confirmed,
    "newsletter confirm, invalid link": _confirm_invalid,
    "competitions list": _competition_list,
    "competition entry form": _entry_form,
    "competition entry form with errors": _entry_errors,
    "competition entry received": _entered,
    "competition closed": _closed,
}
