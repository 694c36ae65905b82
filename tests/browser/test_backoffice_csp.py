"""No page of the back office reports a Content Security Policy violation in Chromium.

One browser, one superuser login, demo data: the admin index, then for every
model registered with the admin (read from ``admin.site._registry`` when the test
runs, so admins added later are walked too) its list, its add page, one object's
change and history pages, and every extra view the model admin adds without a
parameter in its URL (the web statistics' charts). Chromium reports each
violation on the console ("Applying inline style violates the following Content
Security Policy directive …") and as a
``securitypolicyviolation`` event; an init script (injected by Playwright, which
the page's CSP does not govern) turns each event into a console error too.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import URLPattern, reverse
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, expect
from rich.console import Console

from personvern.demo import cli as demo_cli
from tests.browser import PAGES_CHECKED_ONCE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    PAGES_CHECKED_ONCE,
]

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""
STANDARD_VIEWS = ("_changelist", "_add", "_change", "_delete", "_history")


def _pages() -> list[str]:
    """Every back-office page to walk, discovered from the admin's registry."""
    pages = [reverse("admin:index"), reverse("admin:password_change")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        pages += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages += [reverse(f"{name}_change", args=[first.pk]),
                      reverse(f"{name}_history", args=[first.pk])]
        for pattern in model_admin.get_urls():
            if (isinstance(pattern, URLPattern) and pattern.name
                    and not pattern.name.endswith(STANDARD_VIEWS)
                    and not pattern.pattern.converters):
                pages.append(reverse(f"admin:{pattern.name}"))
    return pages


def test_no_back_office_page_reports_a_csp_violation(browser: Browser, live_server: object) -> None:
    demo_cli.generate(persons=20, seed=7, now=timezone.now() - timedelta(minutes=1),
                      console=Console(file=io.StringIO()))
    User.objects.create_superuser("walker", password="a-Long-test-passw0rd")
    context = browser.new_context(locale="nb-NO")
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    reports: list[str] = []
    current = {"url": ""}

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "CSP violation" in text:
            reports.append(f"{current['url']}: {text}")

    page.on("console", on_console)
    base = str(live_server)
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "walker")
    page.fill("#id_password", "a-Long-test-passw0rd")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("Personvern")

    pages = _pages()
    failed = []
    for path in pages:
        current["url"] = path
        response = page.goto(base + path)
        if response is None or response.status >= 500:
            failed.append(f"{path}: {response and response.status}")
    context.close()

    assert len(pages) > 3 * len(admin.site._registry)  # the walk found the admins' pages
    assert failed == [], failed
    assert reports == [], "\n".join(reports)
