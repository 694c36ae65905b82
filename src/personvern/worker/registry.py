"""The registry of periodic jobs: work the statement implies that no person starts.

Each app declares its jobs in ``jobs.py`` (discovered at start-up, like
``privacy.py``) by calling :func:`register` with a :class:`Job`. The worker
(``personvern worker``) runs every job once per *slot* of its schedule; a slot
is the start of the period it covers (02:30 Oslo time for a nightly job, the
start of the quarter hour for one that runs every 15 minutes). A slot is run at
most once, whatever the number of workers: see :mod:`personvern.worker.runner`.

A job's ``run`` takes a :class:`JobContext` and returns counts (``{"deleted":
12}``): figures only, never personal data, because they are shown in the back
office and kept in the run's record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.functional import Promise

OSLO = ZoneInfo("Europe/Oslo")
_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # minute slots are counted in UTC: no DST jumps


@dataclass(frozen=True)
class Schedule:
    """When a job falls due.

    Either every ``minutes`` (slots aligned on the epoch), or once a day at
    ``at`` in Europe/Oslo time (the legal clock; daylight saving is followed).
    """

    minutes: int | None = None
    at: time | None = None

    def __post_init__(self) -> None:
        if (self.minutes is None) == (self.at is None):
            raise ValueError("A schedule is either every N minutes or daily at a time.")
        if self.minutes is not None and self.minutes < 1:
            raise ValueError("A schedule runs at most once a minute.")

    def slot(self, now: datetime) -> datetime:
        """The start of the slot that ``now`` falls in (the most recent due time)."""
        if self.minutes is not None:
            step = timedelta(minutes=self.minutes)
            return _EPOCH + ((now - _EPOCH) // step) * step
        assert self.at is not None
        local = now.astimezone(OSLO)
        due = datetime.combine(local.date(), self.at, tzinfo=OSLO)
        if due > local:
            due = datetime.combine(local.date() - timedelta(days=1), self.at, tzinfo=OSLO)
        return due

    def next_slot(self, now: datetime) -> datetime:
        """The first due time after ``now``."""
        current = self.slot(now)
        if self.minutes is not None:
            return current + timedelta(minutes=self.minutes)
        assert self.at is not None
        day = current.astimezone(OSLO).date() + timedelta(days=1)
        return datetime.combine(day, self.at, tzinfo=OSLO)

    def __str__(self) -> str:
        from django.utils.translation import gettext, ngettext

        if self.minutes is not None:
            return ngettext("every minute", "every %(n)d minutes", self.minutes) % {
                "n": self.minutes
            }
        assert self.at is not None
        return gettext("daily at %(time)s (Oslo time)") % {"time": f"{self.at:%H:%M}"}


def every(*, minutes: int) -> Schedule:
    return Schedule(minutes=minutes)


def daily(at: str) -> Schedule:
    """Once a day at ``HH:MM`` Oslo time."""
    hour, minute = (int(part) for part in at.split(":"))
    return Schedule(at=time(hour, minute))


@dataclass(frozen=True)
class JobContext:
    """What a job gets: the time it runs for (``now``: slot time or ``--as-of``)."""

    now: datetime
    job: str
    progress: Callable[[int, int], None] = field(default=lambda done, total: None)


Counts = Mapping[str, int]


class JobIncomplete(Exception):  # noqa: N818 - a job's outcome, not a programming error
    """Raised by a job that did part of its work: the run is recorded as failed, with its
    counts and this message, which must hold no personal data (for example "2 messages
    could not be registered"; the worker's log names them)."""

    def __init__(self, message: str, counts: Counts) -> None:
        super().__init__(message)
        self.counts = counts


@dataclass(frozen=True)
class Job:
    """A periodic duty.

    ``name``: stable id (``retention-run``), used on the command line.
    ``run``: does the work; returns counts (no personal data).
    ``enabled``: callable deciding at run time whether the job applies here
        (IMAP intake only when a mailbox is configured); a disabled job is
        listed but never due.
    ``grace``: how late a run may be before the back office shows the job as
        not having run when it should have.
    """

    name: str
    schedule: Schedule
    run: Callable[[JobContext], Counts]
    description: str | Promise = ""
    enabled: Callable[[], bool] = field(default=lambda: True)
    grace: timedelta = timedelta(minutes=30)


_REGISTRY: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Declare a job. A name may be declared once."""
    if job.name in _REGISTRY:
        raise ValueError(f"The job {job.name!r} is already declared.")
    _REGISTRY[job.name] = job
    return job


def jobs() -> list[Job]:
    """Every declared job, by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get(name: str) -> Job:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"No job named {name!r} (known: {known}).") from None
