"""Walking a table's due rows in batches without re-evaluating the whole query per batch.

The obvious batch query, ``WHERE <due> AND pk > :last ORDER BY pk LIMIT :n``,
is fine on SQLite (it walks the table in rowid order and stops at the limit)
but not on PostgreSQL: its planner evaluates the due condition with hash joins
over the whole remaining table and sorts, so every batch costs almost a full
scan (measured: 8 batches of 5,000 took 8× the single statement).

So the walk also bounds each query by a primary-key window:
``WHERE <due> AND pk > :lo AND pk <= :lo + :span ORDER BY pk LIMIT :n``.
Each query touches only its window (an index range), so one walk over the
table costs about one evaluation of the due condition, on both databases. The
window adapts: it doubles while windows return few due rows and halves when a
window fills the batch, so sparse tables need few queries and a batch never
exceeds ``batch_size`` rows (memory stays flat).

Tables whose primary key is not an integer fall back to plain keyset paging.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models import Max, Min, QuerySet

_INTEGER_KEYS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
}

#: The widest window (in primary-key values) one query may cover.
MAX_SPAN = 4_000_000


class BatchWalk:
    """Yields successive batches of due rows of one model, in primary-key order.

    Call :meth:`next_batch` inside the batch's transaction; it returns the rows
    (as ``values_list(*fields)`` tuples, or plain values for one field) or an
    empty list when the walk is over.
    """

    def __init__(self, model: type[models.Model], batch_size: int) -> None:
        self.batch_size = batch_size
        self.windowed = model._meta.pk.get_internal_type() in _INTEGER_KEYS
        self.last: Any = None
        self.span = batch_size
        self.end: Any = None
        if self.windowed:
            bounds = model._base_manager.aggregate(low=Min("pk"), high=Max("pk"))
            if bounds["low"] is None:
                self.windowed = False  # empty table: one query finds nothing
            else:
                self.last = bounds["low"] - 1
                self.end = bounds["high"]

    def next_batch(self, due: QuerySet[Any], fields: Sequence[str] = ("pk",)) -> list[Any]:
        flat = len(fields) == 1
        while True:
            page = due if self.last is None else due.filter(pk__gt=self.last)
            high = None
            if self.windowed:
                if self.last >= self.end:
                    return []
                high = self.last + self.span
                page = page.filter(pk__lte=high)
            rows = list(
                page.order_by("pk").values_list(*fields, flat=flat)[: self.batch_size]
            )
            full = len(rows) == self.batch_size
            if rows:
                self.last = rows[-1] if flat else rows[-1][0]
            if high is None:
                return rows
            if full:
                self.span = max(self.batch_size, self.span // 2)
                return rows
            # The window is exhausted: continue after it, wider if it was sparse.
            self.last = high
            if len(rows) < self.batch_size // 2:
                self.span = min(self.span * 2, MAX_SPAN)
            if rows:
                return rows
