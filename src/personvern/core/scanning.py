"""Virus and malware scanning of received files (R21), by ClamAV's daemon.

:func:`scan` sends the bytes to ``clamd`` with its documented ``INSTREAM``
command (``man clamd``: ``zINSTREAM\\0``, then chunks each prefixed by their
length as a 4-byte big-endian integer, ended by a zero-length chunk; the reply
is ``stream: OK``, ``stream: <signature> FOUND`` or ``… ERROR``), over the unix
socket or TCP address in ``PERSONVERN_CLAMD_URL``.

Fail closed (docs/decisions/0011-virus-scanning.md):

- A file is accepted only on ``stream: OK``. An unreachable scanner, a timeout,
  a size-limit error or a reply we do not understand is :attr:`Verdict.ERROR`,
  and callers refuse the file (uploads) or leave the message for the next run
  (e-mail intake).
- In production a scanner must be configured (``config.load_config`` refuses
  to start without one); if it is missing all the same, :func:`scan` answers
  ``ERROR``, never "clean".
- Elsewhere an empty ``CLAMD_URL`` disables scanning explicitly: the verdict is
  :attr:`Verdict.DISABLED`, files are stored as ``unscanned``, and nobody can
  download them until ``personvern scan pending`` has found them clean.

The file's name is never sent to clamd nor written to a log; audit entries
(:func:`audit_scan`) hold the verdict, the signature, the size and row ids only.
"""

from __future__ import annotations

import enum
import logging
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log

logger = logging.getLogger(__name__)

#: Seconds to wait for clamd to connect and to answer one file.
TIMEOUT_SECONDS = 60.0
CHUNK_BYTES = 64 * 1024
#: Longest reply read from clamd (a verdict line is far shorter).
MAX_REPLY_BYTES = 4096

INFECTED_MESSAGE = _(
    "The file %(name)s was not accepted: our virus scanner found malware in it (%(signature)s)."
)
UNAVAILABLE_MESSAGE = _(
    "The file %(name)s could not be checked for viruses just now, so it was not accepted. "
    "Please try again later, or send your message without the file."
)


class Verdict(enum.StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"
    ERROR = "error"
    #: Scanning is switched off (development and demo only): nothing was checked.
    DISABLED = "disabled"


class ScanStatus(models.TextChoices):
    """What a stored file's ``scan_status`` says; only ``clean`` files may be opened."""

    CLEAN = "clean", _("clean")
    UNSCANNED = "unscanned", _("not scanned yet")
    INFECTED = "infected", _("malware found, content removed")


@dataclass(frozen=True)
class ScanResult:
    """One scan's outcome: the verdict, the signature found, or what went wrong."""

    verdict: Verdict
    signature: str = ""
    detail: str = ""
    #: An ``ERROR`` because the content is larger than clamd's StreamMaxLength:
    #: scanning again will not help, unlike when the scanner is down.
    too_large: bool = False

    @property
    def clean(self) -> bool:
        return self.verdict == Verdict.CLEAN

    @property
    def status(self) -> ScanStatus:
        """The ``scan_status`` of a file stored after this scan."""
        if self.verdict == Verdict.CLEAN:
            return ScanStatus.CLEAN
        if self.verdict == Verdict.INFECTED:
            return ScanStatus.INFECTED
        return ScanStatus.UNSCANNED


class ScannerConfigurationError(ValueError):
    """``PERSONVERN_CLAMD_URL`` is not a ``unix://`` or ``tcp://`` address."""


def parse_clamd_url(url: str) -> tuple[int, str | tuple[str, int]]:
    """``(socket family, address)`` of ``unix:///path`` or ``tcp://host:port``."""
    parts = urlsplit(url.strip())
    if parts.scheme == "unix" and parts.path:
        return socket.AF_UNIX, parts.path
    if parts.scheme == "tcp" and parts.hostname:
        try:
            port = parts.port or 3310
        except ValueError as exc:
            raise ScannerConfigurationError(f"bad port in {url!r}") from exc
        family = socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET
        return family, (parts.hostname, port)
    raise ScannerConfigurationError(
        f"PERSONVERN_CLAMD_URL must be unix:///path/to/clamd.sock or tcp://host:port, not {url!r}"
    )


def scanning_enabled() -> bool:
    """False only when scanning is explicitly off (empty URL outside production)."""
    return bool(settings.PERSONVERN_CLAMD_URL) or settings.PERSONVERN_ENV == "production"


def _chunks(content: bytes) -> Iterator[bytes]:
    for start in range(0, len(content), CHUNK_BYTES):
        chunk = content[start : start + CHUNK_BYTES]
        yield struct.pack(">I", len(chunk)) + chunk
    yield struct.pack(">I", 0)


def _instream(url: str, content: bytes, timeout: float) -> str:
    family, address = parse_clamd_url(url)
    with socket.socket(family, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(address)
        conn.sendall(b"zINSTREAM\0")
        try:
            for chunk in _chunks(content):
                conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            # clamd closes the stream when it exceeds StreamMaxLength; its
            # reply (an error) is still there to read.
            pass
        reply = b""
        while not reply.endswith(b"\0") and len(reply) < MAX_REPLY_BYTES:
            data = conn.recv(MAX_REPLY_BYTES)
            if not data:
                break
            reply += data
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


def parse_reply(reply: str) -> ScanResult:
    """The verdict of one ``INSTREAM`` reply line."""
    body = reply.removeprefix("stream:").strip()
    if body == "OK":
        return ScanResult(Verdict.CLEAN)
    if body.endswith(" FOUND") and body[: -len(" FOUND")].strip():
        return ScanResult(Verdict.INFECTED, signature=body[: -len(" FOUND")].strip())
    too_large = "size limit exceeded" in body.lower()
    return ScanResult(Verdict.ERROR, detail=f"clamd answered {reply[:200]!r}",
                      too_large=too_large)


def scan(content: bytes, *, name: str, timeout: float = TIMEOUT_SECONDS) -> ScanResult:
    """Scan ``content`` with clamd; never raises for scanner trouble (that is ``ERROR``).

    ``name`` says which file this is for the caller's messages; it is neither
    sent to clamd nor logged.
    """
    url = settings.PERSONVERN_CLAMD_URL
    if not url:
        if settings.PERSONVERN_ENV == "production":
            return ScanResult(Verdict.ERROR, detail="no scanner configured (PERSONVERN_CLAMD_URL)")
        return ScanResult(Verdict.DISABLED, detail="scanning is disabled (PERSONVERN_CLAMD_URL)")
    try:
        result = parse_reply(_instream(url, content, timeout))
    except (OSError, ScannerConfigurationError) as exc:
        result = ScanResult(Verdict.ERROR, detail=f"clamd at {url}: {exc}")
    if result.verdict == Verdict.ERROR:
        logger.error("Virus scan failed, file refused or left for later: %s", result.detail)
    return result


def audit_scan(
    result: ScanResult,
    *,
    actor: str,
    activity: str,
    channel: str,
    size: int,
    person: Any = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Record a verdict in the audit log: no file name, no content, no digest."""
    audit_log(
        actor=actor,
        action=f"file.scan_{result.verdict}",
        person=person,
        activity=activity,
        data={
            "channel": channel,
            "verdict": str(result.verdict),
            "signature": result.signature,
            "size": size,
            **(data or {}),
        },
        now=now,
    )


def refusal(result: ScanResult, *, name: str) -> ValidationError | None:
    """The error that refuses a file after ``result``, or None when it may be stored.

    Clean files and (outside production) files received while scanning is
    disabled may be stored; infected ones and scanner errors are refused.
    """
    if result.verdict == Verdict.INFECTED:
        return ValidationError(
            INFECTED_MESSAGE, code="infected", params={"name": name, "signature": result.signature}
        )
    if result.verdict == Verdict.ERROR:
        return ValidationError(UNAVAILABLE_MESSAGE, code="scan_unavailable", params={"name": name})
    return None


def scan_or_refuse(
    content: bytes, *, name: str, field: str, actor: str, activity: str, channel: str,
    now: datetime | None = None,
) -> ScanResult:
    """Scan a received file; refuse it (``ValidationError`` on ``field``) unless it may be kept.

    A refused file's verdict is audited here, as nothing else will record it;
    the caller audits the verdict of a file it keeps, with the row it is kept in.
    """
    result = scan(content, name=name)
    error = refusal(result, name=name)
    if error is not None:
        audit_scan(result, actor=actor, activity=activity, channel=channel, size=len(content),
                   now=now)
        raise ValidationError({field: [error]})
    return result


# --- files stored before they could be scanned ------------------------------------


@dataclass(frozen=True)
class RescanReport:
    clean: int = 0
    infected: int = 0
    failed: int = 0


def scanned_models() -> list[type[models.Model]]:
    """The models that store received files (they have a ``scan_status`` field)."""
    return [
        model
        for model in apps.get_models()
        if any(f.name == "scan_status" for f in model._meta.get_fields())
    ]


def rescan_pending(*, actor: str, now: datetime | None = None) -> RescanReport:
    """Scan every stored file whose status is ``unscanned`` (R21).

    Clean files become openable; an infected file's content is removed (the
    row stays, saying so). A scanner error leaves the file unscanned. Each
    verdict is audited against the person the file belongs to.
    """
    from personvern.core.registry import holder_of

    now = now or timezone.now()
    counts = {"clean": 0, "infected": 0, "failed": 0}
    for model in scanned_models():
        holder = holder_of(model)
        person_path = holder.person if holder else None
        activity = (holder.activity if holder else None) or ""
        label = model._meta.label
        rows = model._default_manager.filter(scan_status=ScanStatus.UNSCANNED).order_by("pk")
        for pk in rows.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                row = model._default_manager.select_for_update().filter(
                    pk=pk, scan_status=ScanStatus.UNSCANNED
                ).first()
                if row is None:
                    continue
                content = bytes(row.content)  # type: ignore[attr-defined]
                result = scan(content, name=f"{label} {pk}")
                if result.verdict in (Verdict.ERROR, Verdict.DISABLED):
                    counts["failed"] += 1
                    continue
                person = _person_of(row, person_path)
                update: dict[str, Any] = {"scan_status": result.status, "scanned_at": now}
                if result.verdict == Verdict.INFECTED:
                    update["content"] = b""
                    counts["infected"] += 1
                else:
                    counts["clean"] += 1
                model._default_manager.filter(pk=pk).update(**update)
                audit_scan(
                    result,
                    actor=actor,
                    activity=activity,
                    channel="stored",
                    size=len(content),
                    person=person,
                    data={"model": label, "row": pk},
                    now=now,
                )
    return RescanReport(**counts)


def _person_of(row: models.Model, path: str | None) -> Any:
    if not path:
        return None
    value: Any = row
    for part in path.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value
