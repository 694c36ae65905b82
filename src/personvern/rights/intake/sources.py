"""Where messages come from: an .eml file, a directory of them, or a maildir."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.utils.translation import gettext_lazy as _

ERROR_UNREADABLE = _("The file cannot be read: %(error)s")


@dataclass(frozen=True)
class Source:
    """One message to take: its name in reports, and its bytes (None if unreadable)."""

    name: str
    #: The file it was read from, if any: its modification time stands in for a
    #: missing ``Date`` header.
    file: Path | None
    read: bytes | None
    error: str = ""
    #: When the mail server received it (IMAP's INTERNALDATE), for the same purpose.
    arrived_at: datetime | None = None

    def arrival(self) -> datetime | None:
        if self.arrived_at is not None:
            return self.arrived_at
        if self.file is not None:
            return datetime.fromtimestamp(self.file.stat().st_mtime, tz=UTC)
        return None


def sources_in(path: Path) -> Iterator[Source]:
    """The messages in ``path``: one .eml file, a directory of .eml files, or a maildir."""
    if path.is_file():
        yield _read(path.name, path)
    elif path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        yield from _maildir(path)
    elif path.is_dir():
        for file in sorted(p for p in path.iterdir() if p.suffix.lower() == ".eml"):
            if file.is_file():
                yield _read(file.name, file)
    else:
        raise FileNotFoundError(f"{path} is neither a file nor a directory.")


def _read(name: str, file: Path) -> Source:
    try:
        return Source(name, file, file.read_bytes())
    except OSError as exc:
        return Source(name, file, None, str(ERROR_UNREADABLE % {"error": exc.strerror}))


def _maildir(path: Path) -> Iterator[Source]:
    box = mailbox.Maildir(path, factory=None, create=False)
    entries = []
    for key in box.iterkeys():
        message = box.get_message(key)
        subdir = message.get_subdir()
        # A maildir file is named by its key, plus ":2,<flags>" once seen.
        matches = sorted((path / subdir).glob(glob_escape(key) + "*"))
        file = matches[0] if matches else path / subdir / key
        entries.append((f"{subdir}/{file.name}", file, key))
    for name, file, key in sorted(entries):
        try:
            yield Source(name, file, box.get_bytes(key))
        except (OSError, KeyError) as exc:
            yield Source(name, file, None, str(ERROR_UNREADABLE % {"error": exc}))


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped (maildir keys may hold them)."""
    return re.sub(r"([*?\[])", r"[\1]", text)
