"""The retention engine: forecast and run.

Safety design (read before changing anything here):

- **What is due** is decided by the policy, never by this module: each
  retention rule of each activity, applied to each holder declared for that
  activity (:mod:`personvern.retention.targets`), is one set-based query.
- **Held rows are never touched**: active holds on the person, the activity or
  the row (or on the row it belongs to, ``Holder.parent``, or on a row that
  belongs to it), and persons under an Art. 18(1)(b)/(c) restriction, are excluded in
  the SQL statement that selects the batch, inside the batch's transaction: a
  hold committed before a batch starts protects its rows from that batch on.
- **One transaction per batch**: select up to ``batch_size`` due primary keys
  (ordered by pk, after the previous batch, within a primary-key window: see
  :mod:`personvern.retention.batches`), delete or anonymise exactly those
  (:mod:`personvern.retention.deletion`), and write one ``retention.batch``
  audit entry, all in one transaction. A run killed at any instant leaves
  whole batches done and audited, or not done at all; the next run simply
  finds what is still due.
- **No cascade into other activities**: a target whose deletion would cascade
  into rows of another activity (or is blocked by PROTECT) is refused and
  reported; it deletes nothing.
- **Persons last** (:mod:`personvern.retention.persons`): after the holders,
  persons that no activity's row references any more (identity records such
  as e-mails and memberships do not keep a person) are removed in batches,
  unless a hold or a keeping restriction protects them. Their audit entries'
  personal payloads are cleared; the pseudonymous chain stays verifiable. A
  person with an active objection to direct marketing is not removed (the
  objection must outlive a re-import, R37) but reduced to the person row
  without name or phone, their e-mail identities and their objections.
- **Idempotent**: deleting rows can move another rule's anchor (a customer
  relationship's end), so targets whose query reads a changed table run again
  until a pass changes nothing; a second run finds nothing to do.
- **Admin change log** (:mod:`personvern.retention.traces`): Django's
  ``LogEntry.object_repr`` is ``str(obj)`` (a person's name, "Name – Course"),
  so the log rows about every row a batch deletes or anonymises, cascaded
  rows included, are deleted in the batch's transaction (one statement per
  batch, keys selected in SQL).
- Audit entries carry counts, the activity, the rule id and the holder's model
  label: no personal data and no primary keys of people.
- **The forecast and the dry run rehearse the run**: they run the very same
  code in one transaction that is rolled back, writing no audit entries, so
  what they count is what a run removes: later passes (an analytics event
  whose consent the first pass deleted), rows cascaded with their parent (on
  the parent's line, as a run reports them), a row due under two rules (on the
  first rule's line only) and the persons the run leaves without a record. The
  price: a rehearsal costs as much as the run, and on SQLite it holds the write
  lock while it works (PostgreSQL locks only the rows it touches). The
  forecast's windows rehearse on from the same transaction (the run at
  ``as_of``, then at +30, +90 and +365 days), so each window is cumulative.
  What a rehearsal (and a run) costs is mostly building and compiling the due
  queries, not running them: holders with empty tables are not walked, and a
  rehearsal leaves out the protection checks of kinds of hold none of which
  is in force (see :func:`_split_targets`), with the same counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import (
    Hold,
    HoldScope,
    RestrictionGround,
)
from personvern.core.policy import current_policy
from personvern.core.registry import holders
from personvern.core.selectors import protecting_holds
from personvern.retention.batches import BatchWalk
from personvern.retention.clock import oslo_date
from personvern.retention.deletion import delete_rows
from personvern.retention.persons import (
    minimise_objecting_persons,
    objecting_persons_to_minimise,
    orphan_persons,
    sweep_persons,
)
from personvern.retention.reports import (
    WINDOWS,
    AuditWriter,
    Forecast,
    ForecastLine,
    ProgressCallback,
    Refusal,
    RunLine,
    RunReport,
)
from personvern.retention.targets import (
    HoldsInForce,
    Target,
    due_q,
    iter_targets,
    protection,
    scoped_rows,
    target_problems,
)
from personvern.retention.traces import (
    admin_log_rows,
    batch_commit_mode,
    deleted_counts,
    forget_admin_log,
    no_cascade,
    pk_condition,
)

#: A run stops repeating passes after this many (each pass after the first only
#: finds rows whose anchor moved because of the previous pass).
MAX_PASSES = 5

ACTOR = "system:retention"



def _split_targets(
    as_of: datetime, *, rehearsal: bool = False
) -> tuple[list[tuple[Target, QuerySet[Any]]], list[Refusal]]:
    """The sound targets with their due querysets, and the refused ones with their problems.

    A declaration whose query cannot even be built (a broken anchor or cohort
    expression) is refused, not fatal: one domain app's mistake must not stop
    retention everywhere else. The refusal is reported and the CLI fails.
    The querysets are built once per run (building them costs more than
    running them on small tables). Two shortcuts keep that cost to the tables
    that can have work (the due query's hold and restriction subqueries are
    most of it):

    - A holder whose table is empty gets an empty queryset (its query is still
      built without protection, so a broken declaration is refused as before).
      A run only ever visits the rows that existed when its walk started.
    - In a rehearsal (``rehearsal=True``: the forecast and the dry run, in a
      transaction rolled back), the protection subqueries of the kinds of
      hold or restriction of which none is in force at ``as_of`` are left
      out (:class:`~personvern.retention.targets.HoldsInForce`): each would be
      ``NOT EXISTS`` over an empty set, and a rehearsal creates no holds. A
      real run always checks every kind in each batch's statement, so a hold
      committed during the run still protects.
    """
    sound: list[tuple[Target, QuerySet[Any]]] = []
    refused: list[Refusal] = []
    targets = list(iter_targets(current_policy()))  # the policy first: it may not load
    stored = _models_with_rows({target.model for target in targets})
    in_force = HoldsInForce.at(as_of) if rehearsal else None
    for target in targets:
        problems = target_problems(target)
        if not problems:
            try:
                if target.model in stored:
                    due = due_rows(target, as_of, in_force=in_force)
                else:
                    _due_regardless_of_protection(target, as_of)
                    due = target.model._base_manager.none()
                sound.append((target, due))
                continue
            except Exception as exc:  # noqa: BLE001 - reported as a refusal, never swallowed
                problems = [f"its query cannot be built: {type(exc).__name__}: {exc}"]
        refused.append(
            Refusal(target.activity.id, target.rule.id, target.holder.label, tuple(problems))
        )
    return sound, refused


def _models_with_rows(models: set[type[Any]]) -> set[type[Any]]:
    """Those of ``models`` whose table has at least one row (one small query each)."""
    return {model for model in models if model._base_manager.exists()}


def _check_as_of(as_of: datetime) -> None:
    if timezone.is_naive(as_of):
        raise ValueError(f"as_of must be timezone-aware, got the naive datetime {as_of!r}")


def _due_regardless_of_protection(target: Target, as_of: datetime) -> QuerySet[Any]:
    qs, anchor_field = scoped_rows(target)
    cutoff = target.rule.keep.subtract_from(oslo_date(as_of))
    return qs.filter(due_q(anchor_field, cutoff))


def due_rows(
    target: Target, as_of: datetime, *, in_force: HoldsInForce | None = None
) -> QuerySet[Any]:
    """The unprotected rows of ``target`` due at ``as_of`` (a queryset, not evaluated).

    ``in_force``: only in a rehearsal, see :func:`~personvern.retention.targets.protection`.
    """
    return _due_regardless_of_protection(target, as_of).filter(
        protection(target, as_of, in_force=in_force).unprotected_q()
    )


def depends_on(target: Target, as_of: datetime) -> set[str]:
    """The tables whose changes can make more of ``target``'s rows due (see ``reads_tables``).

    Read from the query without its protection subqueries: protection only
    ever depends on holds and restrictions, which a run never changes, and on
    held rows, which it never deletes; deleting an unheld row cannot protect
    another or lift a hold. Counting the tables those subqueries name (a
    registration's hotel entries, say) would only repeat whole walks for nothing.
    """
    return reads_tables(_due_regardless_of_protection(target, as_of))


# --------------------------------------------------------------------- forecast


def _reason_label(reason: str | None, ground: str | None) -> str:
    if reason:
        return reason
    return str(RestrictionGround(ground).label) if ground else ""


def _held(target: Target, as_of: datetime, in_force: HoldsInForce) -> dict[str, int]:
    """Rows of ``target`` due at ``as_of`` that a hold or restriction keeps, by first reason."""
    qs, anchor_field = scoped_rows(target)
    guard = protection(target, as_of, in_force=in_force)
    if not guard.holds:
        return {}  # no kind of hold or restriction that could reach these rows is in force
    cutoff = target.rule.keep.subtract_from(oslo_date(as_of))
    held_rows = (
        qs.filter(due_q(anchor_field, cutoff))
        .filter(guard.q())
        .annotate(_hold_reason=guard.reason, _ground=guard.ground)
        .order_by()
        .values("_hold_reason", "_ground")
        .annotate(n=Count("pk"))
    )
    reasons: dict[str, int] = {}
    for row in held_rows:
        label = _reason_label(row["_hold_reason"], row["_ground"])
        reasons[label] = reasons.get(label, 0) + row["n"]
    return dict(sorted(reasons.items()))


class _Rehearsed(Exception):
    """Raised to roll a rehearsal back (never escapes :func:`_rehearsal`)."""


@contextmanager
def _rehearsal() -> Iterator[None]:
    """A transaction (or savepoint) that is always rolled back, whatever the body does."""
    try:
        with transaction.atomic():
            yield
            raise _Rehearsed
    except _Rehearsed:
        pass


def _not_audited(**kwargs: Any) -> None:
    """A rehearsal writes no audit entry (and so never takes the audit chain's lock)."""


def retention_forecast(*, as_of: datetime) -> Forecast:
    """What retention removes now and within 30, 90 and 365 days, and what holds keep.

    Rehearses the run (see the module's docstring): at ``as_of``, then on from
    there at each window's end, in one transaction that is rolled back. Counts
    only; reads nothing personal except hold reasons written by staff.
    """
    _check_as_of(as_of)
    targets, refused = _split_targets(as_of, rehearsal=True)
    # Rows can only be held when something protects, and only in a table with rows.
    in_force = HoldsInForce.at(as_of)
    held = {
        target.key: _held(target, as_of, in_force)
        if in_force.anything and not due.query.is_empty() else {}
        for target, due in targets
    }
    now = _new_report(targets, refused, as_of=as_of, dry_run=True)
    within: dict[int, RunReport] = {}
    # The tables each due query reads do not depend on the date: found once.
    dependencies: dict[str, set[str]] = {}
    with _rehearsal():
        _rehearse(targets, now, as_of=as_of, dependencies=dependencies)
        for days in WINDOWS:
            later = as_of + timedelta(days=days)
            stage_targets, _ = _split_targets(later, rehearsal=True)
            within[days] = _new_report(stage_targets, [], as_of=later, dry_run=True)
            _rehearse(stage_targets, within[days], as_of=later, dependencies=dependencies)
    done = {line.key: line for line in now.lines}
    stages = {days: {x.key: x.count for x in report.lines} for days, report in within.items()}
    lines = []
    for target, _ in targets:
        run_line = done[target.key]
        cumulative, due_within = run_line.count, {}
        for days in WINDOWS:
            cumulative += stages[days].get(target.key, 0)
            due_within[days] = cumulative
        reasons = held[target.key]
        lines.append(
            ForecastLine(
                activity=target.activity.id,
                rule=target.rule.id,
                holder=target.holder.label,
                action=target.rule.action,
                keep=str(target.rule.keep),
                after=target.rule.after,
                cohort=target.rule.cohort,
                due_now=run_line.count,
                due_within=due_within,
                held=sum(reasons.values()),
                held_reasons=reasons,
                cascaded=dict(sorted(run_line.cascaded.items())),
            )
        )
    return Forecast(
        as_of=as_of,
        lines=lines,
        orphan_persons=now.persons_removed,
        refused=refused,
        persons_minimised=now.persons_minimised,
        stale_holds=now.stale_holds,
        passes=now.passes,
    )


def _new_report(
    targets: list[tuple[Target, QuerySet[Any]]],
    refused: list[Refusal],
    *,
    as_of: datetime,
    dry_run: bool,
) -> RunReport:
    lines = [RunLine(t.activity.id, t.rule.id, t.holder.label, t.rule.action) for t, _ in targets]
    return RunReport(as_of=as_of, dry_run=dry_run, lines=lines, refused=refused)


def _rehearse(
    targets: list[tuple[Target, QuerySet[Any]]],
    report: RunReport,
    *,
    as_of: datetime,
    size: int | None = None,
    progress: ProgressCallback | None = None,
    dependencies: dict[str, set[str]] | None = None,
) -> None:
    """Do the run's work into ``report``; the caller's :func:`_rehearsal` rolls it back."""
    size = size or settings.PERSONVERN_BATCH_SIZE
    lines = {line.key: line for line in report.lines}
    _delete_due(targets, lines, report, as_of=as_of, size=size, actor=ACTOR,
                progress=progress, audit=_not_audited, dependencies=dependencies)


# --------------------------------------------------------------------------- run


_TABLE_REFERENCE = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"(\s+(?:AS\s+)?"?[A-Z]\d+"?)?')


def reads_tables(due: QuerySet[Any]) -> set[str]:
    """Tables a due query's outcome depends on, besides its own rows.

    Read from the compiled SQL: every table in a ``FROM`` or ``JOIN``, except
    the main table's own unaliased ``FROM`` (a row's own columns change only
    when the row is deleted). The main table counts when a subquery reads it
    again (Django aliases subquery tables ``U0``, ``U1``…), as the customer
    relationship's end does. Missing a table here would only delay a row to the
    next run, never delete one early: protection does not depend on this.
    """
    sql, _ = due.query.sql_with_params()
    main = due.model._meta.db_table
    tables = set()
    for match in _TABLE_REFERENCE.finditer(sql):
        table, alias = match.group(1), match.group(2)
        if table == main and not alias and match.group(0).startswith("FROM"):
            continue
        tables.add(table)
    return tables


def _run_target(
    target: Target,
    due: QuerySet[Any],
    *,
    as_of: datetime,
    batch_size: int,
    actor: str,
    line: RunLine,
    progress: ProgressCallback | None,
    audit: AuditWriter,
) -> set[str]:
    """Delete or anonymise what is due for one target, batch by batch.

    Returns the tables it changed (its own, and those its deletes cascaded into).
    """
    label = target.holder.label
    total = due.count() if progress else None
    if progress:
        progress(target.key, 0, total)
    done = 0
    changed: set[str] = set()
    walk = BatchWalk(target.model, batch_size)
    while True:
        with transaction.atomic():
            batch_commit_mode()
            pks = walk.next_batch(due)
            if not pks:
                break
            batch = target.model._base_manager.filter(pk__in=pks)
            deleting = target.rule.action == "delete"
            log_rows = admin_log_rows(
                target.model,
                pk_condition(target.model, pks),
                # delete_rows' default: every CASCADE (refused targets never get here).
                (lambda model: True) if deleting else no_cascade,
            )
            admin_log = forget_admin_log(log_rows)
            if deleting:
                count, cascaded = deleted_counts(
                    delete_rows(target.model, pks), target.model._meta.label
                )
            else:
                count = batch.update(**target.holder.anonymise)
                cascaded = {}
            audit(
                actor=actor,
                action="retention.batch",
                activity=target.activity.id,
                data={
                    "rule": target.rule.id,
                    "holder": label,
                    "action": target.rule.action,
                    "count": count,
                    "cascaded": cascaded,
                    "admin_log_entries": admin_log,
                    "as_of": as_of.isoformat(),
                },
            )
        done += count
        line.count += count
        line.batches += 1
        for key, value in cascaded.items():
            line.cascaded[key] = line.cascaded.get(key, 0) + value
            changed.add(apps.get_model(key)._meta.db_table)
        if count:
            changed.add(target.model._meta.db_table)
        if progress:
            progress(target.key, done, total)
    return changed


def retention_run(
    *,
    as_of: datetime,
    dry_run: bool = False,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    actor: str = ACTOR,
) -> RunReport:
    """Delete or anonymise every row whose retention period has ended at ``as_of``.

    ``batch_size`` rows per transaction (default ``PERSONVERN_BATCH_SIZE``);
    ``progress(step, done, total)`` is called as batches commit. ``dry_run``
    rehearses the run in a transaction it rolls back (see the module's
    docstring): the report is the run's, and nothing changes.
    """
    _check_as_of(as_of)
    size = settings.PERSONVERN_BATCH_SIZE if batch_size is None else batch_size
    if size < 1:
        raise ValueError(f"batch_size must be at least 1, got {size}")
    targets, refused = _split_targets(as_of, rehearsal=dry_run)
    report = _new_report(targets, refused, as_of=as_of, dry_run=dry_run)
    if dry_run:
        with _rehearsal():
            _rehearse(targets, report, as_of=as_of, size=size, progress=progress)
        return report
    lines = {line.key: line for line in report.lines}
    with _sqlite_checkpoints_deferred():
        _delete_due(targets, lines, report, as_of=as_of, size=size, actor=actor,
                    progress=progress, audit=audit_log)
    return report


@contextmanager
def _sqlite_checkpoints_deferred() -> Iterator[None]:
    """On SQLite, let the WAL grow to ``SQLITE_RETENTION_WAL_PAGES`` during the run.

    Every batch rewrites index pages the previous batch wrote (a registration
    index's pages hold rows of every course and person), and SQLite's default
    checkpoint after each 1,000 WAL pages copied them into the database file,
    with two fsyncs, after nearly every batch: two thirds of a run on a large
    database. With a larger limit each page is copied once per checkpoint.
    The connection's setting is restored afterwards and a passive checkpoint
    leaves the database file current (ADR 0010).
    """
    pages = settings.PERSONVERN_SQLITE_RETENTION_WAL_PAGES
    if connection.vendor != "sqlite" or pages <= 0:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {before}")
            if not connection.in_atomic_block:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _delete_due(
    targets: list[tuple[Target, QuerySet[Any]]],
    lines: dict[str, RunLine],
    report: RunReport,
    *,
    as_of: datetime,
    size: int,
    actor: str,
    progress: ProgressCallback | None,
    audit: AuditWriter,
    dependencies: dict[str, set[str]] | None = None,
) -> None:
    """The run's work: the targets pass by pass, then the persons.

    ``dependencies`` (target key -> tables, see :func:`depends_on`) is filled
    in as found, so a caller rehearsing several dates finds them once.
    """
    # Each pass re-runs only the targets whose due query reads a table that
    # changed during or after their own run in the previous pass (see reads_tables).
    # A target on an empty table (an empty queryset) has nothing to run again.
    pending = [(target, due) for target, due in targets if not due.query.is_empty()]
    if dependencies is None:
        dependencies = {}
    for target, _ in pending:
        if target.key not in dependencies:
            dependencies[target.key] = depends_on(target, as_of)
    while pending and report.passes < MAX_PASSES:
        report.passes += 1
        changes: list[set[str]] = []
        for target, due in pending:
            changes.append(
                _run_target(
                    target,
                    due,
                    as_of=as_of,
                    batch_size=size,
                    actor=actor,
                    line=lines[target.key],
                    progress=progress,
                    audit=audit,
                )
            )
        pending = [
            (target, due)
            for i, (target, due) in enumerate(pending)
            if dependencies[target.key] & set().union(*changes[i:])
        ]
    sweep_persons(as_of=as_of, batch_size=size, actor=actor, report=report, progress=progress,
                   audit=audit)
    minimise_objecting_persons(
        as_of=as_of, batch_size=size, actor=actor, report=report, progress=progress, audit=audit
    )
    _forget_stale_row_holds(as_of=as_of, actor=actor, report=report, audit=audit)


def stale_row_holds(as_of: datetime) -> list[QuerySet[Hold]]:
    """Row holds no longer in force at ``as_of`` whose row no longer exists, per model.

    A hold's reason is free text staff wrote about that row (often naming the
    person); once the hold is lifted or expired and its row deleted, it keeps
    nothing and explains nothing, so the reason should not outlive the data.
    Holds in force are never touched, nor lifted holds whose row still exists
    (its history), nor person holds (they go with their person).
    """
    stale = Hold.objects.filter(scope=HoldScope.ROW).exclude(
        pk__in=protecting_holds(as_of).values("pk")
    )
    found: list[QuerySet[Hold]] = []
    for content_type_id in stale.values_list("content_type", flat=True).distinct().order_by():
        holds = stale.filter(content_type_id=content_type_id)
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is not None:
            holds = holds.filter(
                ~Exists(model._base_manager.filter(pk=OuterRef("object_id")))
            )
        found.append(holds)
    return found


def _forget_stale_row_holds(
    *, as_of: datetime, actor: str, report: RunReport, audit: AuditWriter
) -> None:
    """Delete :func:`stale_row_holds`, in one transaction, audited with the count."""
    with transaction.atomic():
        count = 0
        for holds in stale_row_holds(as_of):
            deleted, _ = holds.delete()
            count += deleted
        if count:
            audit(actor=actor, action="retention.stale_holds",
                      data={"count": count, "as_of": as_of.isoformat()})
    report.stale_holds = count


def holder_row_counts() -> dict[str, int]:
    """Rows per declared holder (for reports and the benchmark's consistency check)."""
    return {h.label: h.model._base_manager.count() for h in holders()}


__all__ = [
    "Forecast",
    "ForecastLine",
    "Refusal",
    "RunLine",
    "RunReport",
    "due_rows",
    "holder_row_counts",
    "objecting_persons_to_minimise",
    "orphan_persons",
    "retention_forecast",
    "retention_run",
]
