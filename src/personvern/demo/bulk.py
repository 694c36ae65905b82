"""What every app's demo generator shares: batch size, progress callback, bulk insert."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import models

#: Rows per ``bulk_create`` (and per progress step).
BATCH = 5000

#: Called with the number of rows just written.
Progress = Callable[[int], None]


def bulk_insert(model: type[models.Model], rows: Sequence[Any], progress: Progress | None) -> None:
    """Insert ``rows`` (unsaved instances) in batches of :data:`BATCH`, reporting each."""
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        model._default_manager.bulk_create(chunk)
        if progress:
            progress(len(chunk))
