"""Swagger UI at /api/docs renders in a real Chromium under the project's CSP."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def docs_page() -> Iterator[Page]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        pytest.fail("Debian's chromium is not installed (./run test installs it as root).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        yield page
        browser.close()


@pytest.mark.req("R32")
def test_swagger_ui_renders_without_csp_violations(docs_page: Page, live_server: object) -> None:
    refused: list[str] = []
    docs_page.on(
        "console",
        lambda message: refused.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )

    response = docs_page.goto(f"{live_server}/api/docs")

    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(docs_page.locator(".swagger-ui .info .title")).to_contain_text("Personvern API")
    expect(docs_page.locator(".opblock-summary-path").first).to_be_visible()
    expect(docs_page.get_by_text("/api/requests/{request_id}/bundle")).to_be_visible()
    assert refused == []
