"""Marking model fields as personal data.

The registry's system check refuses any model with a field marked personal (or
a relation to Person) that no holder declares, so marking is how a developer
says "this column is about a person".
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models

F = TypeVar("F", bound=models.Field)


def personal(field: F) -> F:
    """Mark ``field`` as holding personal data; returns it for inline use."""
    field.personal = True  # type: ignore[attr-defined]
    return field


def is_personal(field: object) -> bool:
    return bool(getattr(field, "personal", False))
