"""Objection (Art. 21)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from personvern.core.models import (
    Objection,
    Person,
)

ACTIVITY_NEEDED = _("Name the activity objected to, or direct-marketing.")


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
