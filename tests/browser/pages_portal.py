"""Min side's own pages for the axe checks: the sign-in, its answers, the page empty and
full, a privacy request made there, and the public page to enter a confirmation code.

Also the helpers of the end-to-end test: a browser signed in through the real link
page (``sign_in_through_link``).
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from personvern.core import services as core
from personvern.core.models import Person
from personvern.newsletter import services as newsletter
from personvern.portal.signin import sign_in_token
from personvern.rights import services as rights
from personvern.rights.selfservice import request_make_signed_in
from tests.browser.openers import Opener, goto, seq


def _person(given: str = "Kari", family: str = "Nordmann") -> Person:
    return core.person_create(
        email=f"minside{next(seq)}@example.org", given_name=given, family_name=family, actor="t"
    )


def sign_in_through_link(page: Page, base: str, person: Person) -> None:
    """Open a sign-in link for ``person`` and press the button, as the person does."""
    page.goto(f"{base}/me/sign-in/link/{sign_in_token(person)}/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/me/")


def _sign_in_errors(page: Page, base: str, lang: str) -> None:
    goto("/me/sign-in/")(page, base, lang)
    page.locator("#id_email").fill("not an address")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_email[aria-invalid=true], .errorlist, .ds-validation-message")
           .first).to_be_visible()


def _sign_in_sent(page: Page, base: str, lang: str) -> None:
    goto("/me/sign-in/")(page, base, lang)
    page.locator("#id_email").fill(f"ukjent{next(seq)}@example.org")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/me/sign-in/sent/")


def _link_page(page: Page, base: str, lang: str) -> None:
    goto(f"/me/sign-in/link/{sign_in_token(_person())}/")(page, base, lang)


def _link_invalid(page: Page, base: str, lang: str) -> None:
    response = page.goto(f"{base}/me/sign-in/link/not-a-link/")
    assert response is not None and response.status == 404


def _link_used(page: Page, base: str, lang: str) -> None:
    token = sign_in_token(_person())
    page.goto(f"{base}/me/sign-in/link/{token}/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/me/")
    response = page.goto(f"{base}/me/sign-in/link/{token}/")
    assert response is not None and response.status == 410


def _empty(page: Page, base: str, lang: str) -> None:
    sign_in_through_link(page, base, _person("Ola"))


def _full(page: Page, base: str, lang: str) -> None:
    person = _person()
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    core.consent_record(person=person, scope="web-analytics-consent", action="given",
                        channel="test", text_version="t1", actor="t")
    request_make_signed_in(person=person, type="access")
    rights.request_create(type="erasure", person=person, channel="email",
                          received_at=person.created_at, actor="t")
    sign_in_through_link(page, base, person)


def _request_errors(page: Page, base: str, lang: str) -> None:
    sign_in_through_link(page, base, _person())
    goto("/me/rights/new/")(page, base, lang)
    page.locator("input[name=type][value=rectification]").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_details[aria-invalid=true], .errorlist, .ds-validation-message")
           .first).to_be_visible()


def _request_made(page: Page, base: str, lang: str) -> None:
    person = _person()
    request = request_make_signed_in(person=person, type="objection", details="Markedsanalyse")
    sign_in_through_link(page, base, person)
    goto(f"/me/rights/requests/{request.public_id}/?made=1")(page, base, lang)


def _verify(page: Page, base: str, lang: str) -> None:
    request = rights.request_create(type="access", person=_person(), channel="email",
                                    received_at=_person().created_at, actor="t")
    goto(f"/privacy/requests/{request.public_id}/verify/")(page, base, lang)


def _verify_errors(page: Page, base: str, lang: str) -> None:
    _verify(page, base, lang)
    page.locator("#id_code").fill("12")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_code[aria-invalid=true], .errorlist, .ds-validation-message")
           .first).to_be_visible()


def _signed_out(page: Page, base: str, lang: str) -> None:
    sign_in_through_link(page, base, _person())
    page.locator("form[action$='/me/sign-out/'] button").click()
    page.wait_for_url("**/me/signed-out/")


PAGES: dict[str, Opener] = {
    "Min side sign-in form": goto("/me/sign-in/"),
    "Min side sign-in form with errors": _sign_in_errors,
    "Min side sign-in link sent": _sign_in_sent,
    "Min side sign-in link page": _link_page,
    "Min side sign-in link invalid": _link_invalid,
    "Min side sign-in link used": _link_used,
    "Min side empty": _empty,
    "Min side full": _full,
    "Min side new request with errors": _request_errors,
    "Min side request made": _request_made,
    "Min side signed out": _signed_out,
    "privacy request confirmation code": _verify,
    "privacy request confirmation code with errors": _verify_errors,
}
