"""The mailbox sweep against a real Dovecot (tests/imap.py): R19 on the mail itself, R21."""

from __future__ import annotations

import email
import email.policy
import imaplib
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from pytest_django.fixtures import Settings

from personvern.cli import main
from personvern.core import services as core
from personvern.core.models import AuditEntry, Hold
from personvern.customers import services as customers
from personvern.inquiries import services as inquiries
from personvern.mailbox import services
from personvern.mailbox.models import Direction, MailboxState, MailMessage, ScanState
from personvern.mailbox.sweep import SweepConfig, mailbox_sweep
from personvern.worker.registry import JobContext, get
from tests.imap import IMAPTestServer
from tests.scanning import SIGNATURE, eicar

pytestmark = [pytest.mark.django_db, pytest.mark.req("R19")]

OLD = datetime(2024, 1, 10, 9, tzinfo=UTC)  # more than a year before NOW
RECENT = datetime(2025, 2, 1, 9, tzinfo=UTC)
EARLY = datetime(2024, 2, 1, 9, tzinfo=UTC)  # a run while OLD mail is still young
NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
ACTOR = "worker:mailbox-sweep"


def mail(sender: str, to: str = "anne@jus.no", *, subject: str = "Hei",
         message_id: str = "", attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Wed, 10 Jan 2024 10:00:00 +0100"
    msg["Message-ID"] = message_id or f"<{abs(hash((sender, to, subject)))}@example.no>"
    msg.set_content("Tekst som aldri lagres.")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf",
                           filename="faktura.pdf")
    return bytes(msg)


def deliver(server: IMAPTestServer, raw: bytes, at: datetime, folder: str = "INBOX") -> None:
    """Put a message in ``folder`` as received at ``at`` (its INTERNALDATE)."""
    with server.connect() as client:
        client.create(folder)
        status, data = client.append(folder, None, imaplib.Time2Internaldate(at), raw)
        assert status == "OK", data


def subjects(server: IMAPTestServer, folder: str = "INBOX") -> dict[str, set[str]]:
    found = {}
    for flags, raw in server.messages(folder):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        found[str(parsed["Subject"])] = flags
    return found


def config(server: IMAPTestServer, move_to: str = "") -> SweepConfig:
    return SweepConfig(urls=(server.url(),), password=server.password, move_to=move_to,
                       own_domains=frozenset({"jus.no"}))


def person(address: str):
    return core.person_get_or_create(email=address, actor="t", now=OLD)[0]


def current_customer(address: str) -> None:
    firma = customers.customer_create(name="Firma AS", kind="customer", actor="t",
                                      started_at=OLD)
    customers.contact_add(customer=firma, person=person(address), actor="t", now=OLD)


def test_old_mail_goes_unless_a_ground_keeps_it_and_the_rest_is_left(
    imap_server: IMAPTestServer,
) -> None:
    current_customer("kunde@firma.no")
    person("ola@example.no")
    person("held@example.no")
    person("ny@example.no")
    deliver(imap_server, mail("Kunde <kunde@firma.no>", subject="Kundepost"), OLD)
    deliver(imap_server, mail("Anne <anne@jus.no>", "kunde@firma.no", subject="Svar til kunde"),
            OLD)
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Gammel post"), OLD)
    deliver(imap_server, mail("Held <held@example.no>", subject="Holdt post"), OLD)
    deliver(imap_server, mail("Ukjent <ukjent@example.org>", subject="Ukjent gammel"), OLD)
    deliver(imap_server, mail("Ny <ny@example.no>", subject="Ny post"), RECENT)
    deliver(imap_server, mail("Ukjent <ukjent@example.org>", subject="Ukjent ny"), RECENT)

    # A run while the old mail is young records it and deletes nothing.
    first = mailbox_sweep(actor=ACTOR, now=EARLY, config=config(imap_server))
    assert first.total("deleted") == 0
    assert len(subjects(imap_server)) == 7
    # Staff keep one message, with a reason.
    held = MailMessage.objects.get(person__emails__address="held@example.no")
    services.mail_message_keep(message=held, reason="other", actor="staff:dpo", now=EARLY)

    report = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))

    left = subjects(imap_server)
    assert set(left) == {"Kundepost", "Svar til kunde", "Holdt post", "Ny post", "Ukjent ny"}
    assert all("\\Seen" not in flags for flags in left.values())  # read with BODY.PEEK
    [mailbox] = report.mailboxes
    assert (mailbox.deleted, mailbox.kept_by_ground, mailbox.kept_by_hold) == (2, 2, 1)
    # Rows: per known correspondent; the unknown sender's mail was never recorded.
    rows = MailMessage.objects.order_by("subject")
    assert [(r.subject, r.direction) for r in rows] == [
        ("Holdt post", Direction.IN), ("Kundepost", Direction.IN), ("Ny post", Direction.IN),
        ("Svar til kunde", Direction.OUT),
    ]
    assert {r.person.emails.get().address for r in rows if r.subject.endswith("kunde")} == {
        "kunde@firma.no"
    }
    assert all(r.mailbox == "personvern@127.0.0.1/INBOX" and r.uid for r in rows)
    assert not MailMessage.objects.filter(person__emails__address="ukjent@example.org").exists()
    # Every deletion audited, none with the subject; the unknown one without a person.
    deleted = AuditEntry.objects.filter(action="mail.deleted")
    assert deleted.count() == 2
    assert sorted(bool(e.subject) for e in deleted) == [False, True]
    assert all("post" not in str(e.data).lower() for e in deleted)
    assert {e.data["received"] for e in deleted} == {"2024-01-10"}
    assert not AuditEntry.objects.filter(data__icontains="Gammel").exists()


def test_a_ground_that_ends_lets_the_mail_go(imap_server: IMAPTestServer) -> None:
    inquiry = inquiries.inquiry_receive(email="kjoper@example.no", subject="Tilbud",
                                        message="Pris?", channel="account-manager",
                                        actor="t", received_at=OLD)
    deliver(imap_server, mail("Kjøper <kjoper@example.no>", subject="Tilbud på kurs"), OLD)

    mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    assert set(subjects(imap_server)) == {"Tilbud på kurs"}  # the sales process is open

    inquiries.inquiry_close(inquiry=inquiry, actor="t", now=NOW)
    report = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    assert subjects(imap_server) == {}
    assert report.total("deleted") == 1 and not MailMessage.objects.exists()


def test_a_lifted_hold_lets_the_mail_go(imap_server: IMAPTestServer) -> None:
    person("held@example.no")
    deliver(imap_server, mail("Held <held@example.no>", subject="Holdt"), OLD)
    mailbox_sweep(actor=ACTOR, now=EARLY, config=config(imap_server))
    message = MailMessage.objects.get()
    services.mail_message_keep(message=message, reason="customer", actor="staff:dpo", now=EARLY)
    mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    assert set(subjects(imap_server)) == {"Holdt"}
    services.mail_message_release(message=message, actor="staff:dpo", now=NOW)
    mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    assert subjects(imap_server) == {}
    assert AuditEntry.objects.filter(action="mail.released").exists()


@pytest.mark.req("R19")
def test_a_hold_on_a_correspondent_covers_mail_that_arrives_after_it(
    imap_server: IMAPTestServer,
) -> None:
    held = person("held@example.no")
    person("other@example.no")
    deliver(imap_server, mail("Held <held@example.no>", subject="Før holdet"), OLD)
    mailbox_sweep(actor=ACTOR, now=EARLY, config=config(imap_server))
    # Staff keep all mail of the correspondent (the back office's action).
    kept = services.mail_correspondents_keep(
        messages=MailMessage.objects.filter(person=held), reason="other", actor="staff:dpo",
        now=EARLY,
    )
    assert kept == 1
    # Mail that arrives afterwards, of the held correspondent and of another one.
    later = datetime(2024, 2, 5, 9, tzinfo=UTC)
    deliver(imap_server, mail("Held <held@example.no>", subject="Etter holdet"), later)
    deliver(imap_server, mail("Other <other@example.no>", subject="Annen"), later)
    mailbox_sweep(actor=ACTOR, now=datetime(2024, 2, 6, 9, tzinfo=UTC),
                  config=config(imap_server))
    after = MailMessage.objects.get(subject="Etter holdet")
    assert (after.keep_reason, after.keep_until) == ("other", None)

    # A year on, the other correspondent's mail goes; the held one's stays, all of it.
    report = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    assert set(subjects(imap_server)) == {"Før holdet", "Etter holdet"}
    assert report.total("deleted") == 1

    # Releasing mail kept that way ends the hold on the correspondent: later mail is not
    # kept, and what it kept before stays kept until released.
    services.mail_message_release(message=after, actor="staff:dpo", now=NOW)
    assert not Hold.objects.filter(object_id=held.pk, lifted_at__isnull=True,
                                   content_type__model="person").exists()
    deliver(imap_server, mail("Held <held@example.no>", subject="Etter slipp"), NOW)
    mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    assert MailMessage.objects.get(subject="Etter slipp").keep_reason == ""
    assert MailMessage.objects.get(subject="Før holdet").keep_reason == "other"
    report = mailbox_sweep(actor=ACTOR, now=datetime(2026, 3, 11, 12, tzinfo=UTC),
                           config=config(imap_server))
    assert set(subjects(imap_server)) == {"Før holdet"}


def test_a_message_filed_by_hand_is_kept_under_a_hold_on_its_correspondent() -> None:
    held = person("held@example.no")
    first = services.mail_message_record(person=held, direction="in", mailbox="anne@jus.no",
                                         subject="Første", actor="t", received_at=OLD)
    services.mail_correspondents_keep(messages=MailMessage.objects.filter(pk=first.pk),
                                      reason="partner", actor="staff:dpo", now=EARLY)

    second = services.mail_message_record(person=held, direction="out",
                                          mailbox="anne@jus.no", subject="Andre", actor="t",
                                          received_at=RECENT)
    other = services.mail_message_record(person=person("other@example.no"), direction="in",
                                         mailbox="anne@jus.no", subject="Annen", actor="t",
                                         received_at=RECENT)

    assert second.keep_reason == "partner" and other.keep_reason == ""
    from personvern.mailbox.selectors import kept_messages

    assert set(kept_messages()) == {first, second}


def test_move_to_a_folder_instead_of_deleting(imap_server: IMAPTestServer) -> None:
    person("ola@example.no")
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Gammel"), OLD)
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Ny"), RECENT)

    report = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server, "Slettes"))

    assert set(subjects(imap_server)) == {"Ny"}
    assert set(subjects(imap_server, "Slettes")) == {"Gammel"}
    assert report.total("deleted") == 1
    assert AuditEntry.objects.get(action="mail.deleted").data["moved_to"] == "Slettes"


@pytest.mark.parametrize("imap_server", ["IMAP4rev1 UIDPLUS"], indirect=True)
def test_move_without_the_move_command_copies_and_expunges_only_those(
    imap_server: IMAPTestServer,
) -> None:
    person("ola@example.no")
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Gammel"), OLD)
    deliver(imap_server, mail("Per <per@example.no>", subject="Merket slettet"), RECENT)
    with imap_server.connect() as client:  # staff marked one deleted, not yet expunged
        client.select("INBOX")
        client.store("2", "+FLAGS", "(\\Deleted)")

    mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server, "Slettes"))

    assert set(subjects(imap_server)) == {"Merket slettet"}
    assert set(subjects(imap_server, "Slettes")) == {"Gammel"}


def test_a_dry_run_changes_nothing(imap_server: IMAPTestServer) -> None:
    person("ola@example.no")
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Gammel"), OLD)
    deliver(imap_server, mail("Ukjent <ukjent@example.org>", subject="Ukjent"), OLD)
    audit_before = AuditEntry.objects.count()

    report = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server), dry_run=True)

    assert report.dry_run and report.total("deleted") == 2 and report.total("recorded") == 1
    assert set(subjects(imap_server)) == {"Gammel", "Ukjent"}
    assert not MailMessage.objects.exists() and not MailboxState.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_sweeping_again_changes_nothing_and_new_mail_is_recorded_once(
    imap_server: IMAPTestServer,
) -> None:
    person("ola@example.no")
    deliver(imap_server, mail("Ola <ola@example.no>", subject="En"), RECENT)
    mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    deliver(imap_server, mail("Ola <ola@example.no>", subject="To"), RECENT)

    again = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    third = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))

    assert (again.total("new"), again.total("recorded")) == (1, 1)
    assert (third.total("new"), third.total("recorded"), third.total("deleted")) == (0, 0, 0)
    assert sorted(MailMessage.objects.values_list("subject", flat=True)) == ["En", "To"]
    assert AuditEntry.objects.filter(action="mail.recorded").count() == 2
    assert MailboxState.objects.get().last_uid == 2


def test_a_row_whose_mail_staff_deleted_is_removed(imap_server: IMAPTestServer) -> None:
    person("ola@example.no")
    deliver(imap_server, mail("Ola <ola@example.no>", subject="En"), RECENT)
    mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))
    with imap_server.connect() as client:
        client.select("INBOX")
        client.store("1", "+FLAGS", "(\\Deleted)")
        client.expunge()

    report = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))

    assert report.total("gone") == 1 and not MailMessage.objects.exists()
    assert AuditEntry.objects.filter(action="mail.gone").count() == 1


@pytest.mark.req("R21")
def test_an_infected_attachment_flags_the_message_and_is_audited(
    imap_server: IMAPTestServer, clamd: str
) -> None:
    person("ola@example.no")
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Faktura",
                              attachment=b"%PDF-1.7\n" + eicar()), RECENT)
    deliver(imap_server, mail("Ukjent <ukjent@example.org>", subject="Ukjent faktura",
                              attachment=b"%PDF-1.7\n" + eicar()), RECENT)
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Ren",
                              attachment=b"%PDF-1.7 ren"), RECENT)

    report = mailbox_sweep(actor=ACTOR, now=NOW, config=config(imap_server))

    assert report.total("infected") == 2
    flags = subjects(imap_server)
    assert {"\\Flagged", "$Infected"} <= flags["Faktura"]
    assert {"\\Flagged", "$Infected"} <= flags["Ukjent faktura"]
    assert "$Infected" not in flags["Ren"]
    assert MailMessage.objects.get(subject="Faktura").scan == ScanState.INFECTED
    assert MailMessage.objects.get(subject="Ren").scan == ScanState.CLEAN
    found = AuditEntry.objects.filter(action="file.scan_infected")
    assert found.count() == 2
    assert all(e.data["signature"].startswith(SIGNATURE) for e in found)
    assert all("faktura" not in str(e.data).lower() for e in found)
    # Mail with malware is not kept beyond its time: the rule applies to it as to any.
    later = mailbox_sweep(actor=ACTOR, now=datetime(2026, 3, 1, tzinfo=UTC),
                          config=config(imap_server))
    assert later.total("deleted") == 3 and subjects(imap_server) == {}


def test_the_command_and_the_nightly_job(imap_server: IMAPTestServer, settings: Settings,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    settings.PERSONVERN_MAILBOX_IMAP_URLS = [imap_server.url()]
    settings.PERSONVERN_MAILBOX_IMAP_PASSWORD = imap_server.password
    person("ola@example.no")
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Gammel"), OLD)

    assert main(["mailbox", "sweep", "--as-of", "2025-03-10", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "personvern@127.0.0.1/INBOX" in out
    assert set(subjects(imap_server)) == {"Gammel"}
    assert main(["mailbox", "sweep", "--as-of", "2025-03-10"]) == 0
    assert subjects(imap_server) == {}

    job = get("mailbox-sweep")
    assert job.enabled()
    settings.PERSONVERN_MAILBOX_IMAP_URLS = []
    assert not job.enabled()


def test_a_wrong_password_is_a_clear_error(imap_server: IMAPTestServer, settings: Settings,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    settings.PERSONVERN_MAILBOX_IMAP_URLS = [imap_server.url()]
    settings.PERSONVERN_MAILBOX_IMAP_PASSWORD = "feil"
    assert main(["mailbox", "sweep"]) == 2
    assert "refused the login of 'personvern'" in capsys.readouterr().err
    assert not Hold.objects.exists()


def test_the_job_run_counts_what_it_did(imap_server: IMAPTestServer, settings: Settings) -> None:
    settings.PERSONVERN_MAILBOX_IMAP_URLS = [imap_server.url()]
    settings.PERSONVERN_MAILBOX_IMAP_PASSWORD = imap_server.password
    person("ola@example.no")
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Gammel"), OLD)
    deliver(imap_server, mail("Ola <ola@example.no>", subject="Ny"), RECENT)

    counts = get("mailbox-sweep").run(JobContext(now=NOW, job="mailbox-sweep"))

    assert (counts["new"], counts["recorded"], counts["deleted"]) == (2, 2, 1)
    assert set(subjects(imap_server)) == {"Ny"}
    assert AuditEntry.objects.filter(action="mail.deleted", actor=ACTOR).count() == 1


def test_a_renumbered_mailbox_finds_its_rows_again_by_message_id(
    imap_server: IMAPTestServer,
) -> None:
    person("ola@example.no")
    raw = mail("Ola <ola@example.no>", subject="Beholdt", message_id="<fast@example.no>")
    deliver(imap_server, raw, OLD, folder="Arkiv")
    url = imap_server.url("Arkiv")
    settings_ = SweepConfig(urls=(url,), password=imap_server.password,
                            own_domains=frozenset({"jus.no"}))
    mailbox_sweep(actor=ACTOR, now=EARLY, config=settings_)
    row = MailMessage.objects.get()
    services.mail_message_keep(message=row, reason="other", actor="staff:dpo", now=EARLY)
    with imap_server.connect() as client:  # the folder is rebuilt: a new UIDVALIDITY
        client.delete("Arkiv")
    deliver(imap_server, raw, OLD, folder="Arkiv")

    mailbox_sweep(actor=ACTOR, now=NOW, config=settings_)

    again = MailMessage.objects.get()
    assert again.pk == row.pk and again.uid_validity != row.uid_validity
    assert again.keep_reason == "other"
    assert set(subjects(imap_server, "Arkiv")) == {"Beholdt"}  # still held
