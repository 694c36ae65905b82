"""Representative back-office pages pass axe-core (WCAG 2.1 A and AA) in Chromium.

As the public pages do (``test_accessibility.py``, whose axe run this reuses:
axe-core from ``axe-playwright-python``, injected by Playwright, which the
strict Content Security Policy does not govern): a list, a list with the job
overview, a change form with split date/time inputs, an entry's review form,
the invoice form, a customer's form with tabular inline rows and the data
protection officer's overview, each in nb and en,
at a desktop width and at 390 px, logged in as a superuser on demo data.

Faults this caught, now fixed: the date and the time input of Django's split
date/time widget had no label (``templates/admin/widgets/split_datetime.html``
gives each its own), nor had the inputs of a tabular inline's rows
(``templates/admin/edit_inline/tabular.html``), and the breadcrumb links and
links in running text were told from the text beside them by colour only
(``site/admin.css`` underlines them).

``PERSONVERN_A11Y_SCREENSHOTS=DIR`` saves a full-page screenshot of each.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from rich.console import Console

from personvern.competitions.models import Entry
from personvern.demo import cli as demo_cli
from tests.browser import PAGES_CHECKED_ONCE
from tests.browser.test_accessibility import LANGUAGES, SCREENSHOTS, WIDTHS, _violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    PAGES_CHECKED_ONCE,
]

PASSWORD = "a-Long-test-passw0rd"
#: Page name → its address (a function of the demo data where it names an object).
PAGES: dict[str, Any] = {
    "index": lambda: "/admin/",
    "outgoing mail list": lambda: "/admin/worker/outgoingmail/",
    "job runs with the overview": lambda: "/admin/worker/jobrun/",
    "new competition (date and time)": lambda: "/admin/competitions/competition/add/",
    "competition entry review": lambda: (
        f"/admin/competitions/entry/{Entry.objects.order_by('pk').first().pk}/change/"  # type: ignore[union-attr]
    ),
    "new invoice (date)": lambda: "/admin/customers/invoice/add/",
    "new customer (inline rows)": lambda: "/admin/customers/customer/add/",
    "DPO overview": lambda: "/admin/rights/request/overview/",
}
#: The labels of the split date/time widget's inputs, per language (Django's words).
DATE_TIME_LABELS = {"nb": ("Dato:", "Tid:"), "en": ("Date:", "Time:")}


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "tilgjengelig")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def test_back_office_pages_pass_axe_in_both_languages_and_at_390_px(
    browser: Browser, live_server: Any
) -> None:
    demo_cli.generate(persons=20, seed=7, now=timezone.now() - timedelta(minutes=1),
                      console=Console(file=io.StringIO()))
    assert Entry.objects.exists()  # the demo has a competition entry to review
    User.objects.create_superuser("tilgjengelig", password=PASSWORD)
    base = str(live_server)
    problems: list[str] = []
    for lang, locale in LANGUAGES.items():
        for width, (w, h) in WIDTHS.items():
            context = browser.new_context(locale=locale, viewport={"width": w, "height": h})
            page = context.new_page()
            try:
                _login(page, base)
                for name, path in PAGES.items():
                    response = page.goto(base + path())
                    assert response is not None and response.ok, f"{name}: {response}"
                    html_lang = page.locator("html").get_attribute("lang")
                    if html_lang != lang:
                        problems.append(f"{name} [{lang}, {width}]: <html lang={html_lang}>")
                    problems += [f"{name} [{lang}, {width}]: axe {line}"
                                 for line in _violations(page)]
                    if SCREENSHOTS:
                        shot = f"backoffice-{name.split(' (')[0].replace(' ', '_')}-{lang}-{width}"
                        page.screenshot(path=str(Path(SCREENSHOTS) / f"{shot}.png"),
                                        full_page=True)
                # The date and the time input are named by their own labels, in words.
                page.goto(base + PAGES["new competition (date and time)"]())
                date_label, time_label = DATE_TIME_LABELS[lang]
                expect(page.get_by_label(date_label, exact=True)).to_have_id("id_ends_at_0")
                expect(page.get_by_label(time_label, exact=True)).to_have_id("id_ends_at_1")
            finally:
                context.close()
    assert not problems, "\n".join(problems)
