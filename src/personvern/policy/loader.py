"""Load and validate a policy file, reporting every problem with file, line and field."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from .checks import Severity, cross_checks
from .locator import Locator, format_loc
from .models import Policy

OSLO = ZoneInfo("Europe/Oslo")


def default_policy_path() -> Path:
    """The policy shipped with the package: JUS's statement as data."""
    return Path(__file__).with_name("default.toml")


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a look) in a policy file."""

    file: str
    line: int | None
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}: {self.severity}:{field} {self.message}"


class PolicyError(Exception):
    """The policy file is not valid; ``problems`` lists every error (and warning) found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = sum(1 for p in problems if p.severity == "error")
        header = f"the policy has {errors} error{'s' if errors != 1 else ''}"
        super().__init__("\n".join([header, *(str(p) for p in problems)]))

    @property
    def errors(self) -> list[Problem]:
        """Only the problems of severity "error"."""
        return [p for p in self.problems if p.severity == "error"]


_TEXT_LANG = {"nb": "Norwegian Bokmål (nb)", "en": "English (en)"}


def _message(error: Any) -> str:
    """A reader's message for one pydantic error."""
    kind = error["type"]
    loc = error["loc"]
    last = loc[-1] if loc else ""
    if kind == "missing":
        if last in _TEXT_LANG:
            return f"the {_TEXT_LANG[last]} text is missing: every public text needs nb and en"
        if last == "basis":
            return "no legal basis: every activity needs exactly one Art. 6(1) basis (a-f)"
        if last == "dpa_date":
            return (
                "no data processing agreement date (dpa_date): "
                "a DPA must exist with every processor (Art. 28(3))"
            )
        return f"required field {last!r} is missing"
    if kind == "extra_forbidden":
        return f"unknown field {last!r} (not part of the policy schema; a typo?)"
    message: str = error["msg"]
    if kind == "literal_error" and last == "basis":
        return f"unknown legal basis {error.get('input')!r}: use one Art. 6(1) letter a-f"
    return re.sub(r"^Value error, ", "", message)


def today_in_oslo() -> dt.date:
    """Today's date where the law is applied."""
    return dt.datetime.now(OSLO).date()


#: Arrays and inline tables nested deeper than this are refused before parsing:
#: no policy needs more than three levels, and tomllib recurses once per level
#: (a file of 100,000 ``[`` would exhaust the interpreter's stack).
MAX_NESTING = 32

# What matters for nesting depth: string delimiters, comments, escapes, brackets, newlines.
_NESTING_TOKENS = re.compile(r'"""|\'\'\'|[\\"\'#\[\]{}\n]')


def _too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The line where arrays/inline tables first nest deeper than ``limit``, else None.

    A small scan that skips strings and comments, so that brackets inside them
    do not count; headers (``[table]``, ``[[array]]``) open and close on their line.
    """
    depth = 0
    line = 1
    string: str | None = None  # the delimiter of the open string
    comment = False
    position = 0
    while (match := _NESTING_TOKENS.search(text, position)) is not None:
        piece = match.group()
        position = match.end()
        if piece == "\n":
            line += 1
            comment = False
            if string in ('"', "'"):
                string = None  # a one-line string ends with its line (tomllib reports it)
        elif comment:
            continue
        elif string is not None:
            if piece == "\\" and string in ('"', '"""'):
                position += 1  # an escape in a basic string: skip the escaped character
                if text[position - 1 : position] == "\n":
                    line += 1
            elif piece == string:
                string = None
        elif piece in ('"""', "'''", '"', "'"):
            string = piece
        elif piece == "#":
            comment = True
        elif piece in ("[", "{"):
            depth += 1
            if depth > limit:
                return line
        elif piece in ("]", "}"):
            depth = max(depth - 1, 0)
    return None


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    """``tomllib.loads`` with every failure as a PolicyError naming the file and line."""
    deep = _too_deep(text)
    if deep is not None:
        raise PolicyError(
            [
                Problem(
                    source,
                    deep,
                    "",
                    f"arrays or inline tables nested more than {MAX_NESTING} levels deep: "
                    "a policy never needs that many; is a closing bracket missing?",
                )
            ]
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"line (\d+)", message)
        if match:
            line: int | None = int(match.group(1))
        elif "end of document" in message:
            # tomllib gives no line for an error at the very end (a truncated file):
            # it is on the last line that has anything on it.
            line = text.rstrip().count("\n") + 1
            message = message.replace(
                "(at end of document)", f"(at the end of the file, line {line})"
            )
        else:
            line = None
        raise PolicyError([Problem(source, line, "", f"not valid TOML: {message}")]) from exc
    except RecursionError as exc:  # the depth check above should make this unreachable
        raise PolicyError(
            [Problem(source, None, "", "not valid: arrays or tables nested too deeply")]
        ) from exc


def _decode(data: bytes, source: str) -> str:
    """The file's text; a file that is not UTF-8 is an error naming the line of the bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PolicyError(
            [
                Problem(
                    source,
                    line,
                    "",
                    f"the file is not UTF-8: byte 0x{data[exc.start]:02x} (byte {column} of "
                    "the line) is not valid UTF-8; save the file as UTF-8 (it may have been "
                    "saved as Latin-1 or Windows-1252)",
                )
            ]
        ) from exc


def parse_policy(text: str, *, source: str = "<policy>", as_of: dt.date | None = None) -> Policy:
    """Validate policy TOML text; raise PolicyError listing all problems found.

    ``as_of`` is the date audits are judged against (default: today in Oslo).
    """
    as_of = as_of or today_in_oslo()
    text = text.removeprefix("\ufeff")  # a byte order mark some editors write: not content
    raw = _parse_toml(text, source)

    locator = Locator(text)
    problems: list[Problem] = []
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.append(Problem(source, locator.line(loc), format_loc(loc), _message(error)))
    for loc, message, severity in cross_checks(raw, as_of=as_of, line_of=locator.line):
        problems.append(Problem(source, locator.line(loc), format_loc(loc), message, severity))

    problems.sort(key=lambda p: (p.line or 0, p.field))
    if policy is None or any(p.severity == "error" for p in problems):
        raise PolicyError(problems)
    policy._warnings = problems  # only warnings are left here
    policy._source = source
    return policy


def load_policy(
    path: str | os.PathLike[str] | None = None, *, as_of: dt.date | None = None
) -> Policy:
    """Load the policy at ``path`` (None: the shipped default) and validate it completely.

    Raises PolicyError(problems=[...]) when anything is wrong; warnings (an overdue
    processor audit, say) are kept on ``policy.warnings``.
    """
    file = Path(path) if path is not None else default_policy_path()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise PolicyError([Problem(str(file), None, "", f"cannot read the policy: {exc}")]) from exc
    return parse_policy(_decode(data, str(file)), source=str(file), as_of=as_of)


_cache_lock = threading.Lock()
_cache: dict[tuple[str, float], Policy] = {}


def configured_policy_path() -> Path:
    """The policy file in force: Django setting or env PERSONVERN_POLICY, else the default."""
    configured: str | None = None
    try:
        from django.conf import settings

        if settings.configured:
            configured = getattr(settings, "PERSONVERN_POLICY", None)
    except ImportError:  # pragma: no cover - Django is a dependency, but the policy is pure
        configured = None
    configured = configured or os.environ.get("PERSONVERN_POLICY")
    return Path(configured) if configured else default_policy_path()


def active_policy() -> Policy:
    """The policy in force, loaded once per file version (reloaded when the file changes).

    The cache is per process and keyed by path and modification time, so several
    web processes each read the same file and agree without shared state.
    """
    path = configured_policy_path()
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError as exc:
        raise PolicyError([Problem(str(path), None, "", f"cannot read the policy: {exc}")]) from exc
    with _cache_lock:
        policy = _cache.get(key)
        if policy is None:
            policy = load_policy(path)
            _cache.clear()
            _cache[key] = policy
        return policy
