"""Reads on persons and the privacy facts every processing path must honour."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, QuerySet
from django.utils import timezone

from personvern.core.models import (
    ConsentAction,
    ConsentEvent,
    EmailIdentity,
    Hold,
    Objection,
    Person,
    Restriction,
)


def person_by_email(email: str) -> Person | None:
    from personvern.core.services import normalise_email

    identity = (
        EmailIdentity.objects.select_related("person")
        .filter(address=normalise_email(email))
        .first()
    )
    return identity.person if identity else None


def active_restrictions(now: datetime | None = None) -> QuerySet[Restriction]:
    now = now or timezone.now()
    return Restriction.objects.filter(started_at__lte=now).filter(
        Q(lifted_at__isnull=True) | Q(lifted_at__gt=now)
    )


def restricted_person_ids(
    grounds: tuple[str, ...] | None = None, now: datetime | None = None
) -> QuerySet[Restriction, Any]:
    """Subquery-ready ids of persons under an active restriction (optionally some grounds)."""
    qs = active_restrictions(now)
    if grounds:
        qs = qs.filter(ground__in=grounds)
    return qs.values("person_id")


def is_restricted(person: Person, now: datetime | None = None) -> bool:
    return active_restrictions(now).filter(person=person).exists()


def active_objections(now: datetime | None = None) -> QuerySet[Objection]:
    now = now or timezone.now()
    return Objection.objects.filter(at__lte=now).filter(
        Q(lifted_at__isnull=True) | Q(lifted_at__gt=now)
    )


def objecting_person_ids(
    activity: str, now: datetime | None = None
) -> QuerySet[Objection, Any]:
    return active_objections(now).filter(activity=activity).values("person_id")


def has_consent(person: Person, scope: str, at: datetime | None = None) -> bool:
    """Whether the latest ledger event for ``scope`` (at ``at``) is a consent given."""
    at = at or timezone.now()
    latest = (
        ConsentEvent.objects.filter(person=person, scope=scope, at__lte=at)
        .order_by("-at", "-pk")
        .values_list("action", flat=True)
        .first()
    )
    return latest == ConsentAction.GIVEN


def consenting_persons(scope: str, at: datetime | None = None) -> QuerySet[Person]:
    """Persons whose latest ledger event for ``scope`` is a consent given (set-based)."""
    at = at or timezone.now()
    latest = ConsentEvent.objects.filter(
        person=OuterRef("pk"), scope=scope, at__lte=at
    ).order_by("-at", "-pk")
    return Person.objects.annotate(_latest_consent=latest.values("action")[:1]).filter(
        _latest_consent=ConsentAction.GIVEN
    )


def active_holds(now: datetime | None = None) -> QuerySet[Hold]:
    now = now or timezone.now()
    return Hold.objects.filter(lifted_at__isnull=True, created_at__lte=now).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def protecting_holds(as_of: datetime) -> QuerySet[Hold]:
    """Holds that keep data from deletion at ``as_of``: not lifted, not expired by then.

    Unlike :func:`active_holds` this does not ask when the hold was placed: a hold
    placed after the ``as_of`` instant exists now, while data is being deleted,
    and must protect (a run "as of" the start of today honours this morning's
    hold). Retention and erasure both use it.
    """
    return Hold.objects.filter(Q(lifted_at__isnull=True) | Q(lifted_at__gt=as_of)).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=as_of)
    )
