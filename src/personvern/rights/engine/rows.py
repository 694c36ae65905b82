"""Reading one person's rows from the holders: shared by every right.

Reading one person's data costs one indexed query per holder, whatever the
number of rows (foreign keys shown in the report are joined in the same query).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder

#: Key of the person's identity records (holders with ``activity=None``).
IDENTITY = "identity"


def json_value(value: Any) -> Any:
    """A JSON-safe form of a model value (dates ISO 8601, ids as strings)."""
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)


def _final_field(model: type[models.Model], path: str) -> Any:
    """The model field a ``a__b__c`` path ends at (None if it names no field)."""
    current: Any = model
    found: Any = None
    for part in path.split("__"):
        if current is None:
            return None
        try:
            found = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        current = found.related_model if found.is_relation else None
    return found


def _value(row: models.Model, path: str) -> Any:
    """The value at ``a__b__c`` (related objects were joined by the row's query)."""
    value: Any = row
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def _display_value(model: type[models.Model], name: str, value: Any) -> str:
    """A readable form for the HTML report (choice labels, local dates)."""
    if value is None or value == "":
        return ""
    model_field = _final_field(model, name)
    if model_field is not None and getattr(model_field, "choices", None):
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(json_value(value))


def relation_paths(holder: Holder) -> list[str]:
    """The relations the holder's shown fields go through, for ``select_related``."""
    paths: set[str] = set()
    for name, _label in holder.fields:
        parts = name.split("__")
        model: Any = holder.model
        for depth, part in enumerate(parts):
            try:
                model_field = model._meta.get_field(part)
            except FieldDoesNotExist:
                break
            if not (model_field.many_to_one or model_field.one_to_one):
                break
            paths.add("__".join(parts[: depth + 1]))
            model = model_field.related_model
    return sorted(paths)


@dataclass(frozen=True)
class _PreparedQuery:
    sql: str
    params: tuple[Any, ...]
    compiler: Any
    related_populators: list[Any]
    init_list: list[str]
    fields_start: int
    fields_end: int


#: Compiled SQL of each holder's per-person query, by (database alias, holder).
_PREPARED: dict[tuple[str, str], _PreparedQuery] = {}
#: Stands for the person id while compiling; replaced by the real id per call.
_PERSON_SENTINEL = -7_654_321


def _holder_queryset(holder: Holder, person_id: int) -> models.QuerySet[Any]:
    qs = holder.for_person(person_id)
    related = relation_paths(holder)
    if related:
        qs = qs.select_related(*related)
    return qs.order_by("pk")


def _prepare(holder: Holder) -> _PreparedQuery:
    """Compile a holder's query once per process and database.

    Compiling an ORM query costs more than running this indexed one, so the
    access report would spend most of its time building SQL it already built
    for the previous person. The SQL is compiled with a sentinel id; rows are
    turned into model instances the way Django's ModelIterable does it.
    """
    from django.db.models.query import get_related_populators

    key = (connection.alias, holder.label)
    prepared = _PREPARED.get(key)
    if prepared is None:
        qs = _holder_queryset(holder, _PERSON_SENTINEL)
        compiler = qs.query.get_compiler(using=qs.db)
        sql, params = compiler.as_sql()
        if sum(1 for p in params if p == _PERSON_SENTINEL) != 1:
            raise RuntimeError(f"{holder.label}: cannot prepare the per-person query")
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        prepared = _PreparedQuery(
            sql=sql,
            params=tuple(params),
            compiler=compiler,
            # Django 5.2 signature; the installed stubs describe a later one.
            related_populators=get_related_populators(klass_info, select, qs.db),  # type: ignore[call-arg]
            init_list=[f[0].target.attname for f in select[start:end]],
            fields_start=start,
            fields_end=end,
        )
        _PREPARED[key] = prepared
    return prepared


def holder_rows(holder: Holder, person_id: int, cursor: Any = None) -> list[models.Model]:
    """The person's rows of one holder: one query (foreign keys shown are joined)."""
    prepared = _prepare(holder)
    params = [person_id if p == _PERSON_SENTINEL else p for p in prepared.params]
    if cursor is None:
        with connection.cursor() as own:
            own.execute(prepared.sql, params)
            rows = own.fetchall()
    else:
        cursor.execute(prepared.sql, params)
        rows = cursor.fetchall()
    if not rows:
        return []
    found = []
    model = holder.model
    for row in prepared.compiler.results_iter(results=[rows]):
        obj = model.from_db(
            connection.alias,
            prepared.init_list,
            row[prepared.fields_start : prepared.fields_end],
        )
        for populator in prepared.related_populators:
            populator.populate(row, obj)
        found.append(obj)
    return found


@dataclass
class HolderSection:
    """One holder's rows for the report: raw values for JSON/CSV, text for HTML."""

    label: str
    name: str
    fields: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    display_rows: list[list[str]]
    portable: bool


def holder_section(holder: Holder, rows: Sequence[models.Model]) -> HolderSection:
    names = [name for name, _label in holder.fields]
    raw: list[dict[str, Any]] = []
    shown: list[list[str]] = []
    for row in rows:
        values = {name: _value(row, name) for name in names}
        raw.append({name: json_value(v) for name, v in values.items()})
        shown.append([_display_value(holder.model, n, v) for n, v in values.items()])
    return HolderSection(
        label=holder.label,
        name=str(holder.verbose_name),
        fields=[(name, str(label)) for name, label in holder.fields],
        rows=raw,
        display_rows=shown,
        portable=holder.portable,
    )
