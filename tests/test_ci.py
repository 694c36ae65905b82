"""One rule for "is this CI?" (tests/ci.py), and the customer's statement is found or CI fails.

The IMAP and clamd fixtures and the own-words test of the notice all skip
outside CI and fail in it when what they need is missing; they must agree on
what "in CI" means, and the statement must be found wherever the shared folder
is (``PERSONVERN_SHARED_DIR``) or beside any checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci import in_ci, skip_or_fail
from tests.policy.helpers import STATEMENT, customer_statement

REPO = Path(__file__).resolve().parent.parent
OWN_WORDS = "tests/policy/test_render.py::test_notice_texts_are_our_own_words"


@pytest.mark.parametrize(
    "value, expected",
    [("true", True), ("1", True), ("yes", True), ("TRUE", True), ("Yes", True),
     ("", False), ("0", False), ("false", False), ("no", False)],
)
def test_ci_is_one_rule(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_unset_ci_is_not_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert in_ci() is False


def test_skip_or_fail_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="no clamd"):
        skip_or_fail("no clamd")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="no clamd"):
        skip_or_fail("no clamd")


def test_the_fixtures_use_the_one_rule() -> None:
    for helper in ("tests/imap.py", "tests/scanning.py"):
        source = (REPO / helper).read_text(encoding="utf-8")
        assert "skip_or_fail(" in source
        assert 'environ.get("CI"' not in source


def test_the_statement_is_found_through_the_shared_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / STATEMENT).parent.mkdir(parents=True)
    (tmp_path / STATEMENT).write_text("Erklæring.", encoding="utf-8")
    monkeypatch.setenv("PERSONVERN_SHARED_DIR", str(tmp_path))
    assert customer_statement() == tmp_path / STATEMENT

    monkeypatch.setenv("PERSONVERN_SHARED_DIR", str(tmp_path / "elsewhere"))
    assert customer_statement() is None


def _own_words(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "CI"} | env
    return subprocess.run(  # noqa: S603 - our own interpreter and pytest
        [sys.executable, "-m", "pytest", OWN_WORDS, "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )


def test_the_own_words_test_fails_in_ci_without_the_statement(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-shared-here")
    no_fingerprint = str(tmp_path / "no-fingerprint")

    in_ci_run = _own_words(tmp_path, CI="true", PERSONVERN_SHARED_DIR=missing,
                           PERSONVERN_STATEMENT_FINGERPRINT=no_fingerprint)
    local_run = _own_words(tmp_path, PERSONVERN_SHARED_DIR=missing,
                           PERSONVERN_STATEMENT_FINGERPRINT=no_fingerprint)

    assert in_ci_run.returncode == 1, in_ci_run.stdout
    assert "1 failed" in in_ci_run.stdout and "customer's statement" in in_ci_run.stdout
    assert local_run.returncode == 0, local_run.stdout
    assert "1 skipped" in local_run.stdout


def test_a_clone_without_the_statement_compares_against_its_fingerprint(tmp_path: Path) -> None:
    """CI's clone has no shared folder beside it: the committed fingerprint stands in."""
    run = _own_words(tmp_path, CI="true", PERSONVERN_SHARED_DIR=str(tmp_path / "nothing"))
    assert run.returncode == 0, run.stdout
    assert "1 passed" in run.stdout


def test_a_copied_sentence_is_caught_by_the_fingerprint() -> None:
    """Wherever it stands: on its own, or inside a longer sentence of ours."""
    from tests.policy.statement import copied_runs, read_fingerprint, sentences

    statement = customer_statement()
    if statement is None:
        pytest.skip("needs the statement to pick a sentence from")
    known = read_fingerprint()
    assert known is not None
    copied = sentences(statement.read_text(encoding="utf-8"))[3]
    alone = f"Our own words come first.\n{copied}\nThen more of ours."
    inside = f"As we said before, {copied[0].lower()}{copied[1:-1]}, and so on."
    for notice in (alone, inside):
        assert len(copied_runs(notice, known)) == 1, notice
    assert copied_runs("Nothing of theirs here, only our own words.", known) == []
