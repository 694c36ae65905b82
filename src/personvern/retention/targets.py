"""Which (activity, rule, holder) triples the retention engine works on, and their queries.

A *target* is one retention rule of one policy activity applied to one holder
(a model declared for that activity). Everything here builds querysets; nothing
touches rows. The engine (:mod:`personvern.retention.engine`) runs them.

Query shape (ADR 0005):

- due: ``anchor < cutoff`` where ``cutoff = rule.keep.subtract_from(today)``
  and ``today`` is the Europe/Oslo date of ``as_of``. Strictly before: under
  Reg. 1182/71 Art. 3 the day of the event is not counted and a period ends
  at the *end* of its last day, so "10 years after 10 June 2015" keeps the row
  through 10 June 2025 and it is due from 11 June. A datetime anchor is
  compared as ``anchor < start of the Oslo day cutoff``, so the column itself
  is compared and an index on it can be used. A NULL anchor (the
  relationship is still open) is never due.
- cohort: a rule with a cohort takes the rows in the holder's cohort filter; a
  rule without one takes the rows in none of the cohorts the activity's other
  rules name.
- protected: rows under an active hold (person, activity or row scope) or of a
  person under an Art. 18(1)(b) or (c) restriction are excluded, with
  ``NOT EXISTS`` subqueries (no per-row Python). A row hold reaches along
  ``Holder.parent``: a held application keeps its documents and notes, and a
  held document keeps its application (deleting it would cascade onto the
  document). A proxy holder shares its rows, and so its row holds, with its
  concrete model (:func:`same_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from personvern.core.models import HoldScope, Restriction, RestrictionGround
from personvern.core.registry import Holder, ancestors, holder_of, holders
from personvern.core.selectors import protecting_holds
from personvern.policy.models import Activity, Policy, RetentionRule
from personvern.retention.clock import oslo_midnight

#: Art. 18(1) grounds under which the person's data must be *kept*: (b) the
#: person opposed erasure and asked for restriction instead; (c) the person
#: needs the data for legal claims. Grounds (a) and (d) only pause use while
#: something is verified; they give no reason to outlive the retention period.
KEEPING_GROUNDS: tuple[str, ...] = (RestrictionGround.UNLAWFUL, RestrictionGround.LEGAL_CLAIMS)

ANCHOR = "_retention_anchor"


@dataclass(frozen=True)
class Target:
    """One retention rule of one activity, applied to one holder."""

    activity: Activity
    rule: RetentionRule
    holder: Holder

    @property
    def key(self) -> str:
        return f"{self.activity.id}/{self.rule.id}/{self.holder.label}"

    @property
    def model(self) -> type[models.Model]:
        return self.holder.model


def iter_targets(policy: Policy) -> Iterator[Target]:
    """Every target, in policy order (activities, then rules), holders by label."""
    declared = holders()
    for activity in policy.activities:
        for rule in activity.retention:
            for holder in declared:
                if holder.activity == activity.id:
                    yield Target(activity=activity, rule=rule, holder=holder)


def target_problems(target: Target) -> list[str]:
    """Why the engine must refuse this target (empty when it is sound).

    A refused target deletes nothing: a missing cohort filter, for instance,
    would otherwise let the catch-all rule delete the cohort's rows early.
    """
    holder, rule = target.holder, target.rule
    problems: list[str] = []
    if rule.after not in holder.anchors:
        problems.append(
            f"{holder.label} offers no anchor {rule.after!r}, which rule {rule.id!r} of "
            f"activity {target.activity.id!r} counts from"
        )
    for cohort in sorted(target.activity.cohorts):
        if cohort not in holder.cohorts:
            problems.append(
                f"{holder.label} has no filter for cohort {cohort!r}, which activity "
                f"{target.activity.id!r} gives a rule of its own"
            )
    if rule.action == "anonymise" and not holder.anonymise:
        problems.append(
            f"rule {rule.id!r} anonymises but {holder.label} declares no fields to overwrite"
        )
    if rule.action == "delete":  # an anonymising rule deletes nothing, so cascades nothing
        problems.extend(cascade_conflicts(holder.model, target.activity.id))
    return problems


def cascade_conflicts(
    model: type[models.Model], activity: str, _seen: frozenset[type[models.Model]] = frozenset()
) -> list[str]:
    """Relations through which deleting a row of ``model`` would reach another activity's rows.

    Django emulates ``on_delete=CASCADE``, so deleting a due row also deletes the
    rows that point at it. That is fine when they belong to the same activity
    (they are the same record's parts, e.g. a registration's hotel transfer) or
    hold no personal data; it is not when they are another activity's rows with a
    retention period of their own. ``PROTECT``/``RESTRICT`` would make the batch
    fail, so they are reported too.
    """
    problems: list[str] = []
    for rel in model._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one):
            continue
        related = rel.related_model
        assert isinstance(related, type)
        on_delete = getattr(rel, "on_delete", None)
        where = f"{related._meta.label}.{rel.field.name}"
        if on_delete in (models.PROTECT, models.RESTRICT):
            problems.append(
                f"deleting {model._meta.label} is blocked by {where} ({on_delete.__name__})"
            )
            continue
        if on_delete is not models.CASCADE or related in _seen:
            continue
        other = holder_of(related)
        if other is not None and other.activity != activity:
            problems.append(
                f"deleting {model._meta.label} cascades to {where}, rows of activity "
                f"{other.activity!r} with their own retention"
            )
            continue
        problems.extend(cascade_conflicts(related, activity, _seen | {model}))
    return problems


def anchor_expression(holder: Holder, anchor: str) -> Any:
    spec = holder.anchors[anchor]
    return F(spec) if isinstance(spec, str) else spec()


def scoped_rows(target: Target) -> tuple[QuerySet[Any], models.Field[Any, Any]]:
    """The rows the rule governs (its cohort), with the anchor aliased as ``ANCHOR``.

    Returns the queryset and the anchor's field (DateField or DateTimeField).
    Anonymised rows are left out, so an anonymising rule finishes.
    """
    holder, rule = target.holder, target.rule
    # _base_manager: a custom default manager must not hide rows from retention.
    qs = holder.model._base_manager.alias(**{ANCHOR: anchor_expression(holder, rule.after)})
    field = qs.query.annotations[ANCHOR].output_field
    if not isinstance(field, models.DateField):  # DateTimeField is a DateField
        raise TypeError(
            f"anchor {rule.after!r} of {holder.label} is a {type(field).__name__}; "
            "an anchor must be a date or a datetime"
        )
    if rule.cohort:
        qs = qs.filter(holder.cohorts[rule.cohort]())
    else:
        for cohort in sorted(target.activity.cohorts):
            qs = qs.filter(~holder.cohorts[cohort]())
    if rule.action == "anonymise":
        qs = qs.filter(~Q(**holder.anonymise))
    return qs, field


def due_q(field: models.Field[Any, Any], cutoff: date) -> Q:
    """Rows whose anchor falls strictly before ``cutoff`` (an Oslo calendar date).

    ``cutoff`` is ``today - keep``: an anchor *on* it ends its period at the end
    of today (Reg. 1182/71 Art. 3: the event's day is not counted, the period
    runs to the end of its last day), so the row is kept today and due tomorrow.
    """
    if isinstance(field, models.DateTimeField):
        return Q(**{f"{ANCHOR}__lt": oslo_midnight(cutoff)})
    return Q(**{f"{ANCHOR}__lt": cutoff})


def keeping_restrictions(as_of: datetime) -> QuerySet[Restriction]:
    """Restrictions on grounds (b)/(c) in force at ``as_of`` (placed at any time, not lifted)."""
    return Restriction.objects.filter(ground__in=KEEPING_GROUNDS).filter(
        Q(lifted_at__isnull=True) | Q(lifted_at__gt=as_of)
    )


def _content_type(model: type[models.Model]) -> ContentType:
    return ContentType.objects.get_for_model(model, for_concrete_model=False)


@dataclass(frozen=True)
class Protection:
    """The subqueries that protect a target's rows (each correlated to the outer row).

    Rows not linked to a person (``Holder.person is None``: a visitor's cookie id)
    can only be held by row or activity holds.
    """

    holds: list[Exists]
    reason: Any  # Subquery of the first protecting hold's reason
    ground: Any  # Subquery of the first keeping restriction's ground, or NULL

    def q(self) -> Q:
        """The row is protected: any of the checks holds."""
        combined = Q()
        for exists in self.holds:
            combined |= Q(exists)
        return combined

    def unprotected_q(self) -> Q:
        """The row is not protected: ``NOT EXISTS … AND NOT EXISTS …``.

        The same as ``~q()``, written so PostgreSQL can turn each check into
        an anti-join (it only does that for ``NOT EXISTS`` joined by ``AND``
        at the top of the condition, not under a negated ``OR``); otherwise
        every check runs as a subplan per row of the walk.
        """
        combined = Q()
        for exists in self.holds:
            combined &= ~Q(exists)
        return combined


def same_rows(model: type[models.Model]) -> list[type[models.Model]]:
    """``model`` and the other declared models whose rows are the same rows.

    A proxy holder (a registration's hotel stay) has the rows of its concrete
    model: a row hold placed on either is a hold on the row.
    """
    concrete = model._meta.concrete_model
    found = {model, concrete} | {
        h.model for h in holders() if h.model._meta.concrete_model is concrete
    }
    return sorted((m for m in found if m is not None), key=lambda m: m._meta.label)


def _row_hold_q(model: type[models.Model], object_id: Any) -> Q:
    return Q(scope=HoldScope.ROW, content_type=_content_type(model), object_id=object_id)


def family_hold_qs(holder: Holder) -> list[Q]:
    """Row holds (as ``Q`` on ``Hold``, correlated to the outer row) that reach this row.

    The row's own hold; a hold on any row it belongs to (its ``parent`` chain:
    a legal hold on an application keeps the CV and the interview notes); and
    a hold on any row that belongs to it (deleting the row would cascade onto
    the held one).
    """
    return [q for _, q in _family_hold_checks(holder)]


def _family_hold_checks(holder: Holder) -> list[tuple[type[models.Model], Q]]:
    """:func:`family_hold_qs`, each with the model whose row holds it looks for."""
    checks = [(model, _row_hold_q(model, OuterRef("pk"))) for model in same_rows(holder.model)]
    checks += [
        (model, _row_hold_q(model, OuterRef(f"{path}__id"))) for path, model in ancestors(holder)
    ]
    for other in holders():
        for path, model in ancestors(other):
            if model is holder.model:
                # Nested: the descendant's rows are a subquery of the hold query,
                # which is itself a subquery of the outer (target) row.
                rows = other.model._base_manager.filter(
                    **{f"{path}__id": OuterRef(OuterRef("pk"))}
                ).values("pk")
                checks.append((other.model, Q(
                    scope=HoldScope.ROW,
                    content_type=_content_type(other.model),
                    object_id__in=rows,
                )))
    return checks


@dataclass(frozen=True)
class HoldsInForce:
    """Which kinds of protection exist at one instant: for leaving out the checks
    that could only ever look at an empty set (see :func:`protection`)."""

    row_types: frozenset[int]  # content type ids of rows under a hold in force
    activities: frozenset[str]  # activities under an activity hold in force
    persons: bool  # any person hold in force
    restrictions: bool  # any keeping restriction in force

    @classmethod
    def at(cls, as_of: datetime) -> HoldsInForce:
        """Read from the database (two small queries)."""
        row_types: set[int] = set()
        activities: set[str] = set()
        persons = False
        kinds = protecting_holds(as_of).values_list("scope", "content_type_id", "activity")
        for scope, content_type_id, activity in kinds.distinct().order_by():
            if scope == HoldScope.ROW and content_type_id is not None:
                row_types.add(content_type_id)
            elif scope == HoldScope.ACTIVITY:
                activities.add(activity)
            elif scope == HoldScope.PERSON:
                persons = True
        return cls(frozenset(row_types), frozenset(activities), persons,
                   keeping_restrictions(as_of).exists())

    @property
    def anything(self) -> bool:
        return bool(self.row_types or self.activities or self.persons or self.restrictions)


def protection(
    target: Target, as_of: datetime, *, in_force: HoldsInForce | None = None
) -> Protection:
    """Build the hold and restriction subqueries for ``target`` at ``as_of``.

    With ``in_force`` (what protects at ``as_of``, read once by the caller),
    the checks (``q()``, ``unprotected_q()``) leave out each kind of hold or
    restriction of which none is in force: a row hold on a content type no
    hold names, an activity hold on another activity, person holds or keeping
    restrictions when there are none. Each would be ``EXISTS`` over an empty
    set. Only for a rehearsal (the forecast, the dry run), which creates no
    holds and runs in one transaction: a real run checks every kind in each
    batch's statement, so a hold committed during the run still protects.
    ``reason`` and ``ground`` always look at every kind.
    """
    holder = target.holder
    holds = protecting_holds(as_of)
    activity_q = Q(scope=HoldScope.ACTIVITY, activity=target.activity.id)
    row_checks = _family_hold_checks(holder)
    checks = [
        Exists(holds.filter(q)) for model, q in row_checks
        if in_force is None or _content_type(model).pk in in_force.row_types
    ]
    if in_force is None or target.activity.id in in_force.activities:
        checks.append(Exists(holds.filter(activity_q)))
    any_q = activity_q
    for _, q in row_checks:
        any_q |= q
    ground: Any = models.Value(None, output_field=models.CharField())
    if holder.person is not None:
        person = OuterRef(holder.person_id_path())
        person_q = Q(scope=HoldScope.PERSON, person_id=person)
        restrictions = keeping_restrictions(as_of).filter(person_id=person)
        if in_force is None or in_force.persons:
            checks.append(Exists(holds.filter(person_q)))
        if in_force is None or in_force.restrictions:
            checks.append(Exists(restrictions))
        any_q |= person_q
        ground = models.Subquery(
            restrictions.order_by("ground", "pk").values("ground")[:1],
            output_field=models.CharField(),
        )
    first_hold = holds.filter(any_q).order_by("created_at", "pk").values("reason")[:1]
    return Protection(
        holds=checks,
        reason=models.Subquery(first_hold, output_field=models.TextField()),
        ground=ground,
    )
