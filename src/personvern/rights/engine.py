"""The rights engine: access, portability, rectification, restriction, objection, erasure.

Generic over the holder registry (:mod:`personvern.core.registry`) and the policy
in force: nothing here lists a model or an activity by hand.

Reading one person's data costs one indexed query per holder, whatever the
number of rows (foreign keys shown in the report are joined in the same query).

Erasure (Art. 17) — safety design:

1. Everything runs in one transaction; if any step fails, nothing is erased.
2. Per holder, the rows that must be kept are computed first: every row under
   a hold in force *now* (the real clock, whatever date the request is
   fulfilled as of) on the person, on the holder's activity, on the row
   itself, on the row it belongs to (``Holder.parent``: a CV of a held
   application) or on one of its own child rows (deleting it would cascade
   onto the held child) -- Art. 17(3)(e), legal claims -- and the rows each of
   the holder's ``erasure_exceptions`` names (Art. 17(3)(b): bookkeeping,
   documentation of mandatory education). Rows kept under an exception (and
   not under a hold) lose the holder's ``erasure_clears`` fields. The rest is
   deleted or anonymised as the holder says, by one set-based statement.
3. The person's identity records go last. If nothing was kept, the person row
   is deleted (its identities, consents, memberships, restrictions and
   objections cascade). If something was kept, the person row stays with only
   what the kept records need to name their subject (names and memberships);
   e-mail identities, phone, consents, objections and restrictions go. A person
   hold keeps everything. See docs/erasure.md.
4. The audit log forgets the person's personal payloads
   (:func:`personvern.core.audit.forget_subject`); the chain stays verifiable.
   The admin's change log rows about every row deleted (cascades included:
   the rows are collected before the delete), anonymised or cleared go.
   Counts per model include the rows a cascade took along.
5. After commit: generated exports of the person are deleted, and the freed
   storage is purged (SQLite: secure_delete is on, the WAL is checkpointed and
   truncated, with bounded retries while a reader keeps it busy; PostgreSQL:
   the touched tables are vacuumed). The outcome is ``ErasureReport.storage_purge``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.deletion import Collector
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log, forget_subject, pseudonym
from personvern.core.models import (
    ConsentEvent,
    EmailIdentity,
    Hold,
    HoldScope,
    Objection,
    Person,
    Restriction,
)
from personvern.core.policy import current_policy
from personvern.core.registry import Holder, ancestors, holders, person_holders
from personvern.core.selectors import protecting_holds

if TYPE_CHECKING:
    from personvern.policy import Activity, Policy
    from personvern.rights.models import Request

#: Key of the person's identity records (holders with ``activity=None``).
IDENTITY = "identity"

#: Field name that marks a holder's rows as recorded disclosures (Art. 15(1)(c)).
RECIPIENT_FIELD = "recipient"

IDENTITY_TITLE = _("Your identity and contact details")
IDENTITY_PURPOSE = _(
    "To know who you are across our activities, to contact you, and to honour your "
    "consents, objections and restrictions."
)
IDENTITY_RETENTION = _("As long as we hold any other data about you.")
NO_AUTOMATED_DECISIONS = _(
    "We make no decisions based solely on automated processing, including profiling, "
    "that have legal or similarly significant effects for you (Art. 22)."
)

#: Human labels of the policy's retention anchors (the vocabulary has no labels).
ANCHOR_LABELS: dict[str, Any] = {
    "course-end": _("after the course ends"),
    "customer-relationship-end": _("after the customer relationship ends"),
    "received": _("after it was received"),
    "recruitment-closed": _("after the recruitment is closed"),
    "employment-end": _("after the employment ends"),
    "competition-end": _("after the competition ends"),
    "fiscal-year-end": _("after the end of the fiscal year"),
    "withdrawn": _("after consent is withdrawn"),
    "last-contact": _("after our last contact with you"),
    "sent": _("after it was sent"),
    "membership-end": _("after the membership ends"),
}

HOLD_REASON = _("Kept because it is needed for a legal claim (GDPR Art. 17(3)(e)).")
IDENTITY_KEPT_REASON = _(
    "Your name and memberships are kept only because the records listed above must be "
    "kept and must show whom they are about; your e-mail addresses, phone number, "
    "consents and other contact details were erased."
)
NOT_A_HOLDER = _("'%(label)s' is not a holder of personal data.")
ROW_NEEDED = _("'%(key)s': name the row as %(label)s:<id>.")
NO_SUCH_ROW = _("'%(key)s': no such row of this person.")
NOT_CORRECTABLE = _("'%(key)s': field '%(field)s' cannot be corrected here.")
ADDRESS_TAKEN = _("'%(key)s': the address belongs to someone else.")
ACTIVITY_NEEDED = _("Name the activity objected to, or direct-marketing.")
ERASURE_IDENTITY_HOLDERS_KEPT = (EmailIdentity, ConsentEvent, Objection, Restriction)

logger = logging.getLogger(__name__)


# --- Reading one person's data ------------------------------------------------


def _json_value(value: Any) -> Any:
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
    return str(_json_value(value))


def _relation_paths(holder: Holder) -> list[str]:
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
    related = _relation_paths(holder)
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


@dataclass
class ActivityInfo:
    """What Art. 15(1) and (2) require us to say about one activity."""

    id: str
    title: str
    description: str
    purposes: list[str]
    basis: str
    basis_note: str
    data_categories: list[str]
    recipients: list[dict[str, str]]
    retention: list[str]
    source: str
    sections: list[HolderSection] = field(default_factory=list)
    disclosures: list[dict[str, str]] = field(default_factory=list)


@dataclass
class AccessReport:
    """A person's access report (Art. 15), built from the registry and the policy.

    ``data`` is the machine-readable part, grouped by activity:
    ``{activity id: {holder label: [row, …]}}`` (``identity`` for the person's
    identity records).
    """

    person_id: str
    generated_at: datetime
    lang: str
    data: dict[str, dict[str, list[dict[str, Any]]]]
    activities: list[ActivityInfo]
    controller: dict[str, Any]
    authority: dict[str, Any]
    rights: list[dict[str, str]]
    automated_decisions: str
    policy_version: str

    @property
    def sections(self) -> list[HolderSection]:
        return [s for a in self.activities for s in a.sections]

    def as_json(self) -> dict[str, Any]:
        """The content of data.json."""
        return {
            "person": self.person_id,
            "generated_at": self.generated_at.isoformat(),
            "policy_version": self.policy_version,
            "data": self.data,
            "processing": [
                {
                    "activity": a.id,
                    "title": a.title,
                    "purposes": a.purposes,
                    "legal_basis": a.basis,
                    "data_categories": a.data_categories,
                    "recipients": a.recipients,
                    "recorded_disclosures": a.disclosures,
                    "retention": a.retention,
                    "source": a.source,
                }
                for a in self.activities
            ],
            "rights": self.rights,
            "supervisory_authority": self.authority,
            "automated_decisions": self.automated_decisions,
        }


_BASIS_LABELS = {
    "a": _("consent (GDPR Art. 6(1)(a))"),
    "b": _("contract (GDPR Art. 6(1)(b))"),
    "c": _("legal obligation (GDPR Art. 6(1)(c))"),
    "d": _("vital interests (GDPR Art. 6(1)(d))"),
    "e": _("public task (GDPR Art. 6(1)(e))"),
    "f": _("legitimate interests (GDPR Art. 6(1)(f))"),
}


def _activity_info(policy: Policy, activity: Activity, lang: str) -> ActivityInfo:
    def category(cat_id: str) -> str:
        try:
            return policy.data_category(cat_id).name.get(lang)
        except KeyError:
            return cat_id

    retention = []
    for rule in activity.retention:
        text = f"{rule.keep.describe(lang)} {ANCHOR_LABELS.get(rule.after, rule.after)}"
        if rule.note is not None:
            text = f"{text} ({rule.note.get(lang)})"
        retention.append(text)
    basis = str(_BASIS_LABELS[activity.basis])
    if activity.national_law:
        basis = f"{basis}; {activity.national_law}"
    return ActivityInfo(
        id=activity.id,
        title=activity.title.get(lang),
        description=activity.description.get(lang),
        purposes=[p.get(lang) for p in activity.purposes],
        basis=basis,
        basis_note=activity.basis_note.get(lang) if activity.basis_note else "",
        data_categories=[category(c) for c in activity.data_categories],
        recipients=[
            {
                "name": r.name.get(lang),
                "kind": r.kind,
                "condition": r.condition.get(lang) if r.condition else "",
                "country": r.country,
            }
            for r in activity.recipients
        ],
        retention=retention,
        source=activity.source.get(lang) if activity.source else "",
    )


def _section(holder: Holder, rows: Sequence[models.Model]) -> HolderSection:
    names = [name for name, _label in holder.fields]
    raw: list[dict[str, Any]] = []
    shown: list[list[str]] = []
    for row in rows:
        values = {name: _value(row, name) for name in names}
        raw.append({name: _json_value(v) for name, v in values.items()})
        shown.append([_display_value(holder.model, n, v) for n, v in values.items()])
    return HolderSection(
        label=holder.label,
        name=str(holder.verbose_name),
        fields=[(name, str(label)) for name, label in holder.fields],
        rows=raw,
        display_rows=shown,
        portable=holder.portable,
    )


def _disclosures(sections: Iterable[HolderSection]) -> list[dict[str, str]]:
    """Rows of holders that record a hand-over (a ``recipient`` field): the recipients
    the person's data was actually disclosed to (R11 hotel transfers)."""
    found: list[dict[str, str]] = []
    for section in sections:
        names = [name for name, _label in section.fields]
        if RECIPIENT_FIELD not in names:
            continue
        at = names.index(RECIPIENT_FIELD)
        for shown in section.display_rows:
            details = "; ".join(
                f"{label}: {value}"
                for (name, label), value in zip(section.fields, shown, strict=True)
                if name != RECIPIENT_FIELD and value
            )
            found.append({"recipient": shown[at], "holder": section.name, "details": details})
    return found


def access_report(person: Person, *, lang: str = "nb", now: datetime | None = None) -> AccessReport:
    """Everything Art. 15 lists about ``person``, generated from registry and policy."""
    now = now or timezone.now()
    policy = current_policy()
    with translation.override(lang):
        by_activity: dict[str, list[HolderSection]] = {}
        with connection.cursor() as cursor:
            for holder in person_holders():
                rows = holder_rows(holder, person.pk, cursor)
                if rows:
                    section = _section(holder, rows)
                    by_activity.setdefault(holder.activity or IDENTITY, []).append(section)

        activities: list[ActivityInfo] = []
        if IDENTITY in by_activity:
            activities.append(
                ActivityInfo(
                    id=IDENTITY,
                    title=str(IDENTITY_TITLE),
                    description="",
                    purposes=[str(IDENTITY_PURPOSE)],
                    basis="",
                    basis_note="",
                    data_categories=[],
                    recipients=[],
                    retention=[str(IDENTITY_RETENTION)],
                    source="",
                    sections=by_activity[IDENTITY],
                )
            )
        for activity in policy.activities:
            if activity.id not in by_activity:
                continue
            info = _activity_info(policy, activity, lang)
            info.sections = by_activity[activity.id]
            info.disclosures = _disclosures(info.sections)
            activities.append(info)

        authority = policy.supervisory_authority
        controller = policy.controller
        rights = [
            {"id": r.id, "article": r.article, "title": r.title.get(lang), "text": r.text.get(lang)}
            for r in policy.rights.rights
        ]
        return AccessReport(
            person_id=str(person.public_id),
            generated_at=now,
            lang=lang,
            data={a.id: {s.label: s.rows for s in a.sections} for a in activities},
            activities=activities,
            controller={
                "name": controller.name,
                "org_no": controller.org_no,
                "email": controller.email,
                "postal_address": list(controller.postal_address),
            },
            authority={
                "name": authority.name.get(lang),
                "postal_address": list(authority.postal_address),
                "complaint_url": authority.complaint_url,
            },
            rights=rights,
            automated_decisions=str(NO_AUTOMATED_DECISIONS),
            policy_version=policy.version,
        )


def access_report_html(report: AccessReport) -> str:
    """The readable report (report.html) in the report's language."""
    with translation.override(report.lang):
        return render_to_string("rights/report.html", {"report": report})


#: A text cell starting with one of these is evaluated as a formula by spreadsheet
#: programs (CSV injection); tab and carriage return can hide such a start.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: formula-like text gets a leading '.

    The person's own data may contain anything (a name typed as ``=HYPERLINK(…)``);
    data.json keeps the values unchanged.
    """
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_bytes(section: HolderSection) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_cell(name) for name, _label in section.fields])
    for row in section.rows:
        writer.writerow([_csv_cell(v) for v in row.values()])
    # A BOM so spreadsheet programs read the UTF-8 correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def access_bundle(person: Person, *, lang: str = "nb", now: datetime | None = None) -> bytes:
    """The access bundle: data.json, one CSV per holder with rows, and report.html."""
    report = access_report(person, lang=lang, now=now)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(
            "data.json", json.dumps(report.as_json(), ensure_ascii=False, indent=2).encode()
        )
        for section in report.sections:
            bundle.writestr(f"{section.label}.csv", _csv_bytes(section))
        bundle.writestr("report.html", access_report_html(report).encode())
    return buffer.getvalue()


def exports_dir(person: Person) -> Path:
    """Where generated files about ``person`` are kept (deleted on erasure)."""
    return Path(settings.DATA_DIR) / "exports" / str(person.public_id)


def _write_private(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(tmp, path)
    return path


def access_bundle_write(
    person: Person, *, request: Request, lang: str = "nb", now: datetime | None = None
) -> Path:
    """Write the access bundle to ``DATA_DIR/exports/<person>/access-<request>.zip``."""
    content = access_bundle(person, lang=lang, now=now)
    return _write_private(exports_dir(person) / f"access-{request.public_id}.zip", content)


def export_path(request: Request) -> Path | None:
    """The generated file of a completed access or portability request, if it still exists."""
    name = (request.result or {}).get("bundle") or (request.result or {}).get("export")
    if not name or request.person is None:
        return None
    path = exports_dir(request.person) / name
    return path if path.exists() else None


# --- Portability (Art. 20) ---------------------------------------------------------


def portability_export(person: Person, *, now: datetime | None = None) -> dict[str, Any]:
    """The data processed on consent or contract, as JSON-ready data (Art. 20).

    A holder's rows are included when the holder is declared portable and its
    activity rests on Art. 6(1)(a) or (b); identity records count as provided
    by the person when their holder is portable.
    """
    now = now or timezone.now()
    policy = current_policy()
    data: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for holder in person_holders():
        if not holder.portable:
            continue
        if holder.activity is not None:
            try:
                if not policy.activity(holder.activity).portable:
                    continue
            except KeyError:
                continue
        rows = holder_rows(holder, person.pk)
        if rows:
            data.setdefault(holder.activity or IDENTITY, {})[holder.label] = _section(
                holder, rows
            ).rows
    return {
        "format": "personvern-portability/1",
        "person": str(person.public_id),
        "generated_at": now.isoformat(),
        "controller": policy.controller.name,
        "data": data,
    }


def portability_write(person: Person, *, request: Request, now: datetime | None = None) -> Path:
    """Write the portability export to ``DATA_DIR/exports/<person>/portability-<request>.json``."""
    content = json.dumps(portability_export(person, now=now), ensure_ascii=False, indent=2)
    return _write_private(
        exports_dir(person) / f"portability-{request.public_id}.json", content.encode()
    )


# --- Rectification (Art. 16) --------------------------------------------------------


def _holder_by_label(label: str) -> Holder:
    for holder in person_holders():
        if holder.label.lower() == label.lower():
            return holder
    raise ValidationError(
        {"changes": ValidationError(NOT_A_HOLDER, params={"label": label})}
    )


def rectify(
    person: Person,
    changes: dict[str, dict[str, Any]],
    *,
    actor: str,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Correct named fields of the person or of one of their rows (Art. 16).

    ``changes`` maps ``"core.Person"`` or ``"<app>.<Model>:<pk>"`` to
    ``{field: new value}``; only fields the holder shows in the access report may
    change. Old and new values go in the audit entry's ``personal`` part under
    the person's pseudonym. Returns what changed (labels and field names only).
    Raises ValidationError naming the key and field; nothing is written then.
    """
    now = now or timezone.now()
    done: list[dict[str, Any]] = []
    with transaction.atomic():
        for key, values in changes.items():
            label, _sep, pk = key.partition(":")
            holder = _holder_by_label(label)
            rows = holder.for_person(person.pk)
            if holder.model is Person:
                row = rows.get()
            else:
                if not pk:
                    raise ValidationError(
                        {
                            "changes": ValidationError(
                                ROW_NEEDED, params={"key": key, "label": label}
                            )
                        }
                    )
                row = rows.filter(pk=pk).first()
                if row is None:
                    raise ValidationError(
                        {"changes": ValidationError(NO_SUCH_ROW, params={"key": key})}
                    )
            allowed = {name for name, _l in holder.fields}
            old: dict[str, Any] = {}
            new: dict[str, Any] = {}
            typed: dict[str, Any] = {}
            for name, value in values.items():
                if name not in allowed:
                    raise ValidationError(
                        {
                            "changes": ValidationError(
                                NOT_CORRECTABLE, params={"key": key, "field": name}
                            )
                        }
                    )
                model_field = holder.model._meta.get_field(name)
                if (
                    not isinstance(model_field, models.Field)
                    or not model_field.editable
                    or model_field.primary_key
                    or model_field.is_relation
                ):
                    raise ValidationError(
                        {
                            "changes": ValidationError(
                                NOT_CORRECTABLE, params={"key": key, "field": name}
                            )
                        }
                    )
                if holder.model is EmailIdentity and name == "address":
                    from personvern.core.services import normalise_email

                    value = normalise_email(str(value))
                    if EmailIdentity.objects.filter(address=value).exclude(pk=row.pk).exists():
                        raise ValidationError(
                            {"changes": ValidationError(ADDRESS_TAKEN, params={"key": key})}
                        )
                try:
                    cleaned = model_field.clean(value, row)
                except ValidationError as exc:
                    raise ValidationError(
                        {"changes": f"{key!r}: {name}: {'; '.join(exc.messages)}"}
                    ) from exc
                old[name] = _json_value(getattr(row, name))
                new[name] = _json_value(cleaned)
                typed[name] = cleaned
            holder.model._default_manager.filter(pk=row.pk).update(**typed)
            audit_log(
                actor=actor,
                action="rights.rectified",
                person=person,
                activity=holder.activity or "",
                data={"holder": holder.label, "row": row.pk, "fields": sorted(new)},
                personal={"old": old, "new": new},
                now=now,
            )
            done.append({"holder": holder.label, "row": row.pk, "fields": sorted(new)})
    return done


# --- Restriction (Art. 18) and objection (Art. 21) ---------------------------------


def restrict(
    person: Person, *, ground: str, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Place a restriction (Art. 18) through the core service; every processing path
    reads :func:`personvern.core.selectors.restricted_person_ids`."""
    from personvern.core.services import restriction_place

    restriction = restriction_place(person=person, ground=ground, actor=actor, now=now)
    return {"restriction": restriction.ground}


def object_to(
    person: Person, *, activity: str, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Record an objection (Art. 21). ``direct-marketing`` is absolute (Art. 21(3)):
    it takes effect at once and needs no weighing."""
    from personvern.core.services import objection_record

    if not activity:
        raise ValidationError({"activity": ACTIVITY_NEEDED})
    objection = objection_record(person=person, activity=activity, actor=actor, now=now)
    return {"objection": objection.activity, "absolute": activity == Objection.DIRECT_MARKETING}


# --- Erasure (Art. 17) ----------------------------------------------------------------

#: Tries at a truncating WAL checkpoint after an erasure (SQLite), the first wait
#: between them (doubling), and how long one try waits for readers to finish. The
#: connection's own busy timeout (30 s) would hold the answer to the request far too long.
CHECKPOINT_ATTEMPTS = 5
CHECKPOINT_FIRST_WAIT_SECONDS = 0.1
CHECKPOINT_BUSY_TIMEOUT_MS = 250

#: Outcomes of :func:`purge_freed_storage`.
PURGE_DONE = "done"
PURGE_PENDING = "pending"
PURGE_SKIPPED = "skipped"

PARENT_HOLD_REASON = _(
    "Kept because the record it belongs to is needed for a legal claim (GDPR Art. 17(3)(e))."
)


@dataclass(frozen=True)
class KeptRecords:
    """Rows that erasure had to keep, and why (shown to the person).

    ``cleared``: the fields overwritten on these rows because the reason for
    keeping them does not cover them (``Holder.erasure_clears``).
    """

    activity: str
    holder: str
    count: int
    reason_id: str
    reason: str
    cleared: tuple[str, ...] = ()


@dataclass
class ErasureReport:
    """What an erasure did: counts per model, and what was kept and why.

    ``erased`` counts every deleted row per model, rows that went by cascade
    included. ``storage_purge`` is set after commit (:data:`PURGE_DONE`,
    :data:`PURGE_PENDING`, :data:`PURGE_SKIPPED`).
    """

    subject: str
    erased: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    kept: list[KeptRecords] = field(default_factory=list)
    person_deleted: bool = False
    storage_purge: str = ""

    def count_erased(self, counts: dict[str, int]) -> None:
        """Add the per-model counts of one deletion."""
        for label, count in counts.items():
            if count:
                self.erased[label] = self.erased.get(label, 0) + count

    def as_result(self) -> dict[str, Any]:
        """The request's ``result``: counts and reasons, no identifiers."""
        kept = []
        for k in self.kept:
            entry: dict[str, Any] = {
                "activity": k.activity,
                "holder": k.holder,
                "count": k.count,
                "reason_id": k.reason_id,
                "reason": k.reason,
            }
            if k.cleared:
                entry["cleared"] = list(k.cleared)
            kept.append(entry)
        return {
            "erased": self.erased,
            "anonymised": self.anonymised,
            "kept": kept,
            "person_deleted": self.person_deleted,
        }


@dataclass(frozen=True)
class _Keep:
    """One reason to keep some of a holder's rows. ``legal_hold`` rows stay whole;
    rows kept under an erasure exception lose the holder's ``erasure_clears``."""

    reason_id: str
    reason: str
    q: Q
    legal_hold: bool


def holds_in_force() -> QuerySet[Hold]:
    """Holds that protect rows from an erasure: those in force at the real time.

    An erasure happens when it runs, whatever date it is fulfilled as of
    (``--as-of``): a hold placed this morning exists and protects even when the
    request is fulfilled as of last week. Unlike ``active_holds`` it does not
    ask when the hold was placed (as the retention engine's ``protecting_holds``).
    """
    return protecting_holds(timezone.now())


def _row_held(holds: QuerySet[Hold], model: type[models.Model], object_id: Any) -> Q:
    return Q(
        Exists(
            holds.filter(
                scope=HoldScope.ROW,
                content_type=ContentType.objects.get_for_model(model),
                object_id=object_id,
            )
        )
    )


def _held_children(holder: Holder, holds: QuerySet[Hold]) -> list[Q]:
    """A row whose child row is held is kept too: deleting it would cascade onto the child."""
    checks = []
    for child in holders():
        if child.parent is None or child.parent_model is not holder.model:
            continue
        children = child.model._default_manager.filter(**{f"{child.parent}__id": OuterRef("pk")})
        checks.append(Q(Exists(children.filter(_row_held(holds, child.model, OuterRef("pk"))))))
    return checks


def _any(checks: Iterable[Q]) -> Q:
    combined = Q(pk__in=[])
    for check in checks:
        combined |= check
    return combined


def _keep_conditions(holder: Holder, holds: QuerySet[Hold], lang: str) -> list[_Keep]:
    """The reasons to keep some of one holder's rows, in the order they are reported."""
    conditions: list[_Keep] = []
    with translation.override(lang):
        held = [_row_held(holds, holder.model, OuterRef("pk")), *_held_children(holder, holds)]
        if (
            holder.activity
            and holds.filter(scope=HoldScope.ACTIVITY, activity=holder.activity).exists()
        ):
            held.append(Q(pk__isnull=False))
        conditions.append(_Keep("hold", str(HOLD_REASON), _any(held), legal_hold=True))
        parents = [
            _row_held(holds, model, OuterRef(f"{path}__id")) for path, model in ancestors(holder)
        ]
        if parents:
            conditions.append(
                _Keep("parent-hold", str(PARENT_HOLD_REASON), _any(parents), legal_hold=True)
            )
        for reason_id, (reason, q_factory) in holder.erasure_exceptions.items():
            q = q_factory()
            # An empty Q means "every row"; OR-ed with others it would mean nothing.
            conditions.append(
                _Keep(reason_id, str(reason), q if q else Q(pk__isnull=False), legal_hold=False)
            )
    return conditions


def _forget_admin_log(model: type[models.Model], pks: Iterable[Any]) -> None:
    # The admin change log keeps str(obj) of what staff edited; that can be a
    # name or an address, so the log rows about erased records go too.
    keys = [str(pk) for pk in pks]
    if keys:
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id__in=keys
        ).delete()


def _delete(queryset: models.QuerySet[Any]) -> dict[str, int]:
    """Delete as ``QuerySet.delete()`` does; return the count per model, cascades included.

    The rows a cascade takes along are collected first, so the admin change log
    rows about each of them can go too (a CV's log row names its file).
    """
    collector = Collector(using=queryset.db, origin=queryset)
    collector.collect(queryset)
    for model, instances in collector.data.items():
        _forget_admin_log(model, [obj.pk for obj in instances])
    for fast in collector.fast_deletes:
        _forget_admin_log(fast.model, list(fast.values_list("pk", flat=True)))
    _total, counts = collector.delete()
    return {label: count for label, count in counts.items() if count}


def erase(
    person: Person, *, actor: str, now: datetime | None = None, lang: str = "nb"
) -> ErasureReport:
    """Erase the person's data as far as the law allows; report what was kept and why.

    Runs in one transaction (see the module docstring for the safety design).
    ``now`` dates the audit entries; holds are those in force at the real time
    (:func:`holds_in_force`).
    """
    now = now or timezone.now()
    subject = pseudonym(person)
    report = ErasureReport(subject=subject)
    tables: set[str] = {LogEntry._meta.db_table}
    export_dir = exports_dir(person)
    with transaction.atomic():
        holds = holds_in_force()
        person_hold = holds.filter(scope=HoldScope.PERSON, person=person).exists()
        if person_hold:
            with translation.override(lang):
                reason = str(HOLD_REASON)
        kept_anything = False
        for holder in person_holders():
            if holder.activity is None:
                continue
            rows = holder.for_person(person.pk)
            tables.add(holder.model._meta.db_table)
            if person_hold:
                count = rows.count()
                if count:
                    report.kept.append(
                        KeptRecords(holder.activity, holder.label, count, "hold", reason)
                    )
                    kept_anything = True
                continue
            kept_anything |= _erase_holder(holder, rows, holds, report, lang)

        _erase_identity(
            person, report, kept_anything=kept_anything, person_hold=person_hold, lang=lang
        )
        for holder in person_holders():
            if holder.activity is None:
                tables.add(holder.model._meta.db_table)
        forgotten = forget_subject(subject)
        audit_log(
            actor=actor,
            action="rights.erased",
            subject=subject,
            data={
                "erased": report.erased,
                "anonymised": report.anonymised,
                "kept": {k.holder: k.count for k in report.kept},
                "audit_payloads_forgotten": forgotten,
                "person_deleted": report.person_deleted,
            },
            now=now,
        )
        from personvern.core.models import AuditEntry

        tables.add(AuditEntry._meta.db_table)

        def purge() -> None:
            report.storage_purge = purge_freed_storage(sorted(tables))

        transaction.on_commit(lambda: shutil.rmtree(export_dir, ignore_errors=True))
        transaction.on_commit(purge)
    return report


def _erase_holder(
    holder: Holder,
    rows: models.QuerySet[Any],
    holds: QuerySet[Hold],
    report: ErasureReport,
    lang: str,
) -> bool:
    """Erase one holder's rows of the person; return whether any row was kept."""
    kept_q = Q(pk__in=[])
    held_q = Q(pk__in=[])
    kept_anything = False
    for keep in _keep_conditions(holder, holds, lang):
        # Counted apart from earlier reasons, so each kept row is reported once.
        count = rows.filter(keep.q).exclude(kept_q).count()
        if not count:
            continue
        assert holder.activity is not None
        cleared = () if keep.legal_hold else tuple(holder.erasure_clears)
        report.kept.append(
            KeptRecords(holder.activity, holder.label, count, keep.reason_id, keep.reason, cleared)
        )
        kept_anything = True
        kept_q |= keep.q
        if keep.legal_hold:
            held_q |= keep.q
    if holder.erasure_clears and kept_anything:
        # Kept for an erasure exception and not under a hold (a legal claim keeps
        # the whole row): what the exception does not cover goes.
        cleared_pks = list(rows.filter(kept_q).exclude(held_q).values_list("pk", flat=True))
        if cleared_pks:
            _forget_admin_log(holder.model, cleared_pks)
            holder.model._default_manager.filter(pk__in=cleared_pks).update(
                **holder.erasure_clears
            )
    doomed = list(rows.exclude(kept_q).values_list("pk", flat=True))
    if doomed:
        target = holder.model._default_manager.filter(pk__in=doomed)
        if holder.erase == "anonymise":
            _forget_admin_log(holder.model, doomed)
            target.update(**holder.anonymise)
            report.anonymised[holder.label] = len(doomed)
        else:
            report.count_erased(_delete(target))
    return kept_anything


def _erase_identity(
    person: Person, report: ErasureReport, *, kept_anything: bool, person_hold: bool, lang: str
) -> None:
    if person_hold:
        return
    if not kept_anything:
        # Cascades to identities, memberships, consents, restrictions, objections, holds.
        report.count_erased(_delete(Person.objects.filter(pk=person.pk)))
        report.person_deleted = True
        return
    # Something must be kept: the person row stays with what names its subject.
    for model in ERASURE_IDENTITY_HOLDERS_KEPT:
        report.count_erased(_delete(model._default_manager.filter(person=person)))
    Person.objects.filter(pk=person.pk).update(phone="")
    _forget_admin_log(Person, [person.pk])
    with translation.override(lang):
        report.kept.append(
            KeptRecords(
                IDENTITY,
                Person._meta.label,
                1,
                "identity-of-kept-records",
                str(IDENTITY_KEPT_REASON),
            )
        )


def purge_freed_storage(
    tables: Sequence[str] = (),
    *,
    attempts: int | None = None,
    first_wait: float | None = None,
) -> str:
    """Make erased bytes unreachable on disk, after the erasure committed.

    SQLite (``secure_delete=ON`` zeroes freed space): checkpoint the WAL into the
    database file and truncate it, so old page images in the WAL are gone. A
    reader on an older snapshot makes the checkpoint busy: it is tried
    ``attempts`` times in all (default :data:`CHECKPOINT_ATTEMPTS`; the waits
    double from ``first_wait`` seconds); if it stays busy the outcome is
    :data:`PURGE_PENDING` (logged; the next checkpoint completes it).
    PostgreSQL: VACUUM the touched tables so dead tuples are pruned (see
    docs/erasure.md for what this does and does not reach).
    Returns :data:`PURGE_DONE`, :data:`PURGE_PENDING`, or :data:`PURGE_SKIPPED`
    inside a transaction (where neither can run).
    """
    if connection.in_atomic_block:
        # VACUUM and a truncating checkpoint need to run outside a transaction.
        return PURGE_SKIPPED
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            return _checkpoint_wal(
                cursor,
                attempts=CHECKPOINT_ATTEMPTS if attempts is None else attempts,
                first_wait=CHECKPOINT_FIRST_WAIT_SECONDS if first_wait is None else first_wait,
            )
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"VACUUM {connection.ops.quote_name(table)}")
    return PURGE_DONE


def _checkpoint_wal(cursor: Any, *, attempts: int, first_wait: float) -> str:
    cursor.execute("PRAGMA busy_timeout")
    (previous_timeout,) = cursor.fetchone()
    cursor.execute(f"PRAGMA busy_timeout = {int(CHECKPOINT_BUSY_TIMEOUT_MS)}")
    try:
        for attempt in range(max(attempts, 1)):
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log_frames, _checkpointed = cursor.fetchone()
            if not busy:
                return PURGE_DONE
            if attempt + 1 < attempts:
                time.sleep(first_wait * 2**attempt)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(previous_timeout)}")
    logger.warning(
        "The WAL checkpoint after an erasure stayed busy after %d tries; the erased "
        "data's old pages stay in the -wal file until the next checkpoint.",
        attempts,
    )
    return PURGE_PENDING
