"""Fixtures of the public site tests, incl. a real Chromium for the browser test.

The ``browser``/``page`` fixtures are copies of tests/browser/conftest.py's
(a non-root conftest cannot pull another's fixtures in with pytest_plugins).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between page actions are ordinary blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATS_MIDDLEWARE = "personvern.webstats.middleware.WebStatsMiddleware"


@pytest.fixture(autouse=True)
def _site_urls(settings: object) -> None:
    """Serve the site and course pages (``personvern.site_urls`` may not include them yet)."""
    settings.ROOT_URLCONF = "tests.site.urls"  # type: ignore[attr-defined]


@pytest.fixture
def stats_middleware() -> Iterator[None]:
    """The statistics middleware in the stack (until the lead's settings list it)."""
    middleware = list(settings.MIDDLEWARE)
    if STATS_MIDDLEWARE not in middleware:
        middleware.append(STATS_MIDDLEWARE)
    with override_settings(MIDDLEWARE=middleware):
        yield


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        pytest.fail("Debian's chromium is not installed (./run test installs it as root).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    yield page
    context.close()
