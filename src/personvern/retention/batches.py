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

import itertools
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Max, Min, QuerySet

from personvern.retention.deletion import column_in

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


class CandidateWalk:
    """Batches of a query's rows, found once and checked again batch by batch.

    For conditions that are cheap to check for given keys but expensive to
    evaluate over a range of the table: "no holder row references this person"
    is, on PostgreSQL, a hash anti-join over every holder table, so a
    :class:`BatchWalk` over persons paid one scan of all registrations per
    batch. Here one statement writes the keys ``candidates`` selects into a
    temporary table of the database session (not Python memory: it stays flat);
    :meth:`next_batch`, called inside the batch's transaction, takes the next
    ``batch_size`` keys and returns the rows of ``candidates`` among them, so
    whatever changed since (a hold, a new record) is seen. Use as a context
    manager: the table is dropped on exit, and with the connection if the
    process dies.
    """

    TABLE = "personvern_retention_candidates"
    _tables = itertools.count(1)

    def __init__(
        self, candidates: QuerySet[Any], batch_size: int, *, keys: QuerySet[Any] | None = None
    ) -> None:
        self.model = candidates.model
        if self.model._meta.pk.get_internal_type() not in _INTEGER_KEYS:
            raise TypeError(f"{self.model._meta.label} has no integer primary key")
        self.candidates = candidates
        #: Where the keys come from: ``candidates`` itself, or a cheaper superset
        #: of it (``next_batch`` applies the full condition either way).
        self.keys = candidates if keys is None else keys
        self.batch_size = batch_size
        self.total = 0
        self.last: Any = None
        self._previous: Any = None
        self._taken_before = 0
        qn = connection.ops.quote_name
        # A name of its own, so two walks on one connection cannot drop each other's table.
        self.table = qn(f"{self.TABLE}_{next(self._tables)}")
        #: Keys taken so far (each once, whether or not its row still qualified).
        self.taken = 0

    def __enter__(self) -> CandidateWalk:
        sql, params = self.keys.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {self.table} (id bigint PRIMARY KEY)")
            cursor.execute(f"INSERT INTO {self.table} (id) {sql}", params)  # noqa: S608
            cursor.execute(f"ANALYZE {self.table}")
            cursor.execute(f"SELECT COUNT(*) FROM {self.table}")  # noqa: S608
            self.total = int(cursor.fetchone()[0])
        return self

    def __exit__(self, *exc: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")

    def next_batch(self, fields: Sequence[str] = ("pk",)) -> list[Any] | None:
        """The next batch's rows that still qualify (maybe none); ``None`` when done."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {self.table} WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608
                [-1 if self.last is None else self.last, self.batch_size],
            )
            keys = [row[0] for row in cursor.fetchall()]
        if not keys:
            return None
        self._previous, self.last = self.last, keys[-1]
        self._taken_before, self.taken = self.taken, self.taken + len(keys)
        # The keys as one array parameter in a plain condition (not ``pk IN
        # (subquery)``): PostgreSQL then expects as many rows as keys and checks
        # each by index instead of going back to anti-joins over whole tables.
        selected = self.candidates.filter(column_in(self.model, self.model._meta.pk.name, keys))
        flat = len(fields) == 1
        return list(selected.order_by("pk").values_list(*fields, flat=flat))

    def again(self) -> None:
        """Take the last batch again (its transaction was rolled back)."""
        self.last = self._previous
        self.taken = self._taken_before
