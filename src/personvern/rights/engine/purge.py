"""Purging freed storage after an erasure (the step after commit, Art. 17).

SQLite: secure_delete is on, the WAL is checkpointed and truncated, with bounded
retries while a reader keeps it busy; PostgreSQL: the touched tables are vacuumed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.db import connection

logger = logging.getLogger(__name__)


#: Tries at a truncating WAL checkpoint after an erasure (SQLite), the first wait
#: between them (doubling), and how long one try waits for readers to finish. The
#: connection's own busy timeout (30 s) would hold the answer to the request far too long.
CHECKPOINT_ATTEMPTS = 5
CHECKPOINT_FIRST_WAIT_SECONDS = 0.1
CHECKPOINT_BUSY_TIMEOUT_MS = 250

#: Outcomes of :func:`purge_freed_storage`.
PURGE_DONE = "done"
PURGE_PENDING = "pending"
PURGE_SKIPPED = "skipped"


def purge_freed_storage(
    tables: Sequence[str] = (),
    *,
    attempts: int | None = None,
    first_wait: float | None = None,
) -> str:
    """Make erased bytes unreachable on disk, after the erasure committed.

    SQLite (``secure_delete=ON`` zeroes freed space): checkpoint the WAL into the
    database file and truncate it, so old page images in the WAL are gone. A
    reader on an older snapshot makes the checkpoint busy: it is tried
    ``attempts`` times in all (default :data:`CHECKPOINT_ATTEMPTS`; the waits
    double from ``first_wait`` seconds); if it stays busy the outcome is
    :data:`PURGE_PENDING` (logged; the next checkpoint completes it).
    PostgreSQL: VACUUM the touched tables so dead tuples are pruned (see
    docs/erasure.md for what this does and does not reach).
    Returns :data:`PURGE_DONE`, :data:`PURGE_PENDING`, or :data:`PURGE_SKIPPED`
    inside a transaction (where neither can run).
    """
    if connection.in_atomic_block:
        # VACUUM and a truncating checkpoint need to run outside a transaction.
        return PURGE_SKIPPED
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            return _checkpoint_wal(
                cursor,
                attempts=CHECKPOINT_ATTEMPTS if attempts is None else attempts,
                first_wait=CHECKPOINT_FIRST_WAIT_SECONDS if first_wait is None else first_wait,
            )
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"VACUUM {connection.ops.quote_name(table)}")
    return PURGE_DONE


def _checkpoint_wal(cursor: Any, *, attempts: int, first_wait: float) -> str:
    cursor.execute("PRAGMA busy_timeout")
    (previous_timeout,) = cursor.fetchone()
    cursor.execute(f"PRAGMA busy_timeout = {int(CHECKPOINT_BUSY_TIMEOUT_MS)}")
    try:
        for attempt in range(max(attempts, 1)):
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log_frames, _checkpointed = cursor.fetchone()
            if not busy:
                return PURGE_DONE
            if attempt + 1 < attempts:
                time.sleep(first_wait * 2**attempt)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(previous_timeout)}")
    logger.warning(
        "The WAL checkpoint after an erasure stayed busy after %d tries; the erased "
        "data's old pages stay in the -wal file until the next checkpoint.",
        attempts,
    )
    return PURGE_PENDING
