"""What a retention batch must clear besides the rows themselves, and its commit mode.

Deleting a row must not leave its traces elsewhere: Django's admin change log
names rows by ``str(obj)`` (a person's name), and the audit log's personal
payloads of an erased person must go with them (the pseudonymous chain stays
verifiable). Each helper is one set-based statement, run inside the batch's
transaction by :mod:`personvern.retention.engine` and
:mod:`personvern.retention.persons`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import ForeignObjectRel
from django.db.models.deletion import get_candidate_relations_to_delete

from personvern.core.models import AuditEntry, Hold, Restriction
from personvern.core.registry import holder_of
from personvern.retention.deletion import CascadeFilter, in_clause


def clear_audit_payloads(subjects: list[str]) -> int:
    """Clear the audit log's personal payloads of these pseudonyms (one statement)."""
    if not subjects:
        return 0
    qn = connection.ops.quote_name
    condition, params = in_clause(qn("subject"), subjects)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(AuditEntry._meta.db_table)} SET {qn('personal')} = NULL "  # noqa: S608
            f"WHERE {qn('personal')} IS NOT NULL AND {condition}",
            params,
        )
        return int(cursor.rowcount)


def admin_log_rows(
    model: type[models.Model],
    condition: tuple[str, list[Any]],
    cascade_into: CascadeFilter,
    _seen: frozenset[type[models.Model]] = frozenset(),
) -> list[tuple[type[models.Model], str, list[Any]]]:
    """(model, SQL selecting the primary keys as text, params) of rows and their cascade.

    ``condition`` selects the rows of ``model`` (SQL on its unqualified
    columns). Cascades follow ``on_delete=CASCADE`` as
    :func:`~personvern.retention.deletion.delete_rows` does, each level a
    subquery of the one above, so no key list is fetched into Python.
    """
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(str(model._meta.pk.column))
    where, params = condition
    found = [(model, f"SELECT CAST({pk} AS TEXT) FROM {table} WHERE {where}", params)]
    for candidate in get_candidate_relations_to_delete(model._meta):
        # The stubs type these as fields; at runtime they are reverse relation objects.
        rel = cast(ForeignObjectRel, candidate)
        related = rel.related_model
        assert isinstance(related, type)
        field = rel.field
        if field.remote_field.on_delete is not models.CASCADE or not cascade_into(related):
            continue
        if related in _seen or related is model:
            continue
        child = (f"{qn(str(field.column))} IN (SELECT {pk} FROM {table} WHERE {where})", params)
        found += admin_log_rows(related, child, cascade_into, _seen | {model})
    return found


def forget_admin_log(rows: list[tuple[type[models.Model], str, list[Any]]]) -> int:
    """Delete the admin change log's rows about these rows (one statement); returns the count.

    Must run before the rows themselves are deleted (their keys are read in SQL).
    """
    if not rows or not apps.is_installed("django.contrib.admin"):
        return 0
    qn = connection.ops.quote_name
    conditions: list[str] = []
    params: list[Any] = []
    for model, select, select_params in rows:
        content_type = ContentType.objects.get_for_model(model)
        conditions.append(f"({qn('content_type_id')} = %s AND {qn('object_id')} IN ({select}))")
        params += [content_type.pk, *select_params]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {qn(LogEntry._meta.db_table)} WHERE "  # noqa: S608
            + " OR ".join(conditions),
            params,
        )
        return int(cursor.rowcount)


def pk_condition(model: type[models.Model], pks: list[Any]) -> tuple[str, list[Any]]:
    return in_clause(connection.ops.quote_name(str(model._meta.pk.column)), pks)


def no_cascade(model: type[models.Model]) -> bool:
    return False


def is_identity_record(model: type[models.Model]) -> bool:
    holder = holder_of(model)
    return holder is not None and holder.activity is None


def swept_with_person(model: type[models.Model]) -> bool:
    """What deleting a swept person may take along: identity records, but no hold or
    restriction (those that no longer protect are deleted first, explicitly)."""
    return is_identity_record(model) and model not in (Hold, Restriction)


def deleted_counts(per_model: Mapping[str, int], label: str) -> tuple[int, dict[str, int]]:
    own = per_model.get(label, 0)
    cascaded = {k: v for k, v in sorted(per_model.items()) if k != label and v}
    return own, cascaded


def batch_commit_mode() -> None:
    """Let PostgreSQL acknowledge this batch's commit before its WAL reaches the disk.

    ``synchronous_commit = off`` for this transaction only: a server crash can
    lose the last few committed batches, never corrupt or half-apply one (the
    WAL is still written in order). A lost batch loses its deletions and its
    audit entry together, so the database is as if the batch never ran, and
    the next run deletes those rows again. What it saves is one disk flush per
    batch, which was a third of a run's time (ADR 0010). SQLite in WAL mode with
    ``synchronous=NORMAL`` already commits without a flush.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
