"""Reading one person's rows from the holders: shared by every right.

Reading one person's data costs one indexed query per holder, whatever the
number of rows (foreign keys shown in the report are joined in the same query).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections, models
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
    #: The parameters (a list, or a dict for named ones) with a sentinel for the person.
    params: Any
    compiler: Any
    #: Where the person id goes among the parameters (an index, or a name).
    person_at: Any
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
        person_at: Any = list(params).index(_PERSON_SENTINEL)
        if connections[alias].vendor == "sqlite":
            sql, params, person_at = _named(sql, list(params), person_at)
        prepared = _PreparedQuery(
            sql=sql,
            params=params if isinstance(params, dict) else list(params),
            person_at=person_at,
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


def _named(sql: str, params: list[Any], person_at: int) -> tuple[str, Any, Any]:
    """The statement with named parameters (``%(p0)s``), for SQLite.

    Django's SQLite cursor turns ``%s`` into SQLite's ``?`` with a regular expression
    on every execution, which took about as long as the indexed lookup itself (a
    holder's statement joins its shown relations and runs to a kilobyte or more).
    Named parameters it turns into SQLite's ``:p0`` by plain string formatting. The
    statement is kept as it was where the two would not give the same SQL.
    """
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    counter = itertools.count()
    named = FORMAT_QMARK_REGEX.sub(lambda _m: f"%(p{next(counter)})s", sql)
    if next(counter) != len(params):
        return sql, params, person_at
    by_name = {f"p{i}": value for i, value in enumerate(params)}
    try:
        as_qmark = named % dict.fromkeys(by_name, "?")
    except (KeyError, TypeError, ValueError):
        return sql, params, person_at
    if as_qmark != FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%"):
        return sql, params, person_at
    return named, by_name, f"p{person_at}"


def _bind(prepared: _PreparedQuery, person_id: int) -> Any:
    """The statement's parameters for one person."""
    params = prepared.params.copy()
    params[prepared.person_at] = person_id
    return params


def holder_rows(holder: Holder, person_id: int, cursor: Any = None) -> list[models.Model]:
    """The person's rows of one holder: one query (foreign keys shown are joined)."""
    alias = connection.alias if cursor is None else cursor.db.alias
    prepared = _prepare(holder, alias)
    params = _bind(prepared, person_id)
    if cursor is None:
        with connection.cursor() as own:
            own.execute(prepared.sql, params)
            rows = own.fetchall()
    else:
        cursor.execute(prepared.sql, params)
        rows = cursor.fetchall()
    if not rows:
        return []
    return _instances(holder, prepared, alias, rows)


def _instances(
    holder: Holder, prepared: _PreparedQuery, alias: str, rows: Sequence[Any]
) -> list[models.Model]:
    """Model instances of fetched rows, the way Django's ModelIterable makes them."""
    found = []
    model = holder.model
    if prepared.converters:
        rows = list(prepared.compiler.apply_converters(rows, prepared.converters))
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


# --- The access report's rows, read from the cursor's tuples ------------------------
#
# ``holder_rows`` turns every row into model instances (and joined ones), and
# ``holder_section`` reads the shown fields back off them. For the access report that
# was most of the Python per row, so the report reads the shown fields straight from
# the fetched tuples: the columns are found once per holder, only their converters
# run, and only a shown foreign key (its text is the related model's ``__str__``)
# builds the related instance, as ``select_related`` would. A holder whose shown
# fields cannot be read that way (a property, a field with its own descriptor, a
# model that builds its instances itself) keeps the model-instance path.


#: (column, ((converter, expression), …)) of the columns to convert.
_Converters = tuple[tuple[int, tuple[tuple[Any, Any], ...]], ...]


@dataclass(frozen=True)
class _Cell:
    """Where a shown field's value is in a fetched row."""

    #: The column holding the value (a plain field), or -1 (a foreign key's instance).
    index: int
    #: Primary-key columns of the joined rows on the way: a NULL there (no related
    #: row) means no value, as reading ``a__b`` off the instances gives.
    guards: tuple[int, ...]
    #: For a shown foreign key: the ``select_related`` populator building its instance,
    #: and the converters of the columns it reads (run only to build one).
    populator: Any = None
    related_converters: _Converters = ()
    #: The populator's model and column names: what a related row's text is keyed by.
    related_key: tuple[Any, ...] = ()


@dataclass(frozen=True)
class _TuplePlan:
    cells: tuple[_Cell, ...]
    #: The converters of the columns the plain cells and the guards read.
    converters: _Converters


#: Each holder's prepared query and plan by (database alias, holder), the holder kept
#: beside them as in ``_LABELS``; a plan of None: the holder keeps model instances.
_PLANS: dict[tuple[str, int], tuple[Holder, _PreparedQuery, _TuplePlan | None]] = {}


def _builds_plain_instances(model: type[models.Model]) -> bool:
    return (
        model.from_db.__func__ is models.Model.from_db.__func__  # type: ignore[attr-defined]
        and model.__init__ is models.Model.__init__
    )


def _populator_columns(populator: Any) -> set[int] | None:
    """The columns a ``select_related`` populator (and those below it) reads (None: it
    reorders them, as for a parent model's fields)."""
    if populator.reorder_for_init is not None:
        return None
    found = set(range(populator.cols_start, populator.cols_end))
    for below in populator.related_populators:
        columns = _populator_columns(below)
        if columns is None:
            return None
        found |= columns
    return found


def _converters_of(prepared: _PreparedQuery, columns: set[int]) -> _Converters:
    converters = prepared.converters or {}
    return tuple(
        (i, tuple((c, converters[i][1]) for c in converters[i][0]))
        for i in sorted(columns)
        if i in converters
    )


def _plan(holder: Holder, prepared: _PreparedQuery) -> _TuplePlan | None:
    """How to read the holder's shown fields from its fetched rows (None: it cannot)."""
    from django.db.models.query_utils import DeferredAttribute

    compiler = prepared.compiler
    select = compiler.select
    if not _builds_plain_instances(holder.model):
        return None
    cells: list[_Cell] = []
    needed: set[int] = set()
    for name, _label in holder.fields:
        model: Any = holder.model
        klass_info = compiler.klass_info
        populators = prepared.related_populators
        guards: list[int] = []
        cell: _Cell | None = None
        parts = name.split("__")
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            try:
                model_field = model._meta.get_field(part)
            except FieldDoesNotExist:
                return None
            if model_field.many_to_one and not model_field.one_to_one:
                found = [
                    (info, pop)
                    for info, pop in zip(
                        klass_info.get("related_klass_infos", []), populators, strict=True
                    )
                    if info["field"] is model_field and not info["reverse"]
                ]
                if len(found) != 1 or not _builds_plain_instances(found[0][1].model_cls):
                    return None
                klass_info, populator = found[0]
                columns = _populator_columns(populator)
                if columns is None:
                    return None
                if last:
                    cell = _Cell(
                        index=-1,
                        guards=tuple(guards),
                        populator=populator,
                        related_converters=_converters_of(prepared, columns),
                        related_key=(populator.model_cls, *populator.init_list),
                    )
                    break
                guards.append(populator.cols_start + populator.pk_idx)
                populators = populator.related_populators
                model = model_field.related_model
                continue
            if not last or model_field.is_relation or not model_field.concrete:
                return None
            # A field with a descriptor of its own (a file) may change the value read.
            if type(getattr(model_field.model, model_field.attname, None)) is not DeferredAttribute:
                return None
            at = [
                i
                for i in klass_info["select_fields"]
                if select[i][0].target.attname == model_field.attname
            ]
            if len(at) != 1:
                return None
            cell = _Cell(index=at[0], guards=tuple(guards))
            needed.add(at[0])
        if cell is None:
            return None
        needed.update(cell.guards)
        cells.append(cell)
    return _TuplePlan(cells=tuple(cells), converters=_converters_of(prepared, needed))


def _minutes(value: datetime) -> str:
    """``value.strftime("%Y-%m-%d %H:%M")``, without strftime's cost for the usual years."""
    if value.year < 1000:  # strftime does not pad such years to four digits
        return value.strftime("%Y-%m-%d %H:%M")
    return "%d-%02d-%02d %02d:%02d" % (  # noqa: UP031 - the fastest of the spellings
        value.year, value.month, value.day, value.hour, value.minute
    )


def _cell_texts(
    value: Any, choices: dict[Any, str] | None, tz: tzinfo, yes_no: dict[bool, str]
) -> tuple[Any, str]:
    """(:func:`json_value`, the shown text) of a value, as ``holder_section`` makes them."""
    kind = type(value)
    if kind is str:
        if value == "":
            return value, ""
        return value, value if choices is None else choices.get(value, value)
    if value is None:
        return None, ""
    if kind is datetime:
        if value.utcoffset() is not None:
            value_json = value.astimezone(tz)
            local = value_json
        else:
            value_json = local = value
        if choices is not None:
            return value_json.isoformat(), choices.get(value, str(value))
        return value_json.isoformat(), _minutes(local)
    if kind is bool:
        return value, yes_no[value] if choices is None else choices.get(value, str(value))
    as_json = _json_value_in(value, tz)
    return as_json, _show(choices, value, tz, as_json)


class ReportContext:
    """What the sections of one report share: the language and the time zone.

    Looked up once per report: reading either goes through asgiref's context-local
    storage, which costs about as much per call as the Python of a row.
    """

    __slots__ = ("lang", "tz", "yes_no")

    def __init__(self) -> None:
        self.lang = get_language()
        self.tz = timezone.get_current_timezone()
        self.yes_no = _yes_no(self.lang)


#: The text of a related row shown in reports (a course), by (its model and columns,
#: their values, language, time zone). A course has many participants, and building
#: its instance and ``__str__`` for each of them was a fifth of the report's Python.
#: Any change to the row is a new key; a model whose ``__str__`` reads the database
#: (a relation not joined) is never kept (``_QUERYING_STR``), so nothing read from
#: elsewhere is served stale.
_RELATED_TEXTS: dict[Any, str] = {}
_RELATED_TEXTS_MAX = 10_000
_QUERYING_STR: set[tuple[Any, ...]] = set()


def _related_text(cell: _Cell, row: tuple[Any, ...], db: Any, context: ReportContext) -> str | None:
    """``str()`` of the related instance the cell's ``select_related`` populator would set
    (None: there is no related row); built, and its columns converted, only for values
    not shown before in the same language and time zone."""
    populator = cell.populator
    data = row[populator.cols_start : populator.cols_end]
    if data[populator.pk_idx] is None:
        return None
    key: Any = None
    if not populator.related_populators and cell.related_key not in _QUERYING_STR:
        key = (cell.related_key, data, context.lang, context.tz)
        try:
            return _RELATED_TEXTS[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value (JSON from PostgreSQL): not kept
            key = None
    obj = _related_instance(cell, row, db)
    if key is None:
        return str(obj)
    queried: list[str] = []

    def note(execute: Any, sql: str, *args: Any) -> Any:
        queried.append(sql)
        return execute(sql, *args)

    with connections[populator.db].execute_wrapper(note):
        text = str(obj)
    if queried:
        _QUERYING_STR.add(cell.related_key)
        return text
    if len(_RELATED_TEXTS) >= _RELATED_TEXTS_MAX:
        _RELATED_TEXTS.clear()
    _RELATED_TEXTS[key] = text
    return text


def holder_report_section(
    holder: Holder, person_id: int, cursor: Any, context: ReportContext | None = None
) -> HolderSection | None:
    """``holder_section(holder, holder_rows(holder, person_id, cursor))`` for the report,
    read from the fetched tuples without model instances; None when there are no rows.

    The same SQL and one query as :func:`holder_rows`; the section is the same.
    ``context``: shared by the sections of one report (made here when not given).
    """
    alias = cursor.db.alias
    key = (alias, id(holder))
    planned = _PLANS.get(key)
    if planned is None or planned[0] is not holder:
        prepared = _prepare(holder, alias)
        planned = _PLANS[key] = (holder, prepared, _plan(holder, prepared))
    _holder, prepared, plan = planned
    params = prepared.params.copy()
    params[prepared.person_at] = person_id
    cursor.execute(prepared.sql, params)
    fetched = cursor.fetchall()
    if not fetched:
        return None
    if plan is None:
        return holder_section(holder, _instances(holder, prepared, alias, fetched))
    if context is None:
        context = ReportContext()
    lang, tz, yes_no = context.lang, context.tz, context.yes_no
    name, fields = _labels(holder, lang)
    names = [field_name for field_name, _label in fields]
    cells = [
        (c, c.index, c.guards, c.populator, _choice_labels(holder.model, field_name, lang))
        for c, field_name in zip(plan.cells, names, strict=True)
    ]
    db = cursor.db
    raw: list[dict[str, Any]] = []
    shown: list[list[str]] = []
    for fetched_row in fetched:
        row = list(fetched_row)
        for at, convs in plan.converters:
            value = row[at]
            for converter, expression in convs:
                value = converter(value, expression, db)
            row[at] = value
        as_json: list[Any] = []
        texts_shown: list[str] = []
        for cell, index, guards, populator, choices in cells:
            if guards and any(row[g] is None for g in guards):
                value = None
            elif populator is None:
                value = row[index]
            elif choices is None:
                # A related row: shown and exported as its text (json_value, _show).
                text = _related_text(cell, tuple(fetched_row), db, context)
                as_json.append(text)
                texts_shown.append("" if text is None else text)
                continue
            else:
                value = _related_instance(cell, tuple(fetched_row), db)
            j, text = _cell_texts(value, choices, tz, yes_no)
            as_json.append(j)
            texts_shown.append(text)
        raw.append(dict(zip(names, as_json, strict=True)))
        shown.append(texts_shown)
    return HolderSection(
        label=holder.label,
        name=name,
        fields=list(fields),
        rows=raw,
        display_rows=shown,
        portable=holder.portable,
    )


def _related_instance(cell: _Cell, row: tuple[Any, ...], db: Any) -> models.Model | None:
    """The related instance the cell's ``select_related`` populator would set."""
    populator = cell.populator
    if row[populator.cols_start + populator.pk_idx] is None:
        return None
    values = list(row)
    for at, convs in cell.related_converters:
        value = values[at]
        for converter, expression in convs:
            value = converter(value, expression, db)
        values[at] = value
    obj = populator.model_cls.from_db(
        populator.db, populator.init_list, values[populator.cols_start : populator.cols_end]
    )
    for below in populator.related_populators:
        below.populate(values, obj)
    return cast(models.Model, obj)
