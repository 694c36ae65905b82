"""The audit log is append-only, hash-chained and pseudonymous."""

from __future__ import annotations

import pytest
from django.db import connection

from personvern.cli import main
from personvern.core.audit import audit_log, forget_subject, pseudonym, verify_chain
from personvern.core.models import AuditEntry
from personvern.core.services import person_create

pytestmark = pytest.mark.django_db


def _chain(n: int = 5) -> list[AuditEntry]:
    return [audit_log(actor="test", action="thing.done", data={"n": i}) for i in range(n)]


def test_intact_chain_verifies() -> None:
    _chain()
    checked, problem = verify_chain()
    assert problem is None
    assert checked == 5


def test_subject_is_a_keyed_pseudonym_not_an_identifier() -> None:
    person = person_create(email="Kari.Nordmann@Example.no", given_name="Kari", actor="test")
    entry = AuditEntry.objects.get(action="person.created")
    assert entry.subject == pseudonym(person)
    assert str(person.public_id) not in entry.subject
    assert "kari" not in str(entry.data).lower()


def test_edited_entry_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    _chain()
    # Tamper below the ORM (an append-only model refuses save()).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET action = %s WHERE seq = %s", ["thing.undone", 3]
        )
    checked, problem = verify_chain()
    assert problem is not None and problem.seq == 3
    assert checked == 2
    assert main(["audit", "verify"]) == 1
    assert "entry 3" in capsys.readouterr().err


def test_removed_entry_is_named() -> None:
    _chain()
    AuditEntry.objects.filter(seq=2).delete()
    _checked, problem = verify_chain()
    assert problem is not None and problem.seq == 2
    assert "missing" in problem.reason


def test_reordered_entries_are_detected() -> None:
    entries = _chain()
    # Swap the content of entries 2 and 4 (keeping their hashes and seq numbers).
    with connection.cursor() as cursor:
        for seq, source in ((2, entries[3]), (4, entries[1])):
            cursor.execute(
                "UPDATE core_auditentry SET data = %s WHERE seq = %s",
                [f'{{"n": {source.data["n"]}}}', seq],
            )
    _checked, problem = verify_chain()
    assert problem is not None and problem.seq == 2


def test_entries_cannot_be_updated_through_the_orm() -> None:
    entry = _chain(1)[0]
    entry.action = "changed"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


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
    assert verify_chain()[1] is None
    assert main(["audit", "verify"]) == 0


def test_altered_personal_payload_is_detected() -> None:
    person = person_create(email="ola@example.no", given_name="Ola", actor="test")
    entry = audit_log(
        actor="test", action="person.rectified", person=person, personal={"old": "a", "new": "b"}
    )
    AuditEntry.objects.filter(pk=entry.pk).update(
        personal={"salt": entry.personal["salt"], "values": {"old": "x", "new": "b"}}
    )
    _checked, problem = verify_chain()
    assert problem is not None and problem.seq == entry.seq
