"""A policy file that cannot even be parsed: a clear error naming file and line, never a crash.

A careless save (Latin-1 instead of UTF-8), a file cut off in the middle and a
runaway array must each be reported by the loader, by ``personvern policy
check``, by ``manage check`` (which every Django command runs) and by any other
command that needs the policy, as ``file:line: error: …`` without a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from personvern.cli import main
from personvern.policy import PolicyError, load_policy, parse_policy
from personvern.policy.loader import MAX_NESTING
from tests.policy.helpers import DEFAULT_TEXT, write


def _latin1(tmp_path: Path) -> tuple[Path, int]:
    """The default policy saved as Latin-1; the first line with æ, ø or å is where it breaks."""
    path = tmp_path / "latin1.toml"
    path.write_bytes(DEFAULT_TEXT.encode("latin-1", errors="replace"))
    first = next(
        number
        for number, line in enumerate(DEFAULT_TEXT.splitlines(), start=1)
        if any(ord(char) > 127 for char in line)
    )
    return path, first


def _nested(tmp_path: Path) -> tuple[Path, int]:
    """Two good lines, then 100,000 opening brackets on line 3."""
    return write(tmp_path, 'version = "1"\n# a comment with [[[ brackets\nx = ' + "[" * 100_000,
                 "nested.toml"), 3


def _truncated(tmp_path: Path) -> tuple[Path, int]:
    """The default policy cut off after ``consent_required = `` on its last line."""
    text = DEFAULT_TEXT.rstrip()
    text = text[: text.rindex("=") + 1]
    return write(tmp_path, text, "truncated.toml"), text.count("\n") + 1


BROKEN = {"latin1": _latin1, "nested": _nested, "truncated": _truncated}
MESSAGES = {
    "latin1": "is not UTF-8",
    "nested": f"nested more than {MAX_NESTING} levels deep",
    "truncated": "at the end of the file",
}


@pytest.mark.req("R2")
@pytest.mark.parametrize("kind", BROKEN)
def test_the_loader_names_file_and_line(tmp_path: Path, kind: str) -> None:
    path, line = BROKEN[kind](tmp_path)

    with pytest.raises(PolicyError) as caught:
        load_policy(path)

    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), line)
    assert MESSAGES[kind] in problem.message
    assert str(problem).startswith(f"{path}:{line}: error: ")


def test_an_error_at_the_very_end_names_the_last_line() -> None:
    for text in ('a = 1\nb = "never closed', "a = 1\n[table", 'a = 1\nb = """\nopen\n\n'):
        with pytest.raises(PolicyError) as caught:
            parse_policy(text, source="p.toml")
        [problem] = caught.value.problems
        assert problem.line == text.rstrip().count("\n") + 1, (text, str(problem))


def test_brackets_in_strings_and_comments_do_not_count_as_nesting() -> None:
    deep = "[" * (MAX_NESTING + 5)
    text = (
        f'a = "{deep}"\nb = \'{deep}\'\nc = """\n{deep}\n"""\n# {deep}\n'
        f'd = "\\"{deep}"\ne = \'C:\\\'\nf = [[[1]]]\n'
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="p.toml")
    # Parsed and validated: the problems are about the schema, not the nesting.
    assert all("nested" not in p.message for p in caught.value.problems)
    assert not any(p.field == "" for p in caught.value.problems)


def test_a_byte_order_mark_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DEFAULT_TEXT.encode("utf-8"))

    assert load_policy(path).version


def _run(args: list[str], policy: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PERSONVERN_POLICY=str(policy))
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "personvern", *args],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.req("R2")
@pytest.mark.parametrize("kind", BROKEN)
@pytest.mark.parametrize(
    "command",
    [["policy", "check"], ["manage", "check"]],
    ids=["policy-check", "manage-check"],
)
def test_commands_report_the_file_without_a_traceback(
    tmp_path: Path, kind: str, command: list[str]
) -> None:
    path, line = BROKEN[kind](tmp_path)

    result = _run(command, path, tmp_path)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{path}:{line}: error: " in result.stderr
    assert MESSAGES[kind] in result.stderr


@pytest.mark.parametrize("kind", BROKEN)
def test_any_command_that_needs_the_policy_reports_it(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str], settings: object
) -> None:
    path, line = BROKEN[kind](tmp_path)
    settings.PERSONVERN_POLICY = str(path)  # type: ignore[attr-defined]

    code = main(["policy", "render", "--lang", "en"])

    _out, err = capsys.readouterr()
    assert code == 1
    assert f"{path}:{line}: error: " in err


def test_a_missing_policy_file_is_an_error_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: object
) -> None:
    missing = tmp_path / "nowhere.toml"
    settings.PERSONVERN_POLICY = str(missing)  # type: ignore[attr-defined]

    code = main(["retention", "forecast"])

    _out, err = capsys.readouterr()
    assert code == 1
    assert f"{missing}: error: cannot read the policy" in err
