"""The audit log: append-only, hash-chained, pseudonymous.

Design:
- Every entry stores the SHA-256 of the previous entry's hash plus its own
  canonical content; ``seq`` numbers have no gaps. Editing, removing or
  reordering entries therefore breaks the chain at the first touched entry,
  which :func:`verify_chain` names.
- Subjects are named by ``HMAC(AUDIT_KEY, person.public_id)``. Once the person
  is erased the pseudonym links to nothing; the key never leaves the server.
- Personal values that must be audited (a rectification's old and new value)
  go in ``personal``; the chain covers only ``sha256(salt + payload)``, where the
  salt lives inside the payload. :func:`forget_subject` clears those payloads on
  erasure; the digest stays and the chain still verifies.
- Appends are serialised: PostgreSQL takes a transaction-level advisory lock;
  SQLite write transactions are already exclusive (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from personvern.core.models import AuditEntry

if TYPE_CHECKING:
    from personvern.core.models import Person

GENESIS = "0" * 64
_LOCK_KEY = 0x5045_5253  # "PERS": advisory lock id of the audit chain


def pseudonym(person: Person | str) -> str:
    """The keyed pseudonym that stands for a person in the audit log."""
    public_id = person if isinstance(person, str) else str(person.public_id)
    key = settings.PERSONVERN_AUDIT_KEY.encode()
    return hmac.new(key, b"person:" + public_id.encode(), hashlib.sha256).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    activity: str,
    data: dict[str, Any],
    personal_digest: str,
    prev_hash: str,
) -> str:
    content = _canonical(
        [seq, _timestamp(at), actor, action, subject, activity, data, personal_digest, prev_hash]
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _digest(personal: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(personal).encode()).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def audit_log(
    *,
    actor: str,
    action: str,
    person: Person | None = None,
    subject: str = "",
    activity: str = "",
    data: dict[str, Any] | None = None,
    personal: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append an entry. Call inside the transaction of the change it records.

    ``data`` must hold no personal data; put personal values in ``personal``.
    """
    if person is not None:
        subject = pseudonym(person)
    payload = None
    digest = ""
    if personal is not None:
        payload = {"salt": secrets.token_hex(16), "values": personal}
        digest = _digest(payload)
    with transaction.atomic():
        _lock_chain()
        last = AuditEntry.objects.order_by("-seq").only("seq", "hash").first()
        seq = last.seq + 1 if last else 1
        prev = last.hash if last else GENESIS
        # Timestamps are kept to the microsecond the databases store.
        at = (now or timezone.now()).astimezone(UTC)
        clean = json.loads(_canonical(data or {}))
        entry = AuditEntry(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            activity=activity,
            data=clean,
            personal=payload,
            personal_digest=digest,
            prev_hash=prev,
        )
        entry.hash = entry_hash(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            activity=activity,
            data=clean,
            personal_digest=digest,
            prev_hash=prev,
        )
        entry.save(force_insert=True)
    return entry


def forget_subject(subject: str) -> int:
    """Clear the personal payloads of a subject's entries (erasure); returns the count.

    This is the one sanctioned change to audit rows: the chain covers only the
    payload's digest, so it stays verifiable.
    """
    return AuditEntry.objects.filter(subject=subject, personal__isnull=False).update(
        personal=None
    )


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def verify_chain(batch_size: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in order; returns (entries checked, first problem or None)."""
    expected_seq = 1
    prev = GENESIS
    checked = 0
    for entry in _entries(batch_size):
        if entry.seq != expected_seq:
            return checked, ChainProblem(
                expected_seq, f"entry {expected_seq} is missing (next present is {entry.seq})"
            )
        if entry.prev_hash != prev:
            return checked, ChainProblem(entry.seq, "does not follow the previous entry")
        if entry.personal is not None and _digest(entry.personal) != entry.personal_digest:
            return checked, ChainProblem(entry.seq, "its personal payload was altered")
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            activity=entry.activity,
            data=entry.data,
            personal_digest=entry.personal_digest,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            return checked, ChainProblem(entry.seq, "its content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    return checked, None


def _entries(batch_size: int) -> Iterator[AuditEntry]:
    # Keyset pagination keeps memory flat however long the log grows.
    last = 0
    while True:
        batch = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
