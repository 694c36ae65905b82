"""E-mail intake from an IMAP mailbox (R32), against a real Dovecot (tests/imap.py)."""

from __future__ import annotations

import imaplib
import time
from datetime import UTC, datetime

import pytest

from personvern.cli import main
from personvern.rights.intake import IMAPIntakeError, Outcome, intake_imap
from personvern.rights.models import Channel, Request, RequestType

from .test_intake import ACTOR, NOW, message

pytestmark = pytest.mark.django_db


def _by_subject(imap_server, mailbox: str = "INBOX") -> dict[str, set[str]]:
    """Subject -> flags of each message in ``mailbox``."""
    import email
    import email.policy

    found = {}
    for flags, raw in imap_server.messages(mailbox):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        found[str(parsed["Subject"])] = flags
    return found


@pytest.mark.req("R32")
def test_marked_messages_become_requests_and_the_mailbox_is_left_as_it_was(imap_server):
    imap_server.append(message())  # "Personvern: innsyn", dated 5 March
    imap_server.append(message(subject="Personvern: slett meg", body="Slett alt om meg.",
                               sender="Ola <ola@example.no>", message_id="<b2@mail.example.no>"))
    imap_server.append(message(subject="Kursbevis", body="Hvor er kursbeviset mitt?",
                               sender="Per <per@example.no>", message_id="<c3@mail.example.no>"))

    report = intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR, now=NOW)

    assert [item.outcome for item in report.items] == [Outcome.CREATED, Outcome.CREATED]
    access = Request.objects.get(type=RequestType.ACCESS)
    assert access.channel == Channel.EMAIL
    assert access.received_at == datetime(2025, 3, 5, 9, 15, tzinfo=UTC)  # its Date header
    assert access.person.emails.get().address == "kari@example.no"
    assert Request.objects.get(type=RequestType.ERASURE).person.emails.get().address == (
        "ola@example.no"
    )
    # Read with BODY.PEEK: nothing marked read, nothing moved, the unmarked one untouched.
    flags = _by_subject(imap_server)
    assert set(flags) == {"Personvern: innsyn", "Personvern: slett meg", "Kursbevis"}
    assert all("\\Seen" not in f and "\\Deleted" not in f for f in flags.values())

    again = intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR, now=NOW)
    assert [item.outcome for item in again.items] == [Outcome.ALREADY_TAKEN] * 2
    assert Request.objects.count() == 2


@pytest.mark.req("R32")
def test_registered_messages_can_be_moved_to_a_folder(imap_server):
    imap_server.append(message())
    imap_server.append(message(subject="Kursbevis", message_id="<c3@mail.example.no>"))
    imap_server.append(message(subject="Personvern", body="Hei.", message_id="<d4@x.no>",
                               sender=None))  # no sender: cannot be taken

    report = intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR,
                         now=NOW, move_to="Personvern-registrert")

    assert sorted(item.outcome.value for item in report.items) == sorted(
        [Outcome.CREATED.value, Outcome.MALFORMED.value])
    left = _by_subject(imap_server)
    assert set(left) == {"Kursbevis", "Personvern"}  # left for a person to look at
    assert "\\Seen" not in left["Personvern"]  # fetched, read-write, yet still unread
    assert set(_by_subject(imap_server, "Personvern-registrert")) == {"Personvern: innsyn"}


@pytest.mark.req("R32")
def test_a_message_without_a_date_counts_from_when_the_server_received_it(imap_server):
    arrived = datetime(2025, 3, 7, 8, 30, tzinfo=UTC)
    with imap_server.connect() as client:
        client.append("INBOX", None, imaplib.Time2Internaldate(time.mktime(arrived.timetuple())
                                                                - time.timezone),
                      message(date=None))
    report = intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR, now=NOW)
    [item] = report.items
    assert item.outcome == Outcome.CREATED
    assert Request.objects.get().received_at == arrived


@pytest.mark.req("R32")
def test_dry_run_writes_nothing_and_moves_nothing(imap_server):
    imap_server.append(message())
    report = intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR,
                         now=NOW, dry_run=True, move_to="Registrert")
    assert [item.outcome for item in report.items] == [Outcome.CREATED]
    assert not Request.objects.exists()
    assert set(_by_subject(imap_server)) == {"Personvern: innsyn"}


def test_wrong_password_unknown_mailbox_and_no_server_are_clear_errors(imap_server):
    # The failed login last: Dovecot may slow down the logins after it.
    with pytest.raises(IMAPIntakeError, match="no mailbox 'Finnes ikke'"):
        intake_imap(imap_server.url("Finnes ikke"), password=imap_server.password,
                    actor=ACTOR, now=NOW)
    with pytest.raises(IMAPIntakeError, match="cannot reach 127.0.0.1:1"):
        intake_imap("imap://x@127.0.0.1:1/INBOX", password="p", actor=ACTOR, now=NOW)
    with pytest.raises(IMAPIntakeError, match="not an IMAP address"):
        intake_imap("imaps://imap.jus.no/INBOX", password="p", actor=ACTOR, now=NOW)
    with pytest.raises(IMAPIntakeError, match="refused the login of 'personvern'"):
        intake_imap(imap_server.url(), password="feil", actor=ACTOR, now=NOW)


@pytest.mark.req("R32")
def test_the_command_reads_the_mailbox_with_the_configured_password(imap_server, settings,
                                                                    capsys):
    imap_server.append(message())
    settings.PERSONVERN_INTAKE_IMAP_PASSWORD = imap_server.password

    code = main(["rights", "intake", imap_server.url(), "--as-of", NOW.isoformat(),
                 "--move-to", "Registrert"])

    assert code == 0
    assert "INBOX/1" in capsys.readouterr().out
    assert Request.objects.count() == 1
    assert set(_by_subject(imap_server, "Registrert")) == {"Personvern: innsyn"}
    settings.PERSONVERN_INTAKE_IMAP_PASSWORD = "feil"
    assert main(["rights", "intake", imap_server.url()]) == 2
    assert "refused the login" in capsys.readouterr().err


@pytest.mark.req("R21")
def test_a_message_with_malware_stays_in_the_inbox_run_after_run(imap_server, clamd):
    from tests.rights.test_intake_scanning import _with_attachment
    from tests.scanning import eicar

    imap_server.append(_with_attachment(b"%PDF-1.7\n" + eicar(), filename="faktura.pdf"))
    for _run in range(2):
        report = intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR,
                             now=NOW, move_to="Registrert")
        assert report.items[0].outcome in (Outcome.CREATED, Outcome.ALREADY_TAKEN)
        assert set(_by_subject(imap_server)) == {"Personvern: innsyn"}
        assert _by_subject(imap_server, "Registrert") == {}
    assert Request.objects.count() == 1


@pytest.mark.req("R32")
@pytest.mark.parametrize("imap_server", ["IMAP4rev1 UIDPLUS"], indirect=True)
def test_without_move_only_the_registered_messages_are_expunged(imap_server):
    imap_server.append(message())
    imap_server.append(message(subject="Slettet av en kollega", message_id="<z9@x.no>"))
    with imap_server.connect() as client:  # a colleague marked it deleted, not yet expunged
        client.select("INBOX")
        client.store("2", "+FLAGS", "(\\Deleted)")

    intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR, now=NOW,
                move_to="Registrert")

    assert set(_by_subject(imap_server, "Registrert")) == {"Personvern: innsyn"}
    left = _by_subject(imap_server)
    assert set(left) == {"Slettet av en kollega"}  # still there to be undeleted
    assert "\\Deleted" in left["Slettet av en kollega"]


@pytest.mark.parametrize("imap_server", ["IMAP4rev1"], indirect=True)
def test_a_server_that_cannot_move_safely_is_refused(imap_server):
    imap_server.append(message())
    with pytest.raises(IMAPIntakeError, match="neither MOVE nor"):
        intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR, now=NOW,
                    move_to="Registrert")
    assert set(_by_subject(imap_server)) == {"Personvern: innsyn"}
