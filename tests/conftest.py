"""Suite-wide fixtures and the requirement report.

``pytest --req-report`` prints, for every requirement ID (R1–R41) of
../shared/REQUIREMENTS.md, how many collected tests demonstrate it, and lists
the IDs no test names.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

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


_COUNTS = pytest.StashKey[Counter[str]]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not config.getoption("--req-report"):
        return
    counts = config.stash.get(_COUNTS, Counter())
    terminalreporter.section("requirements demonstrated by tests")
    for rid in ALL_IDS:
        terminalreporter.write_line(f"{rid:>4}: {counts.get(rid, 0)} test(s)")
    missing = [rid for rid in ALL_IDS if not counts.get(rid)]
    terminalreporter.write_line("not demonstrated: " + (", ".join(missing) or "none"))
