"""Restriction (Art. 18)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from personvern.core.models import Person


def restrict(
    person: Person, *, ground: str, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Place a restriction (Art. 18) through the core service; every processing path
    reads :func:`personvern.core.selectors.restricted_person_ids`."""
    from personvern.core.services import restriction_place

    restriction = restriction_place(person=person, ground=ground, actor=actor, now=now)
    return {"restriction": restriction.ground}
