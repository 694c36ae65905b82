"""The person sweep: persons no activity's row references any more.

After the holders' targets, persons that no activity's row references (identity
records such as e-mails and memberships do not keep a person) are removed in
batches, unless a hold or a keeping restriction protects them; their audit
entries' personal payloads are cleared. A person with an active objection to
direct marketing is not removed (the objection must outlive a re-import, R37)
but reduced to the person row without name or phone, their e-mail identities
and their objections. Each batch selects its persons again inside its own
transaction, so a hold or a record committed meanwhile keeps the person.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from personvern.core.audit import pseudonym
from personvern.core.models import EmailIdentity, Hold, HoldScope, Objection, Person, Restriction
from personvern.core.registry import holders
from personvern.core.selectors import protecting_holds
from personvern.retention.batches import CandidateWalk
from personvern.retention.deletion import column_in, delete_rows, in_clause
from personvern.retention.reports import AuditWriter, ProgressCallback, RunReport
from personvern.retention.targets import keeping_restrictions
from personvern.retention.traces import (
    admin_log_rows,
    batch_commit_mode,
    clear_audit_payloads,
    deleted_counts,
    forget_admin_log,
    is_identity_record,
    no_cascade,
    pk_condition,
    swept_with_person,
)

#: A person younger than this is never swept as an orphan: the transaction that
#: creates a person and the one that creates their first registration may be two.
PERSON_GRACE = timedelta(days=1)


def direct_marketing_objections(as_of: datetime) -> QuerySet[Objection]:
    """Objections to direct marketing not lifted by ``as_of`` (placed at any time).

    As with holds, one recorded after the ``as_of`` instant exists while the run
    works and counts.
    """
    return Objection.objects.filter(activity=Objection.DIRECT_MARKETING).filter(
        Q(lifted_at__isnull=True) | Q(lifted_at__gt=as_of)
    )


def orphan_persons(as_of: datetime) -> QuerySet[Person]:
    """Persons no activity's row references, not protected, older than the grace period.

    A person with an active objection to direct marketing is no orphan: see
    :func:`objecting_persons_to_minimise`.
    """
    objection = direct_marketing_objections(as_of).filter(person_id=OuterRef("pk"))
    return _unreferenced_persons(as_of).filter(~Exists(objection))


#: Identity records an objecting person keeps when nothing else is left: the
#: e-mail identity matches a re-imported or re-subscribing address to the person,
#: and the objection stops the mailing (R37: absolute, Art. 21(3)).
KEPT_FOR_OBJECTION: tuple[type[models.Model], ...] = (Person, EmailIdentity, Objection)

#: Fields of the kept person row cleared: nothing needs the name or phone.
PERSON_CLEARED: dict[str, str] = {"given_name": "", "family_name": "", "phone": ""}


def _minimised_records() -> list[type[models.Model]]:
    """Identity-record models deleted for an objecting person kept only for the objection."""
    return [
        h.model
        for h in holders()
        if h.activity is None and h.person == "person" and h.model not in KEPT_FOR_OBJECTION
    ]


def objecting_persons_to_minimise(as_of: datetime) -> QuerySet[Person]:
    """Persons kept only by an active direct-marketing objection who still hold more than that.

    They would be orphans but for the objection; more than the minimum is a name
    or phone on the person row, or any identity record other than e-mail
    identities and objections (memberships, consent events, lifted holds…).
    """
    # ``pk IN (objecting persons)`` first: few persons object, so the database
    # can start from the objections rather than from every person.
    qs = _unreferenced_persons(as_of).filter(
        pk__in=direct_marketing_objections(as_of).values("person_id")
    )
    more = ~Q(**PERSON_CLEARED)
    for model in _minimised_records():
        more |= Q(Exists(model._base_manager.filter(person_id=OuterRef("pk"))))
    return qs.filter(more)


def _unreferenced_persons(as_of: datetime) -> QuerySet[Person]:
    horizon = min(as_of, timezone.now()) - PERSON_GRACE
    qs = Person.objects.filter(created_at__lt=horizon)
    for holder in holders():
        if holder.activity is None or holder.person is None:
            continue  # identity records do not keep a person; unlinked rows cannot
        rows = holder.model._base_manager.filter(**{holder.person_id_path(): OuterRef("pk")})
        qs = qs.filter(~Exists(rows))
    person_holds = protecting_holds(as_of).filter(scope=HoldScope.PERSON, person_id=OuterRef("pk"))
    restrictions = keeping_restrictions(as_of).filter(person_id=OuterRef("pk"))
    return qs.filter(~Exists(person_holds), ~Exists(restrictions))


def sweep_persons(
    *,
    as_of: datetime,
    batch_size: int,
    actor: str,
    report: RunReport,
    progress: ProgressCallback | None,
    audit: AuditWriter,
) -> None:
    """Remove the persons no activity's row references any more, in batches.

    The candidates are found once (:class:`CandidateWalk`); each batch takes
    the next ``batch_size`` of them and selects again, inside its own
    transaction, those that are still orphans and unprotected, so a hold, a
    restriction or a new record committed meanwhile keeps the person.
    """
    step = "persons"
    conflicts = 0
    with CandidateWalk(orphan_persons(as_of), batch_size) as walk:
        if progress:
            progress(step, 0, walk.total)
        while True:
            try:
                with transaction.atomic():
                    batch_commit_mode()
                    rows = walk.next_batch(("pk", "public_id"))
                    if rows is None:
                        break
                    if not rows:
                        continue
                    count = _delete_persons(rows, as_of=as_of, actor=actor, audit=audit)
            except IntegrityError:
                # A person got a record of an activity between select and commit (the
                # foreign key refused the delete); select the batch again without them.
                conflicts += 1
                if conflicts > 3:
                    raise
                walk.again()
                continue
            report.persons_removed += count
            report.person_batches += 1
            if progress:
                progress(step, walk.taken, walk.total)


def _delete_persons(
    rows: list[tuple[Any, Any]], *, as_of: datetime, actor: str, audit: AuditWriter
) -> int:
    """Delete these (pk, public_id) persons with their identity records; audited. Returns count."""
    pks = [pk for pk, _ in rows]
    admin_log = forget_admin_log(
        admin_log_rows(Person, pk_condition(Person, pks), is_identity_record)
    )
    # Holds and restrictions that no longer protect go with the person. One that
    # protects was committed after this batch's check: it is not cascaded, so its
    # foreign key aborts the batch (as a new record of an activity does), and the
    # batch is selected again without that person.
    gone: dict[str, int] = {}
    for stale in (
        Hold.objects.filter(column_in(Hold, "person", pks)).exclude(
            pk__in=protecting_holds(as_of).values("pk")
        ),
        Restriction.objects.filter(column_in(Restriction, "person", pks)).exclude(
            pk__in=keeping_restrictions(as_of).values("pk")
        ),
    ):
        deleted, _ = stale.delete()
        if deleted:
            gone[stale.model._meta.label] = deleted
    per_model = delete_rows(Person, pks, cascade_into=swept_with_person)
    count, cascaded = deleted_counts(per_model, Person._meta.label)
    cascaded = dict(sorted({**cascaded, **gone}.items()))
    # The audit chain keeps pseudonyms only; personal payloads of erased
    # persons are cleared (the chain covers their digest, so it still verifies).
    subjects = [pseudonym(str(public_id)) for _, public_id in rows]
    cleared = clear_audit_payloads(subjects)
    audit(
        actor=actor,
        action="retention.persons",
        data={
            "count": count,
            "cascaded": cascaded,
            "audit_payloads_cleared": cleared,
            "admin_log_entries": admin_log,
            "as_of": as_of.isoformat(),
        },
    )
    return count


def minimise_objecting_persons(
    *,
    as_of: datetime,
    batch_size: int,
    actor: str,
    report: RunReport,
    progress: ProgressCallback | None,
    audit: AuditWriter,
) -> None:
    """Reduce persons kept only by a direct-marketing objection to what the objection needs."""
    step = "objecting persons"
    # Keys from the objections (few), each batch checked against the full condition.
    objecting = Person.objects.filter(
        pk__in=direct_marketing_objections(as_of).values("person_id")
    )
    candidates = objecting_persons_to_minimise(as_of)
    with CandidateWalk(candidates, batch_size, keys=objecting) as walk:
        if progress:
            progress(step, 0, walk.total)
        while True:
            with transaction.atomic():
                batch_commit_mode()
                rows = walk.next_batch(("pk", "public_id"))
                if rows is None:
                    break
                if rows:
                    report.persons_minimised += _minimise_persons(
                        rows, as_of=as_of, actor=actor, audit=audit
                    )
            if progress:
                progress(step, walk.taken, walk.total)


def _minimise_persons(
    rows: list[tuple[Any, Any]], *, as_of: datetime, actor: str, audit: AuditWriter
) -> int:
    """Clear these (pk, public_id) persons down to what their objection needs. Returns count."""
    qn = connection.ops.quote_name
    pks = [pk for pk, _ in rows]
    # The person's log rows carry the name being cleared; the others' rows go.
    person_condition = pk_condition(Person, pks)
    log_rows = admin_log_rows(Person, person_condition, no_cascade)
    for model in _minimised_records():
        fk = model._meta.get_field("person")
        assert isinstance(fk, models.ForeignKey)
        where = in_clause(qn(str(fk.column)), pks)
        log_rows += admin_log_rows(model, where, no_cascade)
    admin_log = forget_admin_log(log_rows)
    count = Person.objects.filter(pk__in=pks).update(**PERSON_CLEARED)
    deleted: dict[str, int] = {}
    with connection.cursor() as cursor:
        for model in _minimised_records():
            fk = model._meta.get_field("person")
            assert isinstance(fk, models.ForeignKey)
            column = qn(str(fk.column))
            condition, params = in_clause(column, pks)
            cursor.execute(
                f"DELETE FROM {qn(model._meta.db_table)} WHERE {condition}",  # noqa: S608
                params,
            )
            if cursor.rowcount:
                deleted[model._meta.label] = int(cursor.rowcount)
    cleared = clear_audit_payloads([pseudonym(str(public_id)) for _, public_id in rows])
    audit(
        actor=actor,
        action="retention.persons_minimised",
        data={
            "count": count,
            "deleted": dict(sorted(deleted.items())),
            "audit_payloads_cleared": cleared,
            "admin_log_entries": admin_log,
            "as_of": as_of.isoformat(),
        },
    )
    return count
