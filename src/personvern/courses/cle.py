"""A person's continuing legal education (CLE) record: hours per period and kind (R14).

The Norwegian Bar Association counts three kinds of hours (legal, non-legal
and legal ethics) over fixed periods of several calendar years. The rule and
its figures are configuration (``PERSONVERN_CLE_*``, see ``config.py``), not
code:

- Periods are back to back, ``CLE_PERIOD_YEARS`` calendar years each, the first
  beginning on 1 January of ``CLE_PERIOD_START_YEAR`` (default 2020: 2020–2024,
  2025–2029, …), in Norwegian time. The same periods for everyone: the record
  holds no per-lawyer start date, and a lawyer whose own period differs still
  reads the hours per calendar year range on their certificates.
- A course counts in the period of the day it ends, and only once its
  attendance is recorded as attended (``Registration.attended is True``) on a
  registration that is not cancelled.
- A period needs ``CLE_REQUIRED_HOURS`` hours, of which at least
  ``CLE_MIN_ETHICS_HOURS`` in legal ethics; non-legal hours count towards it up
  to ``CLE_MAX_NON_LEGAL_HOURS``: more are taken but not counted.

:func:`cle_record` is one aggregate query and otherwise a pure function of the
person, the time and the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from personvern.core.models import Person
from personvern.courses.models import Registration, RegistrationStatus
from personvern.courses.selectors import LEGAL_TZ

ZERO = Decimal("0")


@dataclass(frozen=True)
class CleRules:
    """The period and the requirement, as configured."""

    period_years: int
    start_year: int
    required_hours: Decimal
    min_ethics_hours: Decimal
    max_non_legal_hours: Decimal

    @classmethod
    def from_settings(cls) -> CleRules:
        return cls(
            period_years=settings.PERSONVERN_CLE_PERIOD_YEARS,
            start_year=settings.PERSONVERN_CLE_PERIOD_START_YEAR,
            required_hours=Decimal(settings.PERSONVERN_CLE_REQUIRED_HOURS),
            min_ethics_hours=Decimal(settings.PERSONVERN_CLE_MIN_ETHICS_HOURS),
            max_non_legal_hours=Decimal(settings.PERSONVERN_CLE_MAX_NON_LEGAL_HOURS),
        )


@dataclass(frozen=True)
class Period:
    """One CLE period: ``first_year`` 1 January to ``last_year`` 31 December."""

    first_year: int
    last_year: int

    @property
    def first_day(self) -> date:
        return date(self.first_year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.last_year, 12, 31)

    @property
    def starts_at(self) -> datetime:
        """The period's first instant, in Norwegian time."""
        return datetime(self.first_year, 1, 1, tzinfo=LEGAL_TZ)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the period (exclusive end)."""
        return datetime(self.last_year + 1, 1, 1, tzinfo=LEGAL_TZ)

    def previous(self) -> Period:
        length = self.last_year - self.first_year + 1
        return Period(self.first_year - length, self.first_year - 1)


def period_of(day: date, rules: CleRules) -> Period:
    """The period ``day`` (a date in Norway) falls in; periods before the first year too."""
    index = (day.year - rules.start_year) // rules.period_years
    first = rules.start_year + index * rules.period_years
    return Period(first, first + rules.period_years - 1)


@dataclass(frozen=True)
class PeriodRecord:
    """The hours of one period, taken and counted, against the requirement."""

    period: Period
    rules: CleRules
    current: bool
    legal: Decimal
    non_legal: Decimal
    ethics: Decimal
    courses: int

    @property
    def non_legal_counted(self) -> Decimal:
        return min(self.non_legal, self.rules.max_non_legal_hours)

    @property
    def taken(self) -> Decimal:
        """Every hour taken in the period, counted or not."""
        return self.legal + self.non_legal + self.ethics

    @property
    def counted(self) -> Decimal:
        """The hours that count towards the requirement."""
        return self.legal + self.ethics + self.non_legal_counted

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.rules.required_hours - self.counted)

    @property
    def ethics_missing(self) -> Decimal:
        return max(ZERO, self.rules.min_ethics_hours - self.ethics)

    @property
    def non_legal_over_cap(self) -> bool:
        return self.non_legal > self.rules.max_non_legal_hours

    @property
    def met(self) -> bool:
        return self.remaining == ZERO and self.ethics_missing == ZERO


@dataclass(frozen=True)
class CleRecord:
    """The current period and the one before it; ``registrations``: all of the person's."""

    periods: tuple[PeriodRecord, PeriodRecord]
    rules: CleRules
    registrations: int


_KINDS = {"legal": "legal_hours", "non_legal": "non_legal_hours", "ethics": "ethics_hours"}


def cle_record(
    person: Person, now: datetime | None = None, rules: CleRules | None = None
) -> CleRecord:
    """The person's hours in the current and the previous period, in one aggregate query."""
    rules = rules or CleRules.from_settings()
    now = now or timezone.now()
    current = period_of(timezone.localtime(now, LEGAL_TZ).date(), rules)
    periods = {"current": current, "previous": current.previous()}
    counts = Q(attended=True) & ~Q(status=RegistrationStatus.CANCELLED)
    aggregates: dict[str, Sum | Count | Coalesce] = {"registrations": Count("pk")}
    for key, period in periods.items():
        within = counts & Q(
            course__ends_at__gte=period.starts_at, course__ends_at__lt=period.ends_before
        )
        aggregates[f"{key}_courses"] = Count("pk", filter=within)
        for kind, column in _KINDS.items():
            aggregates[f"{key}_{kind}"] = Coalesce(
                Sum(f"course__{column}", filter=within),
                Value(ZERO),
                output_field=DecimalField(max_digits=9, decimal_places=2),
            )
    row = Registration.objects.filter(person=person).aggregate(**aggregates)
    records = tuple(
        PeriodRecord(
            period=period,
            rules=rules,
            current=key == "current",
            legal=Decimal(row[f"{key}_legal"]),
            non_legal=Decimal(row[f"{key}_non_legal"]),
            ethics=Decimal(row[f"{key}_ethics"]),
            courses=row[f"{key}_courses"],
        )
        for key, period in periods.items()
    )
    return CleRecord(
        periods=(records[0], records[1]), rules=rules, registrations=row["registrations"]
    )
