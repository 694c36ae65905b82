"""The audit log: entries written without a lock, sealed into a keyed chain, anchored."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from personvern.cli import main
from personvern.core import audit
from personvern.core.audit import (
    audit_insert,
    audit_log,
    forget_subject,
    new_entry,
    pseudonym,
    seal_pending,
    verify_chain,
)
from personvern.core.models import AuditEntry
from personvern.core.services import person_create

pytestmark = pytest.mark.django_db

FIELDS = ("at", "actor", "action", "subject", "activity", "data", "personal_digest", "mac")


def _chain(n: int = 5) -> list[AuditEntry]:
    entries = [audit_log(actor="test", action="thing.done", data={"n": i}) for i in range(n)]
    seal_pending()
    return entries


def _sql(statement: str, params: list[Any]) -> None:
    # Tamper below the ORM (an append-only model refuses save()).
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _rechain(start: int, digest: Any) -> None:
    """Recompute ``prev_hash`` and ``hash`` from entry ``start`` on, as an attacker would."""
    prev = AuditEntry.objects.get(chain_seq=start - 1).hash if start > 1 else audit.GENESIS
    for entry in AuditEntry.objects.filter(chain_seq__gte=start).order_by("chain_seq"):
        row = tuple(getattr(entry, name) for name in FIELDS)
        new = digest(entry.chain_seq, entry.pk, row, prev)
        _sql(
            "UPDATE core_auditentry SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev, new, entry.pk],
        )
        prev = new


def _plain_sha256(chain_seq: int, entry_id: int, row: tuple[Any, ...], prev: str) -> str:
    *content, mac = row
    text = json.dumps(
        [chain_seq, entry_id, audit._content(*content), mac, prev],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def test_entries_are_written_unsealed_and_sealed_in_order() -> None:
    entries = [audit_log(actor="test", action="thing.done", data={"n": i}) for i in range(3)]
    assert all(e.chain_seq is None and e.hash == "" for e in entries)
    report = verify_chain()
    assert (report.checked, report.unsealed, report.problem) == (0, 3, None)

    assert seal_pending() == 3
    sealed = list(AuditEntry.objects.order_by("id").values_list("chain_seq", flat=True))
    assert sealed == [1, 2, 3]
    report = verify_chain()
    assert (report.checked, report.unsealed, report.anchored, report.problem) == (3, 0, 3, None)
    assert seal_pending() == 0


@pytest.mark.parametrize("count", [1, 3, audit.FEW_ENTRIES + 2])
def test_entries_inserted_together_are_stored_as_made_and_seal_and_verify(count: int) -> None:
    """``audit_insert``: one statement for a few entries (plain VALUES on PostgreSQL,
    where Django would bind one array per column) and for many; the stored rows are
    the entries as made, the instances keep their values, the chain verifies."""
    from django.test.utils import CaptureQueriesContext

    made = [new_entry(actor="test", action=f"thing.{i}", data={"n": i, "ord": ["å", None]},
                      personal={"email": f"kari{i}@example.no"} if i % 2 else None)
            for i in range(count)]
    with CaptureQueriesContext(connection) as queries:
        audit_insert(made)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    if connection.vendor == "postgresql":
        assert ("UNNEST" in inserts[0]) == (count > audit.FEW_ENTRIES)
    assert [e.action for e in made] == [f"thing.{i}" for i in range(count)]
    stored = list(AuditEntry.objects.order_by("id").values_list(*FIELDS, "personal"))
    assert stored == [tuple(getattr(e, name) for name in (*FIELDS, "personal")) for e in made]
    assert AuditEntry.objects.filter(personal__isnull=True).count() == (count + 1) // 2
    assert seal_pending() == count
    assert verify_chain().problem is None


def test_subject_is_a_keyed_pseudonym_not_an_identifier() -> None:
    person = person_create(email="Kari.Nordmann@Example.no", given_name="Kari", actor="test")
    entry = AuditEntry.objects.get(action="person.created")
    assert entry.subject == pseudonym(person)
    assert str(person.public_id) not in entry.subject
    assert "kari" not in str(entry.data).lower()


def test_edited_entry_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    _chain()
    _sql("UPDATE core_auditentry SET action = %s WHERE chain_seq = %s", ["thing.undone", 3])
    report = verify_chain()
    assert report.problem is not None and report.problem.seq == 3
    assert report.checked == 2
    assert main(["audit", "verify"]) == 1
    assert "entry 3" in capsys.readouterr().err


def test_edit_with_the_following_hashes_recomputed_is_detected_without_the_key() -> None:
    """Issue 7, 3.3: with plain SHA-256 an attacker recomputed the chain after an edit."""
    _chain()
    _sql("UPDATE core_auditentry SET data = %s WHERE chain_seq = %s", ['{"n": 99}', 3])
    _rechain(3, _plain_sha256)
    report = verify_chain()
    # Named where the edit is, by the chain itself (not only later, by the anchor).
    assert report.problem is not None and report.problem.seq == 3
    assert "does not match its hash" in report.problem.reason

    # A guessed key does no better.
    wrong = hashlib.sha256(b"guess").digest()
    _rechain(3, lambda seq, pk, row, prev: audit._chain_hash(wrong, seq, pk, row, prev))
    report = verify_chain()
    assert report.problem is not None and report.problem.seq == 3


def test_rewrite_by_a_key_holder_is_detected_by_the_anchor() -> None:
    _chain()
    key = audit._derived_key(audit._CHAIN_LABEL)
    entry_key = audit._derived_key(audit._ENTRY_LABEL)
    entry = AuditEntry.objects.get(chain_seq=2)
    forged = {"n": 99}
    mac = audit._mac(
        entry_key,
        audit._content(entry.at, entry.actor, entry.action, entry.subject, entry.activity,
                       forged, entry.personal_digest),
    )
    _sql(
        "UPDATE core_auditentry SET data = %s, mac = %s WHERE id = %s",
        [json.dumps(forged), mac, entry.pk],
    )
    _rechain(2, lambda seq, pk, row, prev: audit._chain_hash(key, seq, pk, row, prev))
    report = verify_chain()
    assert report.problem is not None and report.problem.seq == 5
    assert "anchored" in report.problem.reason and "rewritten" in report.problem.reason


def test_removed_entry_is_named() -> None:
    _chain()
    AuditEntry.objects.filter(chain_seq=2).delete()
    problem = verify_chain().problem
    assert problem is not None and problem.seq == 2
    assert "missing" in problem.reason


def test_removing_the_newest_entries_is_detected_by_the_anchor(
    audit_anchor: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _chain()
    AuditEntry.objects.filter(chain_seq__gte=4).delete()
    report = verify_chain()
    assert report.checked == 3
    assert report.problem is not None and report.problem.seq == 4
    assert "newest entries were removed" in report.problem.reason
    assert main(["audit", "verify"]) == 1
    assert "anchor recorded entry 5" in capsys.readouterr().err.replace("\n", " ")

    # The anchor is what catches it: without one, the chain alone cannot tell.
    audit_anchor.unlink()
    problem = verify_chain().problem
    assert problem is not None and "no sealed head is anchored" in problem.reason


def test_the_anchor_holds_each_sealed_head(audit_anchor: Path) -> None:
    for _ in range(3):
        audit_log(actor="test", action="thing.done")
    assert seal_pending(now=datetime(2026, 12, 3, 10, 0, tzinfo=UTC), batch_size=2) == 3
    lines = audit_anchor.read_text().splitlines()
    assert lines[0].startswith("#")
    heads = [line.split(" ") for line in lines[1:]]
    assert [(seq, at) for seq, _hash, at in heads] == [
        ("2", "2026-12-03T10:00:00.000000Z"), ("3", "2026-12-03T10:00:00.000000Z")
    ]
    assert heads[-1][1] == AuditEntry.objects.get(chain_seq=3).hash
    # A head not newer than the last one (a concurrent sealer was first) is not written.
    audit.append_anchor(2, heads[0][1], datetime(2026, 12, 3, tzinfo=UTC))
    assert len(audit_anchor.read_text().splitlines()) == 3


def test_a_malformed_anchor_is_reported_with_its_line(audit_anchor: Path) -> None:
    _chain(2)
    with audit_anchor.open("a") as file:
        file.write("2 not-a-hash\n")
    problem = verify_chain().problem
    assert problem is not None and f"{audit_anchor}:3" in problem.reason


def test_reordered_entries_are_detected() -> None:
    entries = _chain()
    # Swap the content of entries 2 and 4 (keeping their hashes and chain positions).
    for seq, source in ((2, entries[3]), (4, entries[1])):
        _sql(
            "UPDATE core_auditentry SET data = %s WHERE chain_seq = %s",
            [f'{{"n": {source.data["n"]}}}', seq],
        )
    problem = verify_chain().problem
    assert problem is not None and problem.seq == 2


def test_unsealed_entries_are_counted_and_sealed_on_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _chain(3)
    audit_log(actor="test", action="thing.done")
    audit_log(actor="test", action="thing.done")
    report = verify_chain()
    assert (report.checked, report.unsealed, report.problem) == (3, 2, None)
    assert main(["audit", "verify"]) == 0
    assert "2 entries are not sealed yet" in capsys.readouterr().out.replace("\n", " ")

    assert main(["audit", "verify", "--seal"]) == 0
    out = capsys.readouterr().out.replace("\n", " ")
    assert "5 entries verified" in out and "not sealed" not in out
    assert main(["audit", "seal"]) == 0
    assert "Sealed 0 audit entries" in capsys.readouterr().out


def test_an_entry_written_outside_the_application_is_named() -> None:
    _chain(2)
    forged = AuditEntry(
        at=datetime(2026, 12, 3, tzinfo=UTC), actor="staff:eve", action="thing.done", mac="0" * 64
    )
    forged.save(force_insert=True)
    problem = verify_chain().problem
    assert problem is not None and f"unsealed entry id {forged.pk}" in problem.reason

    seal_pending()  # the sealer seals it all the same: the chain keeps the evidence
    problem = verify_chain().problem
    assert problem is not None and problem.seq == 3 and "MAC" in problem.reason


def test_an_entry_committed_late_is_sealed_after_later_ones() -> None:
    """A lower id can become visible after higher ones are sealed (a long transaction)."""
    early, *later = [audit_log(actor="test", action="thing.done", data={"n": i}) for i in range(3)]
    early_id = early.pk
    row = {name: getattr(early, name) for name in FIELDS}
    early.delete()  # not yet visible to the sealer ...
    assert seal_pending() == 2
    AuditEntry(id=early_id, **row).save(force_insert=True)  # ... now committed
    assert seal_pending() == 1
    assert AuditEntry.objects.get(pk=early_id).chain_seq == 3
    assert [AuditEntry.objects.get(pk=e.pk).chain_seq for e in later] == [1, 2]
    report = verify_chain()
    assert (report.checked, report.problem) == (3, None)


def test_sealing_runs_in_batches_with_flat_memory() -> None:
    for i in range(25):
        audit_log(actor="test", action="thing.done", data={"n": i})
    assert seal_pending(batch_size=10) == 25
    report = verify_chain(batch_size=7)
    assert (report.checked, report.anchored, report.problem) == (25, 25, None)


def test_entries_cannot_be_updated_through_the_orm() -> None:
    entry = _chain(1)[0]
    entry.action = "changed"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


@pytest.mark.req("R35")
def test_forgetting_personal_payload_keeps_the_chain_valid() -> None:
    person = person_create(email="ola@example.no", given_name="Ola", actor="test")
    audit_log(
        actor="test",
        action="person.rectified",
        person=person,
        personal={"field": "given_name", "old": "Ola", "new": "Ole"},
    )
    _chain(2)
    assert forget_subject(pseudonym(person)) == 1
    assert not AuditEntry.objects.filter(personal__isnull=False).exists()
    assert verify_chain().problem is None
    assert main(["audit", "verify"]) == 0


def test_forgetting_before_sealing_keeps_the_chain_valid() -> None:
    person = person_create(email="ola@example.no", given_name="Ola", actor="test")
    audit_log(actor="test", action="person.rectified", person=person, personal={"old": "a"})
    assert forget_subject(pseudonym(person)) == 1
    seal_pending()
    assert verify_chain().problem is None


def test_altered_personal_payload_is_detected() -> None:
    person = person_create(email="ola@example.no", given_name="Ola", actor="test")
    entry = audit_log(
        actor="test", action="person.rectified", person=person, personal={"old": "a", "new": "b"}
    )
    seal_pending()
    entry.refresh_from_db()
    AuditEntry.objects.filter(pk=entry.pk).update(
        personal={"salt": entry.personal["salt"], "values": {"old": "x", "new": "b"}}
    )
    problem = verify_chain().problem
    assert problem is not None and problem.seq == entry.chain_seq


def test_the_worker_seals_every_minute() -> None:
    import personvern.core.jobs  # noqa: F401  (registers the core's jobs)
    from personvern.worker.registry import JobContext, get

    job = get("audit-seal")
    assert job.schedule.minutes == 1
    audit_log(actor="test", action="thing.done")
    now = datetime(2026, 12, 3, 10, 1, tzinfo=UTC)
    assert job.run(JobContext(now=now, job=job.name)) == {"sealed": 1}
    assert AuditEntry.objects.get().sealed_at == now


def test_an_anchor_that_cannot_be_written_is_a_clear_error(
    settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings.PERSONVERN_AUDIT_ANCHOR = blocker / "audit-anchor"  # a file where a folder should be
    audit_log(actor="test", action="thing.done")
    assert main(["audit", "seal"]) == 2
    assert f"Cannot write the audit anchor {blocker / 'audit-anchor'}" in capsys.readouterr().err
    assert AuditEntry.objects.get().chain_seq == 1  # sealed; the anchor catches up next time
