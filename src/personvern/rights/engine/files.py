"""Generated files about a person (access bundles, portability exports).

They live under ``DATA_DIR/exports/<person>/`` and are deleted on erasure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from personvern.core.models import Person

if TYPE_CHECKING:
    from personvern.rights.models import Request


def exports_dir(person: Person) -> Path:
    """Where generated files about ``person`` are kept (deleted on erasure)."""
    return Path(settings.DATA_DIR) / "exports" / str(person.public_id)


def write_private(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(tmp, path)
    return path


def export_path(request: Request) -> Path | None:
    """The generated file of a completed access or portability request, if it still exists."""
    name = (request.result or {}).get("bundle") or (request.result or {}).get("export")
    if not name or request.person is None:
        return None
    path = exports_dir(request.person) / name
    return path if path.exists() else None
