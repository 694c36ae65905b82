"""Helpers to write broken copies of the default policy and read the problems back."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from personvern.policy import PolicyError, Problem, default_policy_path, load_policy

DEFAULT_TEXT = default_policy_path().read_text(encoding="utf-8")

#: The customer's own privacy statement, inside the shared folder beside the repository.
STATEMENT = Path("seed") / "personvernerklaering.txt"


def customer_statement() -> Path | None:
    """The customer's statement, or None when it is nowhere to be found.

    ``$PERSONVERN_SHARED_DIR/seed/personvernerklaering.txt`` when that variable is
    set (a CI clone puts the shared folder where it likes); otherwise the first
    ``shared/seed/personvernerklaering.txt`` found walking up from this checkout,
    wherever the checkout lives.
    """
    configured = os.environ.get("PERSONVERN_SHARED_DIR")
    if configured:
        path = Path(configured) / STATEMENT
        return path if path.is_file() else None
    for parent in Path(__file__).resolve().parents:
        path = parent / "shared" / STATEMENT
        if path.is_file():
            return path
    return None


def edit(text: str, old: str, new: str, *, after: str | None = None) -> str:
    """Replace the first ``old`` (after the first ``after``, if given) by ``new``."""
    start = text.index(after) if after is not None else 0
    index = text.index(old, start)
    return text[:index] + new + text[index + len(old) :]


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    """Write a policy file into the test's directory."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, *, after: str | None = None) -> int:
    """The 1-based line of the first ``needle`` (after ``after``)."""
    start = text.index(after) if after is not None else 0
    return text.count("\n", 0, text.index(needle, start)) + 1


def problems(path: Path, *, as_of: dt.date | None = None) -> list[Problem]:
    """Load ``path`` expecting a PolicyError; return its problems."""
    with pytest.raises(PolicyError) as caught:
        load_policy(path, as_of=as_of)
    return caught.value.problems


def find(found: list[Problem], field: str) -> Problem:
    """The single problem reported for ``field`` (fails listing all when absent)."""
    matches = [p for p in found if p.field == field]
    assert len(matches) == 1, f"expected one problem at {field}, got: {[str(p) for p in found]}"
    return matches[0]
