"""Suite-wide fixtures and the requirement report.

``pytest --req-report`` prints, for every requirement ID (R1–R41) of
../shared/REQUIREMENTS.md, how many collected tests demonstrate it, and lists
the IDs no test names.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_django.fixtures
from playwright.sync_api import Browser, Page, sync_playwright

pytest_plugins = ["tests.mail", "tests.scanning", "tests.imap"]

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# browser tests make between page actions are ordinary blocking calls.
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One real Chromium (Debian's) for the whole run, driven by Playwright."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        pytest.fail("Debian's chromium is not installed (./run test installs it as root).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def audit_anchor(
    settings: pytest_django.fixtures.SettingsWrapper, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Each test's audit chain starts afresh, so it gets its own anchor file."""
    path = tmp_path_factory.mktemp("audit") / "audit-anchor"
    settings.PERSONVERN_AUDIT_ANCHOR = path
    return path


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


ALL_IDS = [f"R{i}" for i in range(1, 42)]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--req-report", action="store_true", help="print which requirements tests demonstrate"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    counts: Counter[str] = Counter()
    for item in items:
        for mark in item.iter_markers("req"):
            for rid in mark.args:
                if not re.fullmatch(r"R([1-9]|[1-3][0-9]|4[01])", str(rid)):
                    raise pytest.UsageError(f"{item.nodeid}: unknown requirement id {rid!r}")
                counts[str(rid)] += 1
    config.stash[_COUNTS] = counts
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller prints the report
        workeroutput["req_counts"] = dict(counts)


_COUNTS = pytest.StashKey[Counter[str]]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """Under pytest-xdist the workers collect; each collects every test, so one's counts do."""
    counts = getattr(node, "workeroutput", {}).get("req_counts")
    if counts is not None:
        node.config.stash[_COUNTS] = Counter(counts)  # type: ignore[attr-defined]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if not config.getoption("--req-report"):
        return
    counts = config.stash.get(_COUNTS, Counter())
    terminalreporter.section("requirements demonstrated by tests")
    for rid in ALL_IDS:
        terminalreporter.write_line(f"{rid:>4}: {counts.get(rid, 0)} test(s)")
    missing = [rid for rid in ALL_IDS if not counts.get(rid)]
    terminalreporter.write_line("not demonstrated: " + (", ".join(missing) or "none"))
