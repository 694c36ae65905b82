"""What the secure channel accepts as an upload: size limit and a type allow-list.

A file is accepted when its extension is on the list *and* its first bytes are
what that type starts with, so a renamed executable is refused. Word files
(``.docx``) must be OOXML documents without macros (no ``vbaProject.bin``).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: The largest request body accepted at all: a file at the limit, the form's
#: other fields and the multipart framing (site.middleware refuses more, unread;
#: the reverse proxy's client_max_body_size should say the same, docs/operations.md).
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024
MAX_FILENAME = 200

#: extension -> (content type, magic prefix or None for a check of its own)
ALLOWED: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain", None),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        None,
    ),
}

TOO_LARGE = _("The file is too large: %(size)s. The limit is %(limit)s.")
NOT_ALLOWED = _("Files of type %(ext)s cannot be sent. Allowed types: %(allowed)s.")
MISMATCH = _("The file %(name)s is not a valid %(ext)s file.")
EMPTY = _("The file is empty.")


@dataclass(frozen=True)
class Upload:
    """A received file, checked: safe name, content type by our allow-list, bytes."""

    filename: str
    content_type: str
    content: bytes


def allowed_extensions() -> str:
    return ", ".join(sorted(ALLOWED))


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_docx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "word/document.xml" in names and not any(n.endswith("vbaProject.bin") for n in names)


def check_size(size: int) -> None:
    """Refuse a file over :data:`MAX_UPLOAD_BYTES` before reading it."""
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            TOO_LARGE,
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(MAX_UPLOAD_BYTES)},
        )


def check_upload(filename: str, content: bytes) -> Upload:
    """Validate a file by name and content; returns it with our content type.

    Raises ``ValidationError`` saying what is wrong (size, type, content).
    """
    check_size(len(content))
    if not content:
        raise ValidationError(EMPTY, code="empty")
    # Only the last path component: browsers may send "C:\\fakepath\\x.pdf"; and
    # no control characters (a NUL would be a 500 on PostgreSQL), as Django's
    # multipart parser does for the form.
    printable = "".join(c for c in filename if c.isprintable())
    name = PurePath(printable.replace("\\", "/")).name.strip()[:MAX_FILENAME] or "upload"
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED:
        raise ValidationError(
            NOT_ALLOWED,
            code="type",
            params={"ext": ext or "(none)", "allowed": allowed_extensions()},
        )
    content_type, magic = ALLOWED[ext]
    if magic is not None:
        valid = content.startswith(magic)
    elif ext == ".txt":
        valid = _is_text(content)
    else:
        valid = _is_docx(content)
    if not valid:
        raise ValidationError(MISMATCH, code="content", params={"name": name, "ext": ext})
    return Upload(filename=name, content_type=content_type, content=content)
