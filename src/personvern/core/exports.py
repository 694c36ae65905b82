"""Cells for the CSV and XLSX files the system writes, safe to open in a spreadsheet.

A participant types ``=HYPERLINK("https://evil.example", "Click")`` as a name,
and the course administrator who opens the participant list in a spreadsheet
program runs it (CSV or formula injection). Spreadsheet programs evaluate a text
cell as a formula when it starts with ``=``, ``+``, ``-`` or ``@``; a leading
tab or carriage return can hide such a start, and some programs skip leading
spaces and control characters before looking. Every CSV and XLSX writer passes
its values through :func:`spreadsheet_cell` (one rule for all of them): such
text gets a leading apostrophe, which spreadsheet programs read as "this is
text". Machine-readable exports (JSON) keep values unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

#: The characters that start a formula, with their full-width forms (which some
#: spreadsheet programs read as the ASCII ones).
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")

#: Characters that on their own start a cell that can turn into a formula.
HIDING_STARTS = frozenset("\t\r\n")

# Control characters an XLSX file cannot hold (openpyxl refuses them).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _skippable(char: str) -> bool:
    """Whitespace and control/format characters a spreadsheet may skip at the start."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def formula_like(text: str) -> bool:
    """Whether a spreadsheet program could evaluate ``text`` as a formula."""
    if text[:1] in HIDING_STARTS:
        return True
    for char in text:
        if char in FORMULA_STARTS:
            return True
        if not _skippable(char):
            return False
    return False


def spreadsheet_cell(value: Any) -> Any:
    """``value`` as a CSV or XLSX cell: formula-like text gets a leading apostrophe.

    Anything else (numbers, dates, None, harmless text) is returned unchanged.
    """
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def spreadsheet_row(values: Iterable[Any]) -> list[Any]:
    """A row of cells, each through :func:`spreadsheet_cell`."""
    return [spreadsheet_cell(value) for value in values]


def xlsx_cell(value: Any) -> Any:
    """A cell for an XLSX sheet: neutralised, and without the control characters XLSX forbids.

    Those characters (a stray ``\\x01`` pasted into a form) would make openpyxl
    refuse the whole workbook; each becomes U+FFFD, the replacement character.
    """
    value = spreadsheet_cell(value)
    if isinstance(value, str):
        value = _XLSX_ILLEGAL.sub("\ufffd", value)
    return value


def xlsx_row(values: Iterable[Any]) -> list[Any]:
    """A row of cells for an XLSX sheet, each through :func:`xlsx_cell`."""
    return [xlsx_cell(value) for value in values]
