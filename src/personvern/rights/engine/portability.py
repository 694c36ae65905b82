"""Portability (Art. 20): the data the person provided, on consent or contract."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from personvern.core.models import Person
from personvern.core.policy import current_policy
from personvern.core.registry import person_holders
from personvern.rights.engine.files import exports_dir, write_private
from personvern.rights.engine.rows import IDENTITY, holder_rows, holder_section

if TYPE_CHECKING:
    from personvern.rights.models import Request


def portability_export(person: Person, *, now: datetime | None = None) -> dict[str, Any]:
    """The data processed on consent or contract, as JSON-ready data (Art. 20).

    A holder's rows are included when the holder is declared portable and its
    activity rests on Art. 6(1)(a) or (b); identity records count as provided
    by the person when their holder is portable.
    """
    now = now or timezone.now()
    policy = current_policy()
    data: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for holder in person_holders():
        if not holder.portable:
            continue
        if holder.activity is not None:
            try:
                if not policy.activity(holder.activity).portable:
                    continue
            except KeyError:
                continue
        rows = holder_rows(holder, person.pk)
        if rows:
            data.setdefault(holder.activity or IDENTITY, {})[holder.label] = holder_section(
                holder, rows
            ).rows
    return {
        "format": "personvern-portability/1",
        "person": str(person.public_id),
        "generated_at": now.isoformat(),
        "controller": policy.controller.name,
        "data": data,
    }


def portability_write(person: Person, *, request: Request, now: datetime | None = None) -> Path:
    """Write the portability export to ``DATA_DIR/exports/<person>/portability-<request>.json``."""
    content = json.dumps(portability_export(person, now=now), ensure_ascii=False, indent=2)
    return write_private(
        exports_dir(person) / f"portability-{request.public_id}.json", content.encode()
    )
