"""Set-based deletion of a batch of rows, with Django's ``on_delete`` semantics.

Django's ``QuerySet.delete()`` loads every row of a model that others point
at into a model instance to find what to cascade to. For a batch of 5,000
registrations that is 5,000 instances, dozens of 100-row ``DELETE`` statements
and most of a run's time. Retention needs none of it: its batches are primary
keys already, and our models use no delete signals. So this module does what
the collector would do, as one statement per related table:

- ``CASCADE``: delete the related rows whose foreign key is in the batch
  (recursively, when those rows are pointed at in turn);
- ``SET_NULL``: null the foreign key;
- ``DO_NOTHING``: nothing;
- ``PROTECT``/``RESTRICT``: never reached (the engine refuses such targets),
  and the database's foreign key would abort the batch anyway.

A model with delete signal listeners, multi-table inheritance, generic
relations, or ``SET``/``SET_DEFAULT`` handlers goes through Django's collector
instead, so nothing is skipped. Foreign keys are enforced by the database
(deferred, checked at commit), so a row left pointing at a deleted one makes
the whole batch roll back, never a dangling row.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.db import connection, models
from django.db.models import ForeignObjectRel, signals
from django.db.models.deletion import get_candidate_relations_to_delete
from django.db.models.expressions import RawSQL

CascadeFilter = Callable[[type[models.Model]], bool]

_PLAIN = (models.CASCADE, models.SET_NULL, models.DO_NOTHING, models.PROTECT, models.RESTRICT)


def _reverse_relations(model: type[models.Model]) -> list[ForeignObjectRel]:
    """Relations pointing at ``model`` whose rows a delete must handle (as Django's collector)."""
    # The stubs type these as fields; at runtime they are the reverse relation objects.
    return [cast(ForeignObjectRel, rel) for rel in get_candidate_relations_to_delete(model._meta)]


def _cascade_all(model: type[models.Model]) -> bool:
    return True


def needs_collector(
    model: type[models.Model], _seen: frozenset[type[models.Model]] = frozenset()
) -> bool:
    """Whether deleting rows of this model must go through Django's collector."""
    opts = model._meta
    if any(
        signal.has_listeners(model)
        for signal in (signals.pre_delete, signals.post_delete, signals.m2m_changed)
    ):
        return True
    if opts.parents or any(hasattr(f, "bulk_related_objects") for f in opts.private_fields):
        return True
    for rel in _reverse_relations(model):
        on_delete = rel.field.remote_field.on_delete
        if on_delete not in _PLAIN:
            return True
        if rel.field.target_field != opts.pk:  # a to_field other than the primary key
            return True
        related = rel.related_model
        assert isinstance(related, type)
        cascading = on_delete is models.CASCADE and related not in _seen
        if cascading and needs_collector(related, _seen | {model}):
            return True
    return False


def delete_rows(
    model: type[models.Model],
    pks: Sequence[Any],
    *,
    cascade_into: CascadeFilter = _cascade_all,
) -> Counter[str]:
    """Delete the rows of ``model`` with these primary keys; returns rows deleted per model.

    ``cascade_into(related_model)`` may decline a cascade: those rows are left
    alone, and if any exist the database's foreign key aborts the transaction
    (the person sweep uses this so it can never delete an activity's rows).
    """
    counts: Counter[str] = Counter()
    if not pks:
        return counts
    if needs_collector(model):
        _, per_model = model._base_manager.filter(pk__in=pks).delete()
        counts.update({k: v for k, v in per_model.items() if v})
        return counts
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for rel in _reverse_relations(model):
            related = rel.related_model
            assert isinstance(related, type)
            field = rel.field
            on_delete = field.remote_field.on_delete
            table, column = qn(related._meta.db_table), qn(str(field.column))
            if on_delete is models.SET_NULL:
                _execute(cursor, f"UPDATE {table} SET {column} = NULL WHERE", column, pks)
            elif on_delete is models.CASCADE and cascade_into(related):
                if _reverse_relations(related):
                    pk_column = qn(str(related._meta.pk.column))
                    child_pks: list[Any] = []
                    for chunk in _chunks(pks):
                        condition, params = in_clause(column, chunk)
                        cursor.execute(
                            f"SELECT {pk_column} FROM {table} WHERE {condition}",  # noqa: S608
                            params,
                        )
                        child_pks.extend(row[0] for row in cursor.fetchall())
                    counts.update(delete_rows(related, child_pks, cascade_into=cascade_into))
                else:
                    deleted = _execute(cursor, f"DELETE FROM {table} WHERE", column, pks)
                    if deleted:
                        counts[related._meta.label] += deleted
        own_table, own_pk = qn(model._meta.db_table), qn(str(model._meta.pk.column))
        counts[model._meta.label] += _execute(
            cursor, f"DELETE FROM {own_table} WHERE", own_pk, pks
        )
    return counts


#: Keys per statement: below SQLite's 32,766 and PostgreSQL's 65,535 parameters.
CHUNK = 10_000


def _chunks(pks: Sequence[Any]) -> list[Sequence[Any]]:
    return [pks[i : i + CHUNK] for i in range(0, len(pks), CHUNK)]


def in_clause(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column`` is one of ``values``, as SQL with a single parameter.

    One parameter, whatever the number of values, so every batch reuses one
    prepared statement: PostgreSQL gets an array (``= ANY(%s)``; planning an
    ``IN`` list of 5,000 parameters took about 0.1 s per statement), SQLite a
    JSON array read by ``json_each`` (each distinct ``IN (?, ?, …)`` length is
    a prepared statement of its own in the driver's cache, and their memory
    grew with the number of batches).
    """
    if connection.vendor == "postgresql":
        if all(type(v) is int for v in values):
            # An array literal: psycopg adapting 5,000 Python ints one by one
            # (choosing int2/4/8 for each) took longer than the DELETE itself.
            return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(map(str, values)) + "}"]
        return f"{column} = ANY(%s)", [list(values)]
    return (
        f"{column} IN (SELECT value FROM json_each(%s))",
        [json.dumps(list(values), default=str)],
    )


def column_in(model: type[models.Model], field: str, values: Sequence[Any]) -> RawSQL:
    """``QuerySet.filter`` condition: ``model.field`` is one of ``values`` (one parameter).

    For key lists of a batch's size: Django's ``field__in=[…]`` sends one
    parameter per value, and PostgreSQL plans each such statement anew.
    """
    qn = connection.ops.quote_name
    column = model._meta.get_field(field).column  # type: ignore[union-attr]
    condition, params = in_clause(f"{qn(model._meta.db_table)}.{qn(str(column))}", values)
    # Fixed SQL text (quoted names from model metadata); the values are one parameter.
    return RawSQL(condition, params, output_field=models.BooleanField())  # noqa: S611


def _execute(cursor: Any, head: str, column: str, pks: Sequence[Any]) -> int:
    """Run ``head <column in chunk>`` per chunk of keys; returns the rows affected."""
    total = 0
    for chunk in _chunks(pks):
        # Table and column names come from model metadata, quoted; keys are parameters.
        condition, params = in_clause(column, chunk)
        cursor.execute(f"{head} {condition}", params)
        total += cursor.rowcount
    return total
