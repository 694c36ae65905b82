"""Audited writes and the sealer do not wait for each other (PostgreSQL, real connections).

Issue 7, 3.3: every audited write used to queue on one advisory lock, which
capped a registration rush at about 45 per second however many web processes
ran. On SQLite write transactions are serialised by the database anyway, so
these tests run on PostgreSQL only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from personvern.core import audit
from personvern.core.audit import audit_log, seal_pending, verify_chain
from personvern.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10.0  # seconds; generous for a busy machine, never a timing assertion


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises write transactions; nothing to race")


class OpenTransaction:
    """A transaction in its own thread and connection, held open until released."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.ready = threading.Event()
        self.release = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(work,), daemon=True)

    def _run(self, work: Callable[[], Any]) -> None:
        try:
            with transaction.atomic():
                self.result = work()
                self.ready.set()
                self.release.wait(WAIT * 3)
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            self.error = exc
            self.ready.set()
        finally:
            connections.close_all()

    def __enter__(self) -> OpenTransaction:
        self.thread.start()
        assert self.ready.wait(WAIT), "the held transaction did not start"
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(WAIT)
        assert self.error is None, self.error


def _in_another_connection(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a committed transaction of a new connection; fail if it waits."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            with transaction.atomic():
                box["result"] = work()
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), "it waited for another transaction"
    if "error" in box:
        raise box["error"]
    return box["result"]


def test_audited_writes_do_not_wait_for_each_other_and_late_commits_are_sealed() -> None:
    with OpenTransaction(lambda: audit_log(actor="test", action="long.running")) as held:
        # One transaction holds an uncommitted audited write; another commits its own.
        quick = _in_another_connection(lambda: audit_log(actor="test", action="quick"))
        assert held.result.pk < quick.pk
        # The sealer sees only what has committed.
        assert seal_pending() == 1
        assert verify_chain().unsealed == 0
    # The long transaction commits after a later id was sealed: it comes next in the chain.
    assert seal_pending() == 1
    chain = dict(AuditEntry.objects.values_list("action", "chain_seq"))
    assert chain == {"quick": 1, "long.running": 2}
    report = verify_chain()
    assert (report.checked, report.unsealed, report.problem) == (2, 0, None)


def test_audited_writes_do_not_wait_for_the_sealer() -> None:
    def hold_the_sealers_lock() -> None:
        audit._lock_sealers()

    with OpenTransaction(hold_the_sealers_lock):
        entry = _in_another_connection(lambda: audit_log(actor="test", action="quick"))
    assert entry.chain_seq is None
    assert seal_pending() == 1
    assert verify_chain().problem is None


def test_the_sealer_does_not_wait_for_an_entry_another_transaction_holds() -> None:
    held_entry, other = (audit_log(actor="test", action=f"n{i}", personal={"v": i}) for i in (1, 2))

    def clear_payload() -> None:  # what an erasure does to a subject's entries
        AuditEntry.objects.filter(pk=held_entry.pk).update(personal=None)

    with OpenTransaction(clear_payload):
        assert _in_another_connection(seal_pending) == 1
    assert AuditEntry.objects.get(pk=other.pk).chain_seq == 1
    assert seal_pending() == 1
    assert AuditEntry.objects.get(pk=held_entry.pk).chain_seq == 2
    assert verify_chain().problem is None
