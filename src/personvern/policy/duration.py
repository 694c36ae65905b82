"""Durations of the policy file: ``210d``, ``2w``, ``6m``, ``1y``, ``10y``.

Months and years are calendar units (the law counts "five years after the end
of the fiscal year" on the calendar, not as 1826 days), so a duration keeps the
unit it was written in and does date arithmetic with it.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_PATTERN = re.compile(r"^(\d{1,5})([dwmy])$")

# Unit words per language. Durations are described in an explicitly chosen
# language (the notice is rendered in nb and en side by side, and this module
# is pure Python), so the words live here instead of in a gettext catalogue.
_UNIT_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "d": ("day", "days"),
        "w": ("week", "weeks"),
        "m": ("month", "months"),
        "y": ("year", "years"),
    },
    "nb": {
        "d": ("dag", "dager"),
        "w": ("uke", "uker"),
        "m": ("måned", "måneder"),
        "y": ("år", "år"),
    },
}


class DurationError(ValueError):
    """A duration string that is not ``<number><d|w|m|y>``."""


def _add_months(d: date, months: int) -> date:
    """Move ``d`` by whole calendar months, clamping to the month's last day."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last))


class Duration:
    """A retention or lifetime period written as ``<n><unit>``.

    ``days`` holds days and weeks (a week is 7 days), ``months`` and ``years``
    the calendar parts; only one of them is non-zero.
    """

    __slots__ = ("_source", "amount", "days", "months", "unit", "years")

    def __init__(self, source: str) -> None:
        text = source.strip() if isinstance(source, str) else source
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            raise DurationError(
                f"malformed duration {source!r}: write a whole number followed by "
                "d (days), w (weeks), m (months) or y (years), e.g. '210d' or '10y'"
            )
        self._source = text
        self.amount = int(match.group(1))
        self.unit = match.group(2)
        self.days = self.amount * (7 if self.unit == "w" else 1) if self.unit in "dw" else 0
        self.months = self.amount if self.unit == "m" else 0
        self.years = self.amount if self.unit == "y" else 0

    @classmethod
    def parse(cls, value: str | Duration) -> Duration:
        """Return ``value`` as a Duration (raises DurationError when malformed)."""
        return value if isinstance(value, Duration) else cls(value)

    def add_to(self, d: date) -> date:
        """The date this long after ``d`` (Feb 29 + 1y gives Feb 28)."""
        if self.days:
            return d + timedelta(days=self.days)
        return _add_months(d, self.months + 12 * self.years)

    def subtract_from(self, d: date) -> date:
        """The date this long before ``d``.

        The retention engine uses it to turn "keep 5y after X" into the cut-off
        "X before today minus 5y" for one set-based query.
        """
        if self.days:
            return d - timedelta(days=self.days)
        return _add_months(d, -(self.months + 12 * self.years))

    @property
    def approx_days(self) -> int:
        """A rough length in days, for sorting and display only (never for deadlines)."""
        return self.days + self.months * 30 + self.years * 365

    def iso8601(self) -> str:
        """The ISO 8601 form (``P10Y``, ``P210D``, ``P2W``), used in JSON-LD."""
        return f"P{self.amount}{self.unit.upper()}"

    def describe(self, lang: str) -> str:
        """A human form such as ``10 years`` or ``210 dager``."""
        words = _UNIT_WORDS["nb" if lang.startswith(("nb", "no", "nn")) else "en"]
        singular, plural = words[self.unit]
        return f"{self.amount} {singular if self.amount == 1 else plural}"

    def __str__(self) -> str:
        return self._source

    def __repr__(self) -> str:
        return f"Duration({self._source!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Duration(other)
            except DurationError:
                return False
        if not isinstance(other, Duration):
            return NotImplemented
        return (self.days, self.months, self.years) == (other.days, other.months, other.years)

    def __hash__(self) -> int:
        return hash((self.days, self.months, self.years))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Let pydantic models take ``"10y"`` and give back the same string."""

        def validate(value: Any) -> Duration:
            if isinstance(value, Duration):
                return value
            if not isinstance(value, str):
                raise ValueError(f"a duration must be a string such as '10y', not {value!r}")
            try:
                return cls(value)
            except DurationError as exc:
                raise ValueError(str(exc)) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )
