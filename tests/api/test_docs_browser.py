"""Swagger UI at /api/docs renders in a real Chromium under the project's CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

@pytest.mark.req("R32")
def test_swagger_ui_renders_without_csp_violations(page: Page, live_server: object) -> None:
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )

    response = page.goto(f"{live_server}/api/docs")

    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Personvern API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/requests/{request_id}/bundle")).to_be_visible()
    assert refused == []
