"""Rectification (Art. 16): correct named fields of the person or of their rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import (
    EmailIdentity,
    Person,
)
from personvern.core.registry import Holder, person_holders
from personvern.rights.engine.rows import json_value

NOT_A_HOLDER = _("'%(label)s' is not a holder of personal data.")
ROW_NEEDED = _("'%(key)s': name the row as %(label)s:<id>.")
NO_SUCH_ROW = _("'%(key)s': no such row of this person.")
NOT_CORRECTABLE = _("'%(key)s': field '%(field)s' cannot be corrected here.")
ADDRESS_TAKEN = _("'%(key)s': the address belongs to someone else.")


def _holder_by_label(label: str) -> Holder:
    for holder in person_holders():
        if holder.label.lower() == label.lower():
            return holder
    raise ValidationError(
        {"changes": ValidationError(NOT_A_HOLDER, params={"label": label})}
    )


def rectify(
    person: Person,
    changes: dict[str, dict[str, Any]],
    *,
    actor: str,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Correct named fields of the person or of one of their rows (Art. 16).

    ``changes`` maps ``"core.Person"`` or ``"<app>.<Model>:<pk>"`` to
    ``{field: new value}``; only fields the holder shows in the access report may
    change. Old and new values go in the audit entry's ``personal`` part under
    the person's pseudonym. Returns what changed (labels and field names only).
    Raises ValidationError naming the key and field; nothing is written then.
    """
    now = now or timezone.now()
    done: list[dict[str, Any]] = []
    with transaction.atomic():
        for key, values in changes.items():
            label, _sep, pk = key.partition(":")
            holder = _holder_by_label(label)
            rows = holder.for_person(person.pk)
            if holder.model is Person:
                row = rows.get()
            else:
                if not pk:
                    raise ValidationError(
                        {
                            "changes": ValidationError(
                                ROW_NEEDED, params={"key": key, "label": label}
                            )
                        }
                    )
                row = rows.filter(pk=pk).first()
                if row is None:
                    raise ValidationError(
                        {"changes": ValidationError(NO_SUCH_ROW, params={"key": key})}
                    )
            allowed = {name for name, _l in holder.fields}
            old: dict[str, Any] = {}
            new: dict[str, Any] = {}
            typed: dict[str, Any] = {}
            for name, value in values.items():
                if name not in allowed:
                    raise ValidationError(
                        {
                            "changes": ValidationError(
                                NOT_CORRECTABLE, params={"key": key, "field": name}
                            )
                        }
                    )
                model_field = holder.model._meta.get_field(name)
                if (
                    not isinstance(model_field, models.Field)
                    or not model_field.editable
                    or model_field.primary_key
                    or model_field.is_relation
                ):
                    raise ValidationError(
                        {
                            "changes": ValidationError(
                                NOT_CORRECTABLE, params={"key": key, "field": name}
                            )
                        }
                    )
                if holder.model is EmailIdentity and name == "address":
                    from personvern.core.services import normalise_email

                    value = normalise_email(str(value))
                    if EmailIdentity.objects.filter(address=value).exclude(pk=row.pk).exists():
                        raise ValidationError(
                            {"changes": ValidationError(ADDRESS_TAKEN, params={"key": key})}
                        )
                try:
                    cleaned = model_field.clean(value, row)
                except ValidationError as exc:
                    raise ValidationError(
                        {"changes": f"{key!r}: {name}: {'; '.join(exc.messages)}"}
                    ) from exc
                old[name] = json_value(getattr(row, name))
                new[name] = json_value(cleaned)
                typed[name] = cleaned
            holder.model._default_manager.filter(pk=row.pk).update(**typed)
            audit_log(
                actor=actor,
                action="rights.rectified",
                person=person,
                activity=holder.activity or "",
                data={"holder": holder.label, "row": row.pk, "fields": sorted(new)},
                personal={"old": old, "new": new},
                now=now,
            )
            done.append({"holder": holder.label, "row": row.pk, "fields": sorted(new)})
    return done
