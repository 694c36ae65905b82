"""Hot read queries compiled once per process and database (ADR 0036).

Compiling an ORM query (resolving lookups, joins, quoting, converters) costs the
web process more than running a one-row index lookup on PostgreSQL. The few
queries every post of the public course form runs are therefore built with the
ORM once, compiled with placeholder values, and from then on executed as the
compiled SQL with the real values, their rows converted as Django converts them.
The query stays an ORM query in the source; only its compilation is cached (the
access report's holders do the same, ``rights.engine.rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    #: Where each argument goes among the parameters.
    slots: tuple[int, ...]
    compiler: Any
    converters: Any


class PreparedQuery:
    """A ``values_list`` query built by ``build``, compiled once per database.

    ``build`` takes one value per argument and returns the queryset; it is called
    once per database with ``placeholders`` (values of the arguments' types that
    real calls never use), each of which must appear exactly once among the
    compiled parameters. :meth:`rows` runs the compiled SQL with real values.
    Arguments must be values the database takes as they are (ids, text): a value
    Django adapts while compiling (a datetime, on SQLite) is not found among the
    parameters, and the query is refused the first time it is run.
    """

    def __init__(self, build: Callable[..., models.QuerySet[Any]],
                 placeholders: Sequence[Any]) -> None:
        self._build = build
        self._placeholders = tuple(placeholders)
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            qs = self._build(*self._placeholders).using(alias)
            compiler = qs.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            slots = []
            for placeholder in self._placeholders:
                found = [i for i, p in enumerate(params) if p == placeholder]
                if len(found) != 1:
                    raise RuntimeError(f"cannot prepare {sql!r}: placeholder {placeholder!r} "
                                       f"appears {len(found)} times among its parameters")
                slots.append(found[0])
            compiled = _Compiled(
                sql=sql, params=tuple(params), slots=tuple(slots), compiler=compiler,
                converters=compiler.get_converters(
                    [s[0] for s in compiler.select[0:compiler.col_count]]
                ),
            )
            self._compiled[alias] = compiled
        return compiled

    def rows(self, *values: Any, using: str = "default") -> list[tuple[Any, ...]]:
        """The query's rows for ``values`` (one per placeholder), converted."""
        compiled = self._compile(using)
        params = list(compiled.params)
        for slot, value in zip(compiled.slots, values, strict=True):
            params[slot] = value
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if rows and compiled.converters:
            rows = [tuple(row) for row in
                    compiled.compiler.apply_converters(rows, compiled.converters)]
        return rows


class PreparedInsert:
    """A multi-row ``INSERT`` of a model's fields, its SQL written once per database and
    number of rows: what ``bulk_create`` does for a few rows, without compiling the
    statement each time (ADR 0036). Values go through each field's ``pre_save`` and
    ``get_db_prep_save``, as in ``bulk_create``; like it, no signals are sent and
    ``save()`` is not called, so it is only for models that override neither and
    have no field only the database fills in (``db_default`` without ``default``).
    :meth:`insert` does not set the rows' primary keys; :meth:`create` inserts one
    row and sets its key."""

    def __init__(self, model: type[models.Model]) -> None:
        if any(field.has_db_default() and not field.has_default()
               for field in model._meta.concrete_fields):
            raise TypeError(f"{model.__name__} has fields the database fills in: "
                            "insert it with the ORM")
        self._model = model
        meta = model._meta
        self._field_list = [f for f in meta.concrete_fields if f is not meta.auto_field]
        self._sql: dict[tuple[str, int], str] = {}
        self._returning: dict[str, str] = {}

    def _fields(self) -> list[Any]:
        return self._field_list

    def _statement(self, alias: str, count: int) -> str:
        sql = self._sql.get((alias, count))
        if sql is None:
            quote = connections[alias].ops.quote_name
            columns = ", ".join(quote(f.column) for f in self._fields())
            row = "(" + ", ".join(["%s"] * len(self._fields())) + ")"
            sql = (f"INSERT INTO {quote(self._model._meta.db_table)} ({columns}) "  # noqa: S608
                   f"VALUES {', '.join([row] * count)}")
            self._sql[(alias, count)] = sql
        return sql

    def _values(self, obj: models.Model, connection: Any) -> list[Any]:
        """``obj``'s values for the statement, prepared as ``bulk_create`` prepares them."""
        return [field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
                for field in self._field_list]

    def insert(self, objs: Sequence[models.Model], *, using: str = "default") -> None:
        """Insert ``objs`` in one statement, in the caller's transaction."""
        if not objs:
            return
        connection = connections[using]
        params = [value for obj in objs for value in self._values(obj, connection)]
        with connection.cursor() as cursor:
            cursor.execute(self._statement(using, len(objs)), params)

    def create(self, obj: models.Model, *, using: str = "default") -> None:
        """Insert ``obj`` as one row and set its primary key, as ``save()`` of a new
        object would (``RETURNING``, on PostgreSQL and SQLite alike)."""
        connection = connections[using]
        sql = self._returning.get(using)
        if sql is None:
            pk = self._model._meta.pk
            assert pk is not None and pk.column is not None
            sql = f"{self._statement(using, 1)} RETURNING {connection.ops.quote_name(pk.column)}"
            self._returning[using] = sql
        with connection.cursor() as cursor:
            cursor.execute(sql, self._values(obj, connection))
            obj.pk = cursor.fetchone()[0]
        obj._state.adding = False
        obj._state.db = using
