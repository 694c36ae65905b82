"""What an intake run did with each message."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

from django.utils.translation import gettext_lazy as _


class Outcome(enum.Enum):
    """What intake did with one message."""

    CREATED = "created"
    #: Registered as an ``unclassified`` request: staff must name the right.
    CREATED_UNCLASSIFIED = "created-needs-classification"
    ALREADY_TAKEN = "already-taken"
    NOT_MARKED = "not-marked"
    MALFORMED = "malformed"
    #: The virus scanner could not check the message: left for the next run (R21).
    NOT_SCANNED = "not-scanned"
    #: Registering it failed (the database refused it, say): nothing of it was
    #: written, the other messages were taken, and the next run tries it again.
    FAILED = "failed"


OUTCOME_LABELS = {
    Outcome.CREATED: _("request registered"),
    Outcome.CREATED_UNCLASSIFIED: _("request registered, needs classification"),
    Outcome.ALREADY_TAKEN: _("already registered"),
    Outcome.NOT_MARKED: _("not a privacy message, left alone"),
    Outcome.MALFORMED: _("malformed"),
    Outcome.NOT_SCANNED: _("not scanned for viruses (scanner unavailable), left for the next run"),
    Outcome.FAILED: _("could not be registered, left for the next run"),
}
DRY_RUN_LABELS = {
    Outcome.CREATED: _("would be registered"),
    Outcome.CREATED_UNCLASSIFIED: _("would be registered, needs classification"),
}


@dataclass(frozen=True)
class IntakeItem:
    """The fate of one message."""

    source: str
    outcome: Outcome
    request_type: str | None = None
    received_at: datetime | None = None
    request_id: UUID | None = None
    notes: tuple[str, ...] = ()
    #: Parts not taken in: the virus scanner found malware in them, or they are
    #: larger than it can scan (R21).
    infected: tuple[str, ...] = ()
    #: Registered without a person: whose request it is cannot be told from the
    #: message (several senders, an address that cannot be an identity).
    unlinked: bool = False


@dataclass
class IntakeReport:
    """What one intake run did, message by message."""

    path: Path
    dry_run: bool
    items: list[IntakeItem] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        """How many messages ended with ``outcome``."""
        return sum(1 for item in self.items if item.outcome == outcome)

    @property
    def has_problems(self) -> bool:
        """True when a message was malformed, not scanned, failed or had malware in it,
        or its new request needs staff to classify it or to find whose it is."""
        return any(
            item.outcome
            in (
                Outcome.MALFORMED,
                Outcome.CREATED_UNCLASSIFIED,
                Outcome.NOT_SCANNED,
                Outcome.FAILED,
            )
            or item.infected
            or item.unlinked
            for item in self.items
        )

    def counts(self) -> dict[str, int]:
        """How many messages ended with each outcome (no personal data)."""
        return {outcome.value: self.count(outcome) for outcome in Outcome}
