"""Find the line of a key in TOML text.

``tomllib`` returns plain dicts without positions, but an error that says only
"activity 3, retention 0, keep" sends the operator counting headers. This small
locator walks the raw text once, follows ``[table]`` and ``[[array.of.tables]]``
headers (counting the array elements the way tomllib does), dotted keys, and the
elements of multi-line arrays, and records the line where each path starts.
A pydantic error location such as ``("activity", 3, "retention", 0, "keep")``
is then looked up, falling back to the nearest enclosing path that has a line
(a missing key is reported at the header of the table that lacks it).
"""

from __future__ import annotations

from collections.abc import Sequence

Path = tuple[str | int, ...]


def _split_dotted(text: str) -> list[str]:
    """Split a (possibly quoted) dotted key ``a."b.c".d`` into its parts."""
    parts: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for char in text:
        if quote:
            if char == quote:
                quote = None
            else:
                current.append(char)
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _split_key_value(line: str) -> tuple[str, str] | None:
    """Split ``key = value`` at the first ``=`` outside quotes."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "=":
            return line[:index], line[index + 1 :]
    return None


def _header(stripped: str) -> tuple[bool, list[str]] | None:
    """Parse ``[a.b]`` or ``[[a.b]]`` (with an optional trailing comment)."""
    double = stripped.startswith("[[")
    opening = 2 if double else 1
    closing = "]]" if double else "]"
    quote: str | None = None
    for index in range(opening, len(stripped)):
        char = stripped[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif stripped.startswith(closing, index):
            return double, _split_dotted(stripped[opening:index])
    return None


class _Open:
    """An array or inline table opened inside a value."""

    def __init__(self, path: Path | None, *, is_array: bool) -> None:
        self.path = path  # None inside inline tables: their keys are not tracked
        self.is_array = is_array
        self.count = 0  # index of the current array element
        self.in_element = False


class _ValueScanner:
    """Scan one value (possibly over several lines) and record array element lines."""

    def __init__(self, lines: Sequence[str], positions: dict[Path, int]) -> None:
        self.lines = lines
        self.positions = positions

    def scan(self, line_index: int, text: str, path: Path) -> int:
        """Scan from ``text`` (the rest of line ``line_index``); return the next line index."""
        stack: list[_Open] = []
        in_string: str | None = None
        while True:
            position = 0
            while position < len(text):
                char = text[position]
                if in_string:
                    if len(in_string) == 3:
                        if text.startswith(in_string, position):
                            in_string = None
                            position += 3
                            continue
                    elif char == in_string:
                        in_string = None
                    if char == "\\" and in_string in ('"', '"""'):
                        position += 2
                        continue
                    position += 1
                    continue
                if char == "#":
                    break
                if char in " \t\r":
                    position += 1
                    continue
                top = stack[-1] if stack else None
                if top and top.is_array and not top.in_element and char not in ",]":
                    top.in_element = True
                    if top.path is not None:
                        self.positions.setdefault((*top.path, top.count), line_index + 1)
                if text.startswith(('"""', "'''"), position):
                    in_string = text[position : position + 3]
                    position += 3
                    continue
                if char in "\"'":
                    in_string = char
                elif char == "[":
                    if top is None:
                        sub: Path | None = path
                    elif top.is_array and top.path is not None:
                        sub = (*top.path, top.count)
                    else:
                        sub = None
                    stack.append(_Open(sub, is_array=True))
                elif char == "{":
                    stack.append(_Open(None, is_array=False))
                elif char in "]}":
                    if stack:
                        stack.pop()
                elif char == "," and top and top.is_array:
                    top.count += 1
                    top.in_element = False
                position += 1
            if in_string and len(in_string) == 1:
                in_string = None  # unterminated one-line string: tomllib reports it
            if not stack and not in_string:
                return line_index + 1
            line_index += 1
            if line_index >= len(self.lines):
                return line_index
            text = self.lines[line_index]


def key_lines(text: str) -> dict[Path, int]:
    """Map every table, array element and key path of ``text`` to its 1-based line."""
    lines = text.splitlines()
    positions: dict[Path, int] = {}
    arrays: dict[Path, int] = {}  # array-of-tables path -> index of its last element
    table: Path = ()
    scanner = _ValueScanner(lines, positions)

    def resolve(parts: Sequence[str]) -> Path:
        # A header component that names an array of tables refers to its last element.
        resolved: list[str | int] = []
        for part in parts:
            resolved.append(part)
            if tuple(resolved) in arrays:
                resolved.append(arrays[tuple(resolved)])
        return tuple(resolved)

    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        if stripped.startswith("["):
            header = _header(stripped)
            if header is not None:
                double, parts = header
                if double:
                    parent = resolve(parts[:-1])
                    array_path = (*parent, parts[-1])
                    arrays[array_path] = arrays.get(array_path, -1) + 1
                    positions.setdefault(array_path, index + 1)
                    table = (*array_path, arrays[array_path])
                else:
                    table = resolve(parts)
                positions.setdefault(table, index + 1)
            index += 1
            continue
        split = _split_key_value(lines[index])
        if split is None:
            index += 1
            continue
        key_text, value_text = split
        parts = _split_dotted(key_text.strip())
        for depth in range(1, len(parts) + 1):
            positions.setdefault((*table, *parts[:depth]), index + 1)
        index = scanner.scan(index, value_text, (*table, *parts))
    return positions


class Locator:
    """Answers "which line is this pydantic location on?" for one TOML text."""

    def __init__(self, text: str) -> None:
        self.positions = key_lines(text)

    def line(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc`` or of its nearest enclosing path; None if none is known."""
        path = tuple(loc)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return None


def format_loc(loc: Sequence[str | int]) -> str:
    """``("activity", 3, "retention", 0, "keep")`` -> ``activity[3].retention[0].keep``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
