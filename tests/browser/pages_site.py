"""Axe page checks of the site's error pages (the 500 page and the CSRF refusal)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from playwright.sync_api import Page

from tests.browser.openers import Opener, goto


def _server_error(page: Page, base: str, lang: str) -> None:
    """The 500 page as Django's handler renders it (no request), answered at an address."""
    with translation.override(lang):
        body = render_to_string("500.html")

    def fulfil(route: Any) -> None:
        route.fulfill(status=500, content_type="text/html; charset=utf-8", body=body)

    page.route(f"{base}/server-error-check/", fulfil)
    page.goto(f"{base}/server-error-check/")
    page.unroute(f"{base}/server-error-check/")


def _csrf_refused(page: Page, base: str, lang: str) -> None:
    """A form sent after its CSRF cookie is gone: the translated 403 page."""
    goto("/privacy/cookies/choice/")(page, base, lang)
    page.context.clear_cookies()
    with page.expect_response(lambda r: r.status == 403):
        page.locator("main button[value=declined]").click()
    page.wait_for_load_state("load")


PAGES: dict[str, Opener] = {
    "server error (500)": _server_error,
    "form refused (CSRF)": _csrf_refused,
}
