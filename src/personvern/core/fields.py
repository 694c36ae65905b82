"""Marking model fields as personal data, or as explicitly not personal.

The registry's system check refuses any model with a field marked personal (or
a relation to Person) that no holder declares, so marking is how a developer
says "this column is about a person". A field that looks personal (an
``EmailField``, an IP address, a name, phone, address, birth date or national
identity number by its name) counts as personal unless it is marked
:func:`not_personal` with the reason: a venue's address, a hotel's booking
address and an organisation's name are about no one.
"""

from __future__ import annotations

import re
from typing import TypeVar

from django.db import models

F = TypeVar("F", bound=models.Field)

#: Parts of a field name (split at ``_``) that say the column is about a person.
PERSONAL_NAME_PARTS = frozenset(
    {
        "name", "fullname", "firstname", "givenname", "lastname", "familyname", "surname",
        "middlename", "nickname", "username",
        "email", "phone", "mobile", "telephone", "tel", "fax",
        "address", "street", "postcode", "zipcode",
        "birth", "birthday", "birthdate", "dob",
        "ssn", "fodselsnummer", "fnr", "personnummer", "nin",
        "ip",
    }
)  # fmt: skip

#: Field classes whose values are personal by their nature.
PERSONAL_FIELD_TYPES: tuple[type[models.Field], ...] = (
    models.EmailField,
    models.GenericIPAddressField,
)


def personal(field: F) -> F:
    """Mark ``field`` as holding personal data; returns it for inline use."""
    if getattr(field, "not_personal", None):
        raise ValueError("A field cannot be marked both personal and not personal.")
    field.personal = True  # type: ignore[attr-defined]
    return field


def not_personal(field: F, why: str) -> F:
    """Mark ``field`` as holding no personal data although it looks so; ``why`` says why.

    Use it only for columns about no one (a venue's address, an organisation's
    name). The reason is kept on the field for the reader of the model.
    """
    if is_personal(field):
        raise ValueError("A field cannot be marked both personal and not personal.")
    if not why.strip():
        raise ValueError("Say why the field holds no personal data.")
    field.not_personal = why  # type: ignore[attr-defined]
    return field


def is_personal(field: object) -> bool:
    """Whether ``field`` is marked personal."""
    return bool(getattr(field, "personal", False))


def is_marked_not_personal(field: object) -> bool:
    """Whether ``field`` is explicitly marked as holding no personal data."""
    return bool(getattr(field, "not_personal", None))


def _name_parts(name: str) -> set[str]:
    parts = [part for part in re.split(r"_+", name.lower()) if part]
    # "full_name" is also "fullname", "given_name" also "givenname", "e_mail" also "email".
    joined = {a + b for a, b in zip(parts, parts[1:], strict=False)}
    return set(parts) | joined


def looks_personal(field: object) -> bool:
    """Whether ``field`` is personal by its type or name and not marked otherwise.

    Relations are left out (a relation to Person is checked on its own), and so
    are automatic keys and flags (``email_verified`` is a yes/no).
    """
    if not isinstance(field, models.Field) or is_marked_not_personal(field):
        return False
    if field.is_relation or isinstance(field, models.AutoField | models.BooleanField):
        return False
    if isinstance(field, PERSONAL_FIELD_TYPES):
        return True
    parts = _name_parts(field.name)
    return bool(parts & PERSONAL_NAME_PARTS) or "fodselsnummer" in field.name.lower()
