"""The audit log: append-only, pseudonymous, sealed into a keyed hash chain.

Design (ADR 0013):

- :func:`audit_log` inserts the entry in the caller's transaction and nothing
  more: its ``id`` comes from the database's sequence, so audited writes in
  different transactions (and processes) never wait for each other. The entry
  carries a MAC of its content, ``HMAC(entry key, content)``, so nobody without
  the audit key can forge an entry or edit one before it is sealed.
- The entry is *unsealed* (``chain_seq`` null, hashes empty) until the worker's
  job ``audit-seal`` (every minute; :func:`seal_pending`) seals it. The sealer
  takes a lock that only sealers take (PostgreSQL advisory lock; SQLite's write
  transaction is exclusive anyway) and seals the unsealed entries it sees in
  ``id`` order: each gets the next ``chain_seq`` (gapless from 1),
  ``prev_hash`` (the hash of the entry before it) and
  ``hash = HMAC(chain key, chain_seq, id, content, mac, prev_hash)``. An entry
  whose transaction committed late (a lower ``id`` than entries already sealed)
  simply gets a later ``chain_seq``: ``id`` is the order of insertion, the chain
  the order of sealing.
- Both keys are derived from ``PERSONVERN_AUDIT_KEY`` with their own labels
  (the pseudonyms use a third). Without the key an edited entry cannot be given
  a matching hash: :func:`verify_chain` names the first edited, removed or
  reordered entry.
- After each sealed batch the sealer appends the chain's head (``chain_seq``,
  hash, time) to the *anchor*, a file outside the database
  (``PERSONVERN_AUDIT_ANCHOR``), and logs it. :func:`verify_chain` compares the
  chain with every anchored head, so removing the newest entries, or rewriting
  the chain with the key, is detected up to the last anchored head.
- Subjects are named by ``HMAC(AUDIT_KEY, person.public_id)``. Once the person
  is erased the pseudonym links to nothing; the key never leaves the server.
- Personal values that must be audited (a rectification's old and new value)
  go in ``personal``; the MAC and the chain cover only ``sha256(salt +
  payload)``, where the salt lives inside the payload. :func:`forget_subject`
  clears those payloads on erasure; the digest stays and the chain verifies.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from personvern.core.models import AuditEntry
from personvern.core.prepared import PreparedInsert

if TYPE_CHECKING:
    from personvern.core.models import Person

GENESIS = "0" * 64
SEAL_BATCH = 2000  # entries per sealing transaction
_SEAL_LOCK = 0x5045_5253  # "PERS": advisory lock id, taken only by sealers
_ENTRY_LABEL = b"personvern:audit-entry:v1"
_CHAIN_LABEL = b"personvern:audit-chain:v1"
_ANCHOR_HEADER = b"# personvern audit anchor: chain_seq hash sealed_at, one sealed head a line\n"

log = logging.getLogger("personvern.audit")


def pseudonym(person: Person | str) -> str:
    """The keyed pseudonym that stands for a person in the audit log."""
    public_id = person if isinstance(person, str) else str(person.public_id)
    key = settings.PERSONVERN_AUDIT_KEY.encode()
    return hmac.new(key, b"person:" + public_id.encode(), hashlib.sha256).hexdigest()


def _derived_key(label: bytes) -> bytes:
    return hmac.new(settings.PERSONVERN_AUDIT_KEY.encode(), label, hashlib.sha256).digest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _mac(key: bytes, value: Any) -> str:
    return hmac.new(key, _canonical(value).encode(), hashlib.sha256).hexdigest()


def _content(
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    activity: str,
    data: dict[str, Any],
    personal_digest: str,
) -> list[Any]:
    return [_timestamp(at), actor, action, subject, activity, data, personal_digest]


def _digest(personal: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(personal).encode()).hexdigest()


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
    """Record an entry. Call inside the transaction of the change it records.

    One INSERT, no lock and no read: the worker seals the entry into the chain
    later. ``data`` must hold no personal data; put personal values in
    ``personal``.
    """
    entry = new_entry(
        actor=actor, action=action, person=person, subject=subject, activity=activity,
        data=data, personal=personal, now=now,
    )
    entry.save(force_insert=True)
    return entry


def new_entry(
    *,
    actor: str,
    action: str,
    person: Person | None = None,
    subject: str = "",
    activity: str = "",
    data: dict[str, Any] | None = None,
    personal: dict[str, Any] | None = None,
    now: datetime | None = None,
    key: bytes | None = None,
) -> AuditEntry:
    """An unsaved, unsealed entry with its MAC (for bulk inserts; see :func:`audit_log`).

    ``key``: the entry key from :func:`entry_key`, to derive it once for many entries.
    """
    if person is not None:
        subject = pseudonym(person)
    payload = None
    digest = ""
    if personal is not None:
        payload = {"salt": secrets.token_hex(16), "values": personal}
        digest = _digest(payload)
    # Timestamps are kept to the microsecond the databases store.
    at = (now or timezone.now()).astimezone(UTC)
    clean = json.loads(_canonical(data or {}))
    content = _content(at, actor, action, subject, activity, clean, digest)
    return AuditEntry(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        activity=activity,
        data=clean,
        personal=payload,
        personal_digest=digest,
        mac=_mac(key or entry_key(), content),
    )


#: Up to this many entries, :func:`audit_insert` writes them with a statement written
#: once (:class:`PreparedInsert`); more go through ``bulk_create``.
FEW_ENTRIES = 10
_INSERT = PreparedInsert(AuditEntry)


def audit_insert(entries: list[AuditEntry]) -> None:
    """Insert entries made by :func:`new_entry`, in one statement, in the caller's transaction.

    A few rows are one plain multi-row ``VALUES`` whose SQL is written once per
    number of rows (ADR 0036): ``bulk_create`` compiles its statement each time,
    and on PostgreSQL writes it as ``UNNEST`` of one array per column, which spares
    the planner on large batches but cost a registration's web process more than
    its three entries (about 12 % of its CPU). The entries' ids are not set.
    """
    if len(entries) <= FEW_ENTRIES:
        _INSERT.insert(entries)
    else:
        AuditEntry.objects.bulk_create(entries)


def entry_key() -> bytes:
    """The key of the entries' MACs, derived from the audit key."""
    return _derived_key(_ENTRY_LABEL)


def forget_subject(subject: str) -> int:
    """Clear the personal payloads of a subject's entries (erasure); returns the count.

    This is the one sanctioned change to audit rows: the MAC and the chain cover
    only the payload's digest, so the log stays verifiable.
    """
    return AuditEntry.objects.filter(subject=subject, personal__isnull=False).update(
        personal=None
    )


# --- sealing ---------------------------------------------------------------------------

_SEAL_FIELDS = (
    "id", "at", "actor", "action", "subject", "activity", "data", "personal_digest", "mac"
)


def _chain_hash(key: bytes, chain_seq: int, entry_id: int, row: tuple[Any, ...], prev: str) -> str:
    """``row``: the fields of :data:`_SEAL_FIELDS` after ``id``."""
    *content, mac = row
    return _mac(key, [chain_seq, entry_id, _content(*content), mac, prev])


def _lock_sealers() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK])


def _head() -> tuple[int, str]:
    head = (
        AuditEntry.objects.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("chain_seq", "hash")
        .first()
    )
    return (head[0] or 0, head[1]) if head else (0, GENESIS)


def seal_pending(now: datetime | None = None, batch_size: int = SEAL_BATCH) -> int:
    """Seal the entries not yet in the chain, in ``id`` order; returns how many.

    Each batch is one transaction under the sealers' lock; once it has
    committed, its head is appended to the anchor. Run it outside a
    transaction (the worker's job and ``personvern audit seal`` do), or the
    anchor may name a head that is later rolled back. Audited writes never
    wait for it: they take no lock the sealer holds.
    """
    chain_key = _derived_key(_CHAIN_LABEL)
    mac_key = entry_key()
    sealed = 0
    _warn_if_off_anchor()
    qn = connection.ops.quote_name
    update = (
        f"UPDATE {qn(AuditEntry._meta.db_table)} SET {qn('chain_seq')} = %s, "  # noqa: S608
        f"{qn('prev_hash')} = %s, {qn('hash')} = %s, {qn('sealed_at')} = %s WHERE {qn('id')} = %s"
    )
    while True:
        sealed_at = now or timezone.now()
        stored_at = connection.ops.adapt_datetimefield_value(sealed_at)
        with transaction.atomic():
            _lock_sealers()
            seq, prev = _head()
            # Rows another transaction holds (an erasure clearing payloads) are
            # left for the next batch, so the sealer never waits on a row lock
            # and cannot deadlock with it; they get a later chain_seq.
            rows = list(
                AuditEntry.objects.filter(chain_seq__isnull=True)
                .select_for_update(skip_locked=True)
                .order_by("id")
                .values_list(*_SEAL_FIELDS)[:batch_size]
            )
            if not rows:
                break
            params = []
            for entry_id, *row in rows:
                if not hmac.compare_digest(_mac(mac_key, _content(*row[:-1])), row[-1]):
                    # Sealed all the same (the chain keeps the evidence); verify names it.
                    log.error(
                        "audit entry id %d does not match its MAC: it was written or "
                        "changed outside the application", entry_id,
                    )
                seq += 1
                digest = _chain_hash(chain_key, seq, entry_id, tuple(row), prev)
                params.append((seq, prev, digest, stored_at, entry_id))
                prev = digest
            with connection.cursor() as cursor:
                cursor.executemany(update, params)
        append_anchor(seq, prev, sealed_at)
        sealed += len(rows)
        if len(rows) < batch_size:
            break
    return sealed


# --- the anchor ------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchoredHead:
    seq: int
    hash: str
    at: str
    line: int


def anchor_path() -> Path:
    """The anchor file (``PERSONVERN_AUDIT_ANCHOR``; default ``DATA_DIR/audit-anchor``)."""
    return Path(settings.PERSONVERN_AUDIT_ANCHOR)


def _parse_anchor(raw: bytes, number: int) -> AnchoredHead | None:
    """One line of the anchor; None for a comment or blank line; ValueError if malformed."""
    text = raw.decode("ascii").strip()
    if not text or text.startswith("#"):
        return None
    seq, digest, at = text.split(" ")
    if len(digest) != 64 or len(bytes.fromhex(digest)) != 32 or int(seq) < 1:
        raise ValueError(text)
    return AnchoredHead(int(seq), digest, at, number)


def _last_anchored(file: IO[bytes]) -> AnchoredHead | None:
    """The newest head in an open anchor file (reads only its tail)."""
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - 4096))
    lines = file.read().splitlines()
    if size > 4096:
        lines = lines[1:]  # the first may be the end of a longer line
    for raw in reversed(lines):
        try:
            head = _parse_anchor(raw, 0)
        except (ValueError, UnicodeDecodeError):
            return None
        if head is not None:
            return head
    return None


def append_anchor(seq: int, head_hash: str, at: datetime) -> None:
    """Append a sealed head to the anchor file, and log it.

    Heads only move forward: under the file lock, a head not newer than the
    last one written (a concurrent sealer got there first) is not written.
    """
    log.info("audit chain sealed through entry %d, hash %s", seq, head_hash)
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        last = _last_anchored(file)
        if last is not None and last.seq >= seq:
            return
        line = f"{seq} {head_hash} {_timestamp(at)}\n".encode()
        file.write(line if file.tell() else _ANCHOR_HEADER + line)
        file.flush()
        os.fsync(file.fileno())


def retire_anchor() -> Path | None:
    """Move the anchor aside (kept as evidence) so a new chain starts a new one.

    For a database that starts afresh (the demo's ``--fresh``). After restoring
    a backup, do the same by hand once ``audit verify`` has reported what was
    lost (docs/security.md).
    """
    path = anchor_path()
    if not path.exists():
        return None
    retired = path.with_name(f"{path.name}.{timezone.now():%Y%m%dT%H%M%S%f}.retired")
    path.rename(retired)
    return retired


def _warn_if_off_anchor() -> None:
    """Log an error when the chain no longer holds the newest anchored head.

    Sealing goes on (audited writes must not pile up unsealed); the anchor
    keeps the evidence and ``personvern audit verify`` reports it.
    """
    path = anchor_path()
    try:
        with path.open("rb") as file:
            last = _last_anchored(file)
    except OSError:
        return  # none yet, or unreadable: appending the next head will say so
    if last is None:
        return
    stored = AuditEntry.objects.filter(chain_seq=last.seq).values_list("hash", flat=True).first()
    if stored != last.hash:
        log.error(
            "the audit chain does not hold the head anchored in %s (entry %d): "
            "entries were removed or rewritten; run `personvern audit verify`",
            path, last.seq,
        )


def _anchored_heads(path: Path, size: int) -> Iterator[AnchoredHead]:
    """The heads in the first ``size`` bytes of the anchor (a complete last line only)."""
    with path.open("rb") as file:
        remaining = size
        for number, raw in enumerate(file, start=1):
            if remaining < len(raw) or not raw.endswith(b"\n"):
                return  # written while we read, or cut short: not ours to judge yet
            remaining -= len(raw)
            try:
                head = _parse_anchor(raw, number)
            except (ValueError, UnicodeDecodeError) as exc:
                raise AnchorError(f"{path}:{number}: not a sealed head: {raw[:120]!r}") from exc
            if head is not None:
                yield head


class AnchorError(ValueError):
    """The anchor file cannot be read as a list of sealed heads."""


# --- verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """The first problem found; ``seq`` is the chain position (None: not one entry's)."""

    seq: int | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int  # sealed entries verified, in chain order
    problem: ChainProblem | None
    unsealed: int  # entries written but not yet sealed
    anchored: int  # the newest anchored head that was checked (0: none)
    anchor: Path


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the chain in order and compare it with the anchor.

    Reports the entries checked, the first problem (an entry edited, removed,
    reordered, or written outside the application; the newest entries removed
    or the chain rewritten, against the anchor) and how many entries wait to
    be sealed. Memory stays flat: the chain is read in keyset pages, the anchor
    line by line.
    """
    path = anchor_path()
    try:
        size = path.stat().st_size  # heads anchored later are not compared
    except FileNotFoundError:
        size = 0
    heads = _anchored_heads(path, size) if size else iter(())
    checked, anchored, problem = _walk(heads, batch_size)
    if problem is None and checked and not anchored:
        problem = ChainProblem(
            None,
            f"no sealed head is anchored in {path}: removal of the newest entries "
            "cannot be checked (is PERSONVERN_AUDIT_ANCHOR the sealer's anchor?)",
        )
    unsealed = AuditEntry.objects.filter(chain_seq__isnull=True).count()
    if problem is None:
        problem = _check_unsealed(batch_size)
    return ChainReport(checked, problem, unsealed, anchored, path)


def _walk(heads: Iterator[AnchoredHead], batch_size: int) -> tuple[int, int, ChainProblem | None]:
    chain_key = _derived_key(_CHAIN_LABEL)
    mac_key = entry_key()
    expected_seq = 1
    prev = GENESIS
    checked = anchored = 0
    try:
        head = next(heads, None)
        for entry in _sealed_entries(batch_size):
            seq = entry.chain_seq
            assert seq is not None
            if seq != expected_seq:
                return checked, anchored, ChainProblem(
                    expected_seq, f"entry {expected_seq} is missing (next present is {seq})"
                )
            if entry.prev_hash != prev:
                return checked, anchored, ChainProblem(seq, "does not follow the previous entry")
            if entry.personal is not None and _digest(entry.personal) != entry.personal_digest:
                return checked, anchored, ChainProblem(seq, "its personal payload was altered")
            row = tuple(getattr(entry, name) for name in _SEAL_FIELDS[1:])
            recomputed = _chain_hash(chain_key, seq, entry.pk, row, prev)
            if not hmac.compare_digest(recomputed, entry.hash):
                return checked, anchored, ChainProblem(seq, "its content does not match its hash")
            if not hmac.compare_digest(_mac(mac_key, _content(*row[:-1])), entry.mac):
                return checked, anchored, ChainProblem(
                    seq,
                    f"(id {entry.pk}) its content does not match its MAC: it was written or "
                    "changed outside the application before it was sealed",
                )
            if head is not None and head.seq < seq:
                return checked, anchored, ChainProblem(
                    head.seq, f"anchor line {head.line} is out of order"
                )
            if head is not None and head.seq == seq:
                if not hmac.compare_digest(head.hash, entry.hash):
                    return checked, anchored, ChainProblem(
                        seq,
                        f"it is not the entry anchored at line {head.line} (sealed {head.at}): "
                        "the chain was rewritten from here or before",
                    )
                anchored = seq
                head = next(heads, None)
            prev = entry.hash
            expected_seq += 1
            checked += 1
        if head is not None:
            return checked, anchored, ChainProblem(
                checked + 1,
                f"the chain ends at entry {checked} but the anchor recorded entry {head.seq} "
                f"(line {head.line}, sealed {head.at}): the newest entries were removed",
            )
    except AnchorError as exc:
        return checked, anchored, ChainProblem(None, str(exc))
    return checked, anchored, None


def _check_unsealed(batch_size: int) -> ChainProblem | None:
    """Unsealed entries must match their MAC and carry no chain hash."""
    mac_key = entry_key()
    last = 0
    while True:
        batch = list(
            AuditEntry.objects.filter(chain_seq__isnull=True, id__gt=last)
            .order_by("id")
            .values_list(*_SEAL_FIELDS, "hash")[:batch_size]
        )
        if not batch:
            return None
        for entry_id, *row, digest in batch:
            if digest:
                return ChainProblem(
                    None, f"entry id {entry_id} has a chain hash but no place in the chain"
                )
            if not hmac.compare_digest(_mac(mac_key, _content(*row[:-1])), row[-1]):
                return ChainProblem(
                    None,
                    f"unsealed entry id {entry_id} does not match its MAC: it was written or "
                    "changed outside the application",
                )
        last = batch[-1][0]


def _sealed_entries(batch_size: int) -> Iterator[AuditEntry]:
    # Keyset pagination keeps memory flat however long the log grows.
    last = 0
    while True:
        batch = list(
            AuditEntry.objects.filter(chain_seq__gt=last).order_by("chain_seq")[:batch_size]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].chain_seq or 0
