"""Erasure (Art. 17): as much as the law allows, and a report of what was kept and why.

Safety design:

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

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.deletion import Collector
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
from personvern.core.registry import Holder, ancestors, holders, person_holders
from personvern.core.selectors import protecting_holds
from personvern.rights.engine.files import exports_dir
from personvern.rights.engine.purge import purge_freed_storage
from personvern.rights.engine.rows import IDENTITY

HOLD_REASON = _("Kept because it is needed for a legal claim (GDPR Art. 17(3)(e)).")
IDENTITY_KEPT_REASON = _(
    "Your name and memberships are kept only because the records listed above must be "
    "kept and must show whom they are about; your e-mail addresses, phone number, "
    "consents and other contact details were erased."
)


ERASURE_IDENTITY_HOLDERS_KEPT = (EmailIdentity, ConsentEvent, Objection, Restriction)


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
