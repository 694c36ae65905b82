"""Reading one person's rows from the holders: shared by every right.

Reading one person's data costs one indexed query per holder, whatever the
number of rows (foreign keys shown in the report are joined in the same query).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import get_language
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


def _reader(path: str) -> Callable[[models.Model], Any]:
    """A function reading ``a__b__c`` from a row (one ``getattr`` for a plain field)."""
    if "__" not in path:
        return lambda row: getattr(row, path, None)
    return lambda row: _value(row, path)


def _json_value_in(value: Any, tz: tzinfo) -> Any:
    """:func:`json_value` with the current time zone looked up once by the caller."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        return value.astimezone(tz).isoformat()
    return json_value(value)


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
    tz = timezone.get_current_timezone()
    return _show(_choice_labels(model, name, get_language()), value, tz,
                 _json_value_in(value, tz))


def _show(choices: dict[Any, str] | None, value: Any, tz: tzinfo, as_json: Any) -> str:
    """The shown text of ``value``; ``as_json`` is its :func:`json_value`, made once."""
    if value is None or value == "":
        return ""
    if choices is not None:
        return choices.get(value, str(value))
    if isinstance(value, bool):
        return _yes_no(get_language())[value]
    if isinstance(value, datetime):
        return (value.astimezone(tz) if timezone.is_aware(value) else value).strftime(
            "%Y-%m-%d %H:%M"
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(as_json)


@lru_cache(maxsize=1024)
def _choice_labels(model: type[models.Model], name: str, lang: str | None) -> dict[Any, str] | None:
    """The field's choice labels in ``lang`` (None: the field has no choices).

    Read once per field and language: looking up the field and translating every
    label for every value made up much of the access report's time.
    """
    model_field = _final_field(model, name)
    if model_field is None or not getattr(model_field, "choices", None):
        return None
    return {value: str(label) for value, label in model_field.flatchoices}


@lru_cache(maxsize=16)
def _yes_no(lang: str | None) -> dict[bool, str]:
    return {True: str(_("yes")), False: str(_("no"))}


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
    #: Where the person id goes among the parameters.
    person_at: int
    #: The database converters of the selected columns (what ``results_iter`` works out
    #: per call), found once.
    converters: Any
    related_populators: list[Any]
    init_list: list[str]
    fields_start: int
    fields_end: int


#: Compiled SQL of each holder's per-person query, by (database alias, holder's model).
_PREPARED: dict[tuple[str, type[models.Model]], _PreparedQuery] = {}
#: Stands for the person id while compiling; replaced by the real id per call.
_PERSON_SENTINEL = -7_654_321


def _holder_queryset(holder: Holder, person_id: int) -> models.QuerySet[Any]:
    qs = holder.for_person(person_id)
    related = relation_paths(holder)
    if related:
        qs = qs.select_related(*related)
    return qs.order_by("pk")


def _prepare(holder: Holder, alias: str) -> _PreparedQuery:
    """Compile a holder's query once per process and database.

    Compiling an ORM query costs more than running this indexed one, so the
    access report would spend most of its time building SQL it already built
    for the previous person. The SQL is compiled with a sentinel id; rows are
    turned into model instances the way Django's ModelIterable does it.
    """
    from django.db.models.query import get_related_populators

    key = (alias, holder.model)
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
            person_at=list(params).index(_PERSON_SENTINEL),
            compiler=compiler,
            converters=compiler.get_converters(
                [s[0] for s in compiler.select[0 : compiler.col_count]]
            ),
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
    alias = connection.alias if cursor is None else cursor.db.alias
    prepared = _prepare(holder, alias)
    params = list(prepared.params)
    params[prepared.person_at] = person_id
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
    if prepared.converters:
        rows = prepared.compiler.apply_converters(rows, prepared.converters)
    for row in rows:
        obj = model.from_db(
            alias,
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


#: A holder's name and field labels in a language, by (holder, language); the holder
#: is kept beside them so that a replaced declaration (tests) is never served stale.
_LABELS: dict[tuple[int, str | None], tuple[Holder, str, tuple[tuple[str, str], ...]]] = {}


def _labels(holder: Holder, lang: str | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The holder's name and field labels translated once per language."""
    key = (id(holder), lang)
    found = _LABELS.get(key)
    if found is None or found[0] is not holder:
        found = (
            holder,
            str(holder.verbose_name),
            tuple((name, str(label)) for name, label in holder.fields),
        )
        _LABELS[key] = found
    return found[1], found[2]


def holder_section(holder: Holder, rows: Sequence[models.Model]) -> HolderSection:
    names = [name for name, _label in holder.fields]
    lang = get_language()
    tz = timezone.get_current_timezone()
    choices = [_choice_labels(holder.model, name, lang) for name in names]
    readers = [_reader(name) for name in names]
    raw: list[dict[str, Any]] = []
    shown: list[list[str]] = []
    for row in rows:
        values = [read(row) for read in readers]
        as_json = [_json_value_in(value, tz) for value in values]
        raw.append(dict(zip(names, as_json, strict=True)))
        shown.append([
            _show(c, v, tz, j) for c, v, j in zip(choices, values, as_json, strict=True)
        ])
    name, fields = _labels(holder, lang)
    return HolderSection(
        label=holder.label,
        name=name,
        fields=list(fields),
        rows=raw,
        display_rows=shown,
        portable=holder.portable,
    )
