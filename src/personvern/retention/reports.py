"""What the retention engine reports: forecast lines, run lines, refusals.

Plain data, no queries: the engine (:mod:`personvern.retention.engine`) fills
them, the CLI and the worker's job print and record them. Counts only, never
personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Forecast windows in days (cumulative: "due within 90 days" includes those due now).
WINDOWS: tuple[int, ...] = (30, 90, 365)

ProgressCallback = Callable[[str, int, int | None], None]

#: Writes one audit entry (``audit_log``'s keyword arguments); a rehearsal writes none.
AuditWriter = Callable[..., object]


@dataclass(frozen=True)
class Refusal:
    """A target the engine will not run, and why."""

    activity: str
    rule: str
    holder: str
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "activity": self.activity,
            "rule": self.rule,
            "holder": self.holder,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class ForecastLine:
    """What one (activity, rule, holder) will remove.

    ``due_now`` is what a run at ``as_of`` deletes or anonymises under this line
    (exactly: see the module's docstring), ``cascaded`` what those deletions take
    along (model label -> rows); ``due_within`` (days -> count) is cumulative:
    what runs up to that day will have taken under this line, ``due_now``
    included. Protected rows are never counted; ``held`` counts rows due now
    that a hold or restriction keeps, and ``held_reasons`` splits them by the
    first reason that applies.
    """

    activity: str
    rule: str
    holder: str
    action: str
    keep: str
    after: str
    cohort: str | None
    due_now: int
    due_within: dict[int, int]
    held: int
    held_reasons: dict[str, int]
    cascaded: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "activity": self.activity,
            "rule": self.rule,
            "holder": self.holder,
            "action": self.action,
            "keep": self.keep,
            "after": self.after,
            "cohort": self.cohort,
            "due_now": self.due_now,
            "cascaded": self.cascaded,
            "due_within_days": {str(k): v for k, v in self.due_within.items()},
            "held": self.held,
            "held_reasons": self.held_reasons,
        }


@dataclass(frozen=True)
class Forecast:
    """The retention forecast at ``as_of``.

    ``orphan_persons`` and ``persons_minimised`` are the persons a run at
    ``as_of`` removes, or reduces to their objection, once the rows are gone.
    """

    as_of: datetime
    lines: list[ForecastLine]
    orphan_persons: int
    refused: list[Refusal]
    persons_minimised: int = 0
    stale_holds: int = 0
    passes: int = 0

    @property
    def due_now(self) -> int:
        return sum(line.due_now for line in self.lines)

    @property
    def cascaded_now(self) -> int:
        return sum(sum(line.cascaded.values()) for line in self.lines)

    def per_model(self) -> dict[str, int]:
        """Rows a run at ``as_of`` deletes or anonymises, per model, cascaded rows included."""
        return _per_model((line.holder, line.due_now, line.cascaded) for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "windows_days": list(WINDOWS),
            "windows_cumulative": True,
            "lines": [line.as_dict() for line in self.lines],
            "due_now": self.due_now,
            "cascaded_now": self.cascaded_now,
            "orphan_persons": self.orphan_persons,
            "persons_minimised": self.persons_minimised,
            "stale_holds": self.stale_holds,
            "passes": self.passes,
            "refused": [r.as_dict() for r in self.refused],
        }


@dataclass
class RunLine:
    """What a run did (or, dry, would do) for one target."""

    activity: str
    rule: str
    holder: str
    action: str
    count: int = 0
    batches: int = 0
    cascaded: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The key of the target this line reports (``Target.key``)."""
        return f"{self.activity}/{self.rule}/{self.holder}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "activity": self.activity,
            "rule": self.rule,
            "holder": self.holder,
            "action": self.action,
            "count": self.count,
            "batches": self.batches,
            "cascaded": self.cascaded,
        }


@dataclass
class RunReport:
    """The outcome of :func:`retention_run`."""

    as_of: datetime
    dry_run: bool
    lines: list[RunLine]
    persons_removed: int = 0
    person_batches: int = 0
    persons_minimised: int = 0
    #: Row holds no longer in force whose row is gone (their reasons with them).
    stale_holds: int = 0
    passes: int = 0
    refused: list[Refusal] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows deleted or anonymised under the lines themselves (cascades not included)."""
        return sum(line.count for line in self.lines)

    @property
    def cascaded_rows(self) -> int:
        return sum(sum(line.cascaded.values()) for line in self.lines)

    def per_model(self) -> dict[str, int]:
        """Rows deleted or anonymised per model, cascaded rows included."""
        return _per_model((line.holder, line.count, line.cascaded) for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "lines": [line.as_dict() for line in self.lines],
            "rows": self.rows,
            "cascaded_rows": self.cascaded_rows,
            "persons_removed": self.persons_removed,
            "person_batches": self.person_batches,
            "persons_minimised": self.persons_minimised,
            "stale_holds": self.stale_holds,
            "passes": self.passes,
            "refused": [r.as_dict() for r in self.refused],
        }


def _per_model(lines: Iterable[tuple[str, int, Mapping[str, int]]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for holder, count, cascaded in lines:
        for label, n in ((holder, count), *cascaded.items()):
            if n:
                totals[label] = totals.get(label, 0) + n
    return dict(sorted(totals.items()))
