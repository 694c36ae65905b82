"""The registry of holders: which models hold personal data, and how.

Each domain app declares its models in ``privacy.py`` (discovered at start-up,
like ``admin.py``) by calling :func:`register` with a :class:`Holder`. The
engines (retention, rights, audit of exports) are generic over these
declarations; the system checks in :mod:`personvern.core.checks` refuse models
that hold personal data without a declaration, so nothing personal is stored
that no policy activity covers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from django.db import models
from django.db.models import Q
from django.utils.functional import Promise

Label = str | Promise
AnchorSpec = str | Callable[[], models.Expression | models.Subquery | models.F]
CohortSpec = Callable[[], Q]


@dataclass(frozen=True)
class Holder:
    """A model that holds personal data, declared for a policy activity.

    ``activity``: the policy activity id; ``None`` marks the person's identity
        records (core), which live exactly as long as the person does.
    ``person``: lookup path from the model to ``Person`` (``"person"``,
        ``"registration__person"``; ``"pk"`` for Person itself), or ``None`` for
        rows about people we cannot identify (a visitor's pseudonymous cookie id):
        retention applies to them, access and erasure cannot (Art. 11).
    ``anchors``: anchor name -> lookup path to a date/datetime field, or a callable
        returning an expression annotated on the model's queryset.
    ``cohorts``: cohort name -> callable returning a ``Q`` on the model.
    ``fields``: (field name, label) pairs shown in an access report.
    ``portable``: whether the rows go into a portability export.
    ``erase``: how a row is erased: ``"delete"`` or ``"anonymise"`` (then the
        fields in ``anonymise`` are overwritten with the given values).
    ``erasure_exceptions``: reason -> callable returning a ``Q`` of the rows the
        law requires to keep on an erasure request (bookkeeping, documentation
        of mandatory continuing education). The reason is shown to the person.
    ``erasure_clears``: fields overwritten (field -> value) on rows kept under an
        erasure exception: what the legal reason does not cover goes anyway.
    ``parent``: lookup path to the row this one belongs to (a CV to its
        application). A hold on the parent row protects this row too, in
        retention and in erasure, so a legal hold keeps the whole record.
    """

    model: type[models.Model]
    activity: str | None
    person: str | None
    anchors: Mapping[str, AnchorSpec] = field(default_factory=dict)
    cohorts: Mapping[str, CohortSpec] = field(default_factory=dict)
    fields: Sequence[tuple[str, Label]] = ()
    portable: bool = False
    erase: Literal["delete", "anonymise"] = "delete"
    anonymise: Mapping[str, Any] = field(default_factory=dict)
    erasure_exceptions: Mapping[str, tuple[Label, CohortSpec]] = field(default_factory=dict)
    erasure_clears: Mapping[str, Any] = field(default_factory=dict)
    parent: str | None = None

    @property
    def parent_model(self) -> type[models.Model] | None:
        """The model ``parent`` leads to (None without a parent)."""
        if self.parent is None:
            return None
        model: type[models.Model] = self.model
        for part in self.parent.split("__"):
            related = model._meta.get_field(part).related_model
            assert isinstance(related, type)
            model = related
        return model

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def verbose_name(self) -> Label:
        return self.model._meta.verbose_name_plural or self.model._meta.label

    def person_id_path(self) -> str:
        """Lookup that yields the person's primary key (``person_id``-style)."""
        # Django trims the join for ``<fk>__id``, so this reads the FK column itself.
        if self.person is None:
            raise ValueError(f"{self.label} rows are not linked to a person.")
        return "pk" if self.person == "pk" else f"{self.person}__id"

    def for_person(self, person_id: int) -> models.QuerySet[Any]:
        """The rows of one person: one indexed query."""
        return self.model._default_manager.filter(**{self.person_id_path(): person_id})


_REGISTRY: dict[type[models.Model], Holder] = {}


def register(holder: Holder) -> Holder:
    """Declare a holder. A model may be declared once."""
    if holder.model in _REGISTRY:
        raise ValueError(f"{holder.label} is already declared as a holder.")
    _REGISTRY[holder.model] = holder
    _SORTED.clear()
    return holder


#: The holders in order, all and those with a person: sorted once per registration
#: (every access report walks them).
_SORTED: dict[str, list[Holder]] = {}


def holders() -> list[Holder]:
    """Every declared holder, in a stable order."""
    if "all" not in _SORTED:
        _SORTED["all"] = sorted(_REGISTRY.values(), key=lambda h: h.label)
    return list(_SORTED["all"])


def person_holders() -> list[Holder]:
    """Holders whose rows can be traced to a person (for access, erasure, the sweep)."""
    if "person" not in _SORTED:
        _SORTED["person"] = [h for h in holders() if h.person is not None]
    return list(_SORTED["person"])


def holders_for(activity: str) -> list[Holder]:
    return [h for h in holders() if h.activity == activity]


def holder_of(model: type[models.Model]) -> Holder | None:
    return _REGISTRY.get(model)


def ancestors(holder: Holder) -> list[tuple[str, type[models.Model]]]:
    """(lookup path from the holder's rows, model) of each row its rows belong to.

    Follows ``Holder.parent`` up: a CV's application, a hotel entry's
    registration, and the parent's own parent if that holder declares one.
    """
    found: list[tuple[str, type[models.Model]]] = []
    current: Holder | None = holder
    path = ""
    seen: set[type[models.Model]] = set()
    while current is not None and current.parent is not None and current.model not in seen:
        seen.add(current.model)
        model = current.parent_model
        assert model is not None
        path = f"{path}__{current.parent}" if path else current.parent
        found.append((path, model))
        current = holder_of(model)
    return found


def unregister(model: type[models.Model]) -> None:
    """Remove a declaration (tests of the system check use it)."""
    _REGISTRY.pop(model, None)
    _SORTED.clear()


@dataclass(frozen=True)
class PersonBasis:
    """The legal basis one activity's processing of one person really rests on.

    An activity declares one basis in the policy (R2), but some rest, person by
    person, on one of two grounds the statement names (R17: the newsletter goes
    to members of Advokatforeningen on their active membership, to everyone else
    on consent). ``basis`` is the Art. 6(1) letter, ``note`` says what in words
    (in the active language), ``evidence`` points to the record that proves it
    (a consent-ledger entry, a membership), for the machine-readable report.
    """

    basis: str
    note: str
    evidence: Mapping[str, Any] = field(default_factory=dict)


BasisResolver = Callable[[int, datetime], PersonBasis | None]
_BASES: dict[str, BasisResolver] = {}


def register_basis(activity: str, resolver: BasisResolver) -> BasisResolver:
    """Declare how ``activity``'s basis for one person is found (``resolver(person_id,
    now)``, ``None`` when the activity's declared basis applies as it is)."""
    _BASES[activity] = resolver
    return resolver


def person_basis(activity: str, person_id: int, now: datetime) -> PersonBasis | None:
    """The basis ``activity`` processes this person on, where an app declared one."""
    resolver = _BASES.get(activity)
    return resolver(person_id, now) if resolver is not None else None
