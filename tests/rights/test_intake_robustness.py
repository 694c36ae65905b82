"""E-mail intake of awkward messages (issue 7, defects 3.1 and 3.9), .eml, maildir and IMAP.

Each message is its own unit: one the database would refuse (a NUL in its
Subject) is registered without the NUL or, failing that, reported and skipped,
and never stops the others. A From with several addresses links to nobody; a
Date that cannot be right falls back to the time of receipt; addresses with
æ, ø or å are read as the UTF-8 they are (RFC 6532).
"""

from __future__ import annotations

import mailbox
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import DataError

from personvern.core.models import EmailIdentity, Person
from personvern.rights.intake import Outcome, intake_imap, intake_path, registration
from personvern.rights.models import Request, RequestStatus, RequestType

from .test_intake import ACTOR, NOW, message, write

pytestmark = pytest.mark.django_db

ARRIVED = datetime(2025, 3, 7, 8, 30, tzinfo=UTC)


def _arrived(path: Path, when: datetime = ARRIVED) -> Path:
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _with_nul_subject(message_id: str = "<nul@x.no>") -> bytes:
    # Written raw: EmailMessage refuses to build such a header.
    return message(subject="Personvern: innsyn XNULX", message_id=message_id).replace(
        b"XNULX", b"\x00 takk"
    )


def _surrogates(text: str) -> bool:
    """Whether ``text`` holds undecoded bytes (shown as '\\udcc3…')."""
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@pytest.fixture
def refusing_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refuses any request whose notes say "refused" (whatever the cause)."""
    real_create = registration.request_create

    def refusing(**kwargs: object) -> Request:
        if "refused" in str(kwargs["notes"]):
            raise DataError("value refused by the database")
        return real_create(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(registration, "request_create", refusing)


def _raw(headers: str, body: str = "Jeg ber om innsyn.") -> bytes:
    """A message written as bytes, its headers in raw UTF-8 as RFC 6532 allows."""
    return (headers.strip() + "\r\n\r\n" + body + "\r\n").encode("utf-8")


# --- 3.1: a message the database refuses ----------------------------------------------


@pytest.mark.req("R32")
def test_a_nul_in_the_subject_is_left_out_and_every_message_is_registered(
    tmp_path: Path,
) -> None:
    write(tmp_path, "a.eml", message(message_id="<a@x.no>"))
    write(tmp_path, "b-nul.eml", _with_nul_subject())
    write(tmp_path, "c.eml", message("Personvern: slett meg", "Slett meg.", message_id="<c@x>"))

    report = intake_path(tmp_path, actor=ACTOR, now=NOW)

    assert {item.source: item.outcome for item in report.items} == {
        "a.eml": Outcome.CREATED,
        "b-nul.eml": Outcome.CREATED,
        "c.eml": Outcome.CREATED,
    }
    nul = Request.objects.get(public_id=report.items[1].request_id)
    assert "\x00" not in nul.notes
    assert "Personvern: innsyn  takk" in nul.notes
    assert "control characters" in nul.notes
    assert Request.objects.count() == 3
    # And the next run finds all three taken, rather than stopping at the bad one.
    again = intake_path(tmp_path, actor=ACTOR, now=NOW)
    assert [item.outcome for item in again.items] == [Outcome.ALREADY_TAKEN] * 3


@pytest.mark.req("R32")
def test_a_nul_in_a_maildir_message_does_not_stop_the_others(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(mailbox.MaildirMessage(_with_nul_subject()))
    box.add(mailbox.MaildirMessage(message(message_id="<ok@x.no>")))

    report = intake_path(tmp_path / "Maildir", actor=ACTOR, now=NOW)

    assert [item.outcome for item in report.items] == [Outcome.CREATED] * 2
    assert not any("\x00" in notes for notes in Request.objects.values_list("notes", flat=True))


@pytest.mark.req("R32")
@pytest.mark.usefixtures("refusing_database")
def test_a_message_whose_registration_fails_is_reported_by_file_and_skipped(
    tmp_path: Path,
) -> None:
    # Whatever else the database may refuse: the failure is the message's alone.
    write(tmp_path, "a.eml", message(message_id="<a@x.no>"))
    write(tmp_path, "b.eml", message(subject="Personvern: refused", message_id="<b@x.no>"))
    write(tmp_path, "c.eml", message(message_id="<c@x.no>"))

    report = intake_path(tmp_path, actor=ACTOR, now=NOW)

    outcomes = {item.source: item for item in report.items}
    assert outcomes["a.eml"].outcome == outcomes["c.eml"].outcome == Outcome.CREATED
    assert outcomes["b.eml"].outcome == Outcome.FAILED
    assert "DataError: value refused by the database" in outcomes["b.eml"].notes[0]
    assert report.has_problems
    assert Request.objects.count() == 2
    assert Person.objects.count() == 1  # nothing of the failed message was written


@pytest.mark.req("R32")
@pytest.mark.usefixtures("refusing_database")
def test_imap_a_nul_in_the_subject_and_a_failure_are_reported_by_uid(imap_server) -> None:  # type: ignore[no-untyped-def]
    # An encoded word decodes to a NUL: the form a NUL takes through IMAP.
    imap_server.append(
        message(message_id="<n@x.no>").replace(
            b"Subject: Personvern: innsyn", b"Subject: =?utf-8?q?Personvern=3A_innsyn=00?="
        )
    )
    imap_server.append(message(subject="Personvern: refused", message_id="<r@x.no>"))
    imap_server.append(message(subject="Personvern: slett meg", body="Slett meg.",
                               message_id="<s@x.no>"))

    report = intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR,
                         now=NOW, move_to="Registrert")

    assert {item.source: item.outcome for item in report.items} == {
        "INBOX/1": Outcome.CREATED,
        "INBOX/2": Outcome.FAILED,
        "INBOX/3": Outcome.CREATED,
    }
    assert set(Request.objects.values_list("type", flat=True)) == {"access", "erasure"}
    assert not any("\x00" in notes for notes in Request.objects.values_list("notes", flat=True))
    # The failed one stays in the inbox for the next run; the others were moved.
    [(_flags, left)] = imap_server.messages()
    assert b"Personvern: refused" in left
    assert len(imap_server.messages("Registrert")) == 2


# --- 3.9: several senders, a Date that cannot be right, æ/ø/å in addresses ----------


@pytest.mark.req("R32")
def test_several_from_addresses_register_a_request_linked_to_nobody(tmp_path: Path) -> None:
    eml = write(tmp_path, "two.eml",
                message(sender="Kari <kari@example.no>, Ola <ola@example.no>"))

    report = intake_path(eml, actor=ACTOR, now=NOW)

    [item] = report.items
    assert item.outcome == Outcome.CREATED and item.unlinked
    assert report.has_problems  # staff must find out whose request it is
    request = Request.objects.get()
    assert request.person is None and request.status == RequestStatus.PENDING
    assert request.received_at == datetime(2025, 3, 5, 9, 15, tzinfo=UTC)  # the deadline runs
    assert "kari@example.no, ola@example.no" in request.notes
    assert "not linked to anyone" in request.notes
    assert not Person.objects.exists()


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    "written",
    ["Mon, 01 Jan 0000 10:00:00 +0000", "Thu, 01 Jan 1903 10:00:00 +0000", "den femte mars",
     "Wed, 04 Jun 2025 10:00:00 +0200"],
    ids=["year-0000", "year-1903", "unparseable", "after-arrival"],
)
def test_a_date_that_cannot_be_right_falls_back_to_the_time_of_receipt(
    tmp_path: Path, written: str
) -> None:
    raw = message().replace(b"Wed, 05 Mar 2025 10:15:00 +0100", written.encode())
    eml = _arrived(write(tmp_path, "dated.eml", raw))

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.outcome == Outcome.CREATED
    assert item.received_at == ARRIVED
    request = Request.objects.get()
    assert request.received_at == ARRIVED
    assert request.due_legal.isoformat() == "2025-04-07"  # 7 March + one month, a Monday
    assert repr(written) in request.notes and "when the message was received" in request.notes
    assert any(repr(written) in note for note in item.notes)


@pytest.mark.req("R32")
def test_imap_a_year_0000_date_counts_from_when_the_server_received_it(imap_server) -> None:  # type: ignore[no-untyped-def]
    import imaplib
    import time

    with imap_server.connect() as client:
        client.append("INBOX", None, imaplib.Time2Internaldate(time.mktime(ARRIVED.timetuple())
                                                                - time.timezone),
                      message().replace(b"Wed, 05 Mar 2025", b"Sat, 01 Jan 0000"))

    [item] = intake_imap(imap_server.url(), password=imap_server.password, actor=ACTOR,
                         now=NOW).items

    assert item.outcome == Outcome.CREATED
    assert Request.objects.get().received_at == ARRIVED


@pytest.mark.req("R32")
def test_an_idn_domain_with_aeoeaa_is_read_as_utf8_and_accepted(tmp_path: Path) -> None:
    eml = write(tmp_path, "idn.eml", _raw("""
From: Kåre Ås <kare@blåbær.no>
To: juspost@jus.no
Subject: Personvern: innsyn for Kåre
Date: Wed, 05 Mar 2025 10:15:00 +0100
Message-ID: <idn@blåbær.no>
"""))

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.outcome == Outcome.CREATED, item.notes
    request = Request.objects.get()
    assert request.person is not None
    assert EmailIdentity.objects.get().address == "kare@xn--blbr-roah.no"
    assert "Personvern: innsyn for Kåre" in request.notes
    assert not _surrogates(request.notes)


@pytest.mark.req("R32")
def test_a_non_ascii_local_part_is_registered_unlinked_with_a_readable_note(
    tmp_path: Path,
) -> None:
    eml = write(tmp_path, "local.eml", _raw("""
From: Øystein <øystein@example.no>
Subject: Personvern: sletting
Date: Wed, 05 Mar 2025 10:15:00 +0100
Message-ID: <local@example.no>
""", "Slett alt om meg."))

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.outcome == Outcome.CREATED and item.unlinked
    assert item.request_type == RequestType.ERASURE
    note = " ".join(item.notes)
    assert "øystein@example.no" in note and not _surrogates(note)
    request = Request.objects.get()
    assert request.person is None and "øystein@example.no" in request.notes


@pytest.mark.req("R32")
def test_a_sender_that_is_no_address_at_all_is_still_refused_readably(tmp_path: Path) -> None:
    eml = write(tmp_path, "bad.eml", _raw("""
From: Åse på hytta
Subject: Personvern: innsyn
Date: Wed, 05 Mar 2025 10:15:00 +0100
"""))

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.outcome == Outcome.MALFORMED
    assert "Åse på hytta" in item.notes[0] and not _surrogates(item.notes[0])
    assert not Request.objects.exists()


@pytest.mark.req("R32")
@pytest.mark.usefixtures("refusing_database")
def test_the_intake_job_shows_as_failed_while_a_message_cannot_be_registered(  # type: ignore[no-untyped-def]
    imap_server, settings
) -> None:
    """The message is tried again next run, but its deadline runs: the officer must see it."""
    from personvern.worker.models import JobRunState
    from personvern.worker.runner import job_statuses, run_now

    settings.PERSONVERN_INTAKE_IMAP_URL = imap_server.url()
    settings.PERSONVERN_INTAKE_IMAP_PASSWORD = imap_server.password
    imap_server.append(message(subject="Personvern: refused", message_id="<r@x.no>"))
    imap_server.append(message(message_id="<ok@x.no>"))

    run = run_now("rights-intake", now=NOW)

    assert run.state == JobRunState.FAILED
    assert run.error == "1 message(s) could not be registered"
    assert (run.counts["registered"], run.counts["failed"]) == (1, 1)
    assert {s.job.name: s.health for s in job_statuses()}["rights-intake"] == "failed"
