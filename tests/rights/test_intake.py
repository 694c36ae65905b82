"""E-mail intake (R5, R32): .eml files, directories and maildirs become requests."""

from __future__ import annotations

import mailbox
import os
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from personvern.cli import main
from personvern.core.models import AuditEntry, EmailIdentity, Person
from personvern.core.selectors import person_by_email
from personvern.rights.intake import Outcome, guess_type, intake_path
from personvern.rights.models import Channel, Request, RequestStatus, RequestType
from personvern.rights.selectors import request_list
from personvern.rights.services import request_classify

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=OSLO)
ACTOR = "staff:test"
pytestmark = pytest.mark.django_db


def message(
    subject: str = "Personvern: innsyn",
    body: str = "Jeg ber om innsyn i opplysningene dere har om meg.",
    *,
    sender: str | None = "Kari Nordmann <kari@example.no>",
    date: str | None = "Wed, 05 Mar 2025 10:15:00 +0100",
    message_id: str | None = "<a1@mail.example.no>",
    html: str | None = None,
) -> bytes:
    msg = EmailMessage()
    if sender is not None:
        msg["From"] = sender
    msg["To"] = "juspost@jus.no"
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = date
    if message_id is not None:
        msg["Message-ID"] = message_id
    if html is not None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body)
    return bytes(msg)


def write(directory: Path, name: str, content: bytes) -> Path:
    path = directory / name
    path.write_bytes(content)
    return path


def outcomes(report: object) -> dict[str, Outcome]:
    return {item.source: item.outcome for item in report.items}  # type: ignore[attr-defined]


@pytest.mark.req("R5")
@pytest.mark.req("R32")
def test_marked_message_becomes_a_request_received_at_its_date(tmp_path: Path) -> None:
    eml = write(tmp_path, "innsyn.eml", message())

    report = intake_path(eml, actor=ACTOR, now=NOW)

    [item] = report.items
    assert item.outcome == Outcome.CREATED
    assert item.request_type == RequestType.ACCESS
    assert item.request_id is not None
    request = Request.objects.get(public_id=item.request_id)
    assert request.type == RequestType.ACCESS
    assert request.channel == Channel.EMAIL
    assert request.received_at == datetime(2025, 3, 5, 10, 15, tzinfo=OSLO)
    # The deadline runs from receipt: 2025-03-05 -> strict 04-05, legal Monday 04-07.
    assert (request.due_strict.isoformat(), request.due_legal.isoformat()) == (
        "2025-04-05",
        "2025-04-07",
    )
    assert request.person == person_by_email("kari@example.no")
    assert request.created_at == NOW
    assert AuditEntry.objects.filter(action="rights.request.created", actor=ACTOR).count() == 1


@pytest.mark.req("R32")
def test_rerunning_intake_takes_nothing_twice(tmp_path: Path) -> None:
    write(tmp_path, "one.eml", message())
    write(tmp_path, "two.eml", message("PERSONVERN - sletting", "Slett meg.", message_id="<b2@x>"))

    first = intake_path(tmp_path, actor=ACTOR, now=NOW)
    second = intake_path(tmp_path, actor=ACTOR, now=NOW)

    assert first.count(Outcome.CREATED) == 2
    assert outcomes(second) == {"one.eml": Outcome.ALREADY_TAKEN, "two.eml": Outcome.ALREADY_TAKEN}
    assert Request.objects.count() == 2
    assert set(Request.objects.values_list("type", flat=True)) == {"access", "erasure"}


@pytest.mark.req("R5")
@pytest.mark.req("R32")
def test_directory_reports_every_message_and_creates_only_good_marked_ones(
    tmp_path: Path,
) -> None:
    erasure = message("Personvern", "Please delete my data.", message_id="<1@x>")
    write(tmp_path, "a-erasure.eml", erasure)
    write(tmp_path, "b-course.eml", message("Påmelding til kurs", "Jeg vil melde meg på."))
    write(tmp_path, "c-no-from.eml", message(sender=None, message_id="<3@x>"))
    write(tmp_path, "d-bad-from.eml", message(sender="kari at example", message_id="<4@x>"))
    # Written raw: EmailMessage itself would drop a date it cannot parse.
    bad_date = message(message_id="<5@x>").replace(
        b"Wed, 05 Mar 2025 10:15:00 +0100", b"den femte mars"
    )
    bad_date_file = write(tmp_path, "e-bad-date.eml", bad_date)
    arrived = datetime(2025, 3, 7, 8, 30, tzinfo=UTC).timestamp()
    os.utime(bad_date_file, (arrived, arrived))
    write(tmp_path, "f-garbage.eml", b"\x00\x01 this is no e-mail at all")
    write(tmp_path, "g-ambiguous.eml", message(body="Innsyn, og så sletting.", message_id="<7@x>"))
    write(tmp_path, "h-unnamed.eml", message("Personvern", "Hei, et spørsmål.", message_id="<8@x>"))
    write(tmp_path, "notes.txt", message(message_id="<9@x>"))  # not an .eml: not read

    report = intake_path(tmp_path, actor=ACTOR, now=NOW)

    assert outcomes(report) == {
        "a-erasure.eml": Outcome.CREATED,
        "b-course.eml": Outcome.NOT_MARKED,
        "c-no-from.eml": Outcome.MALFORMED,
        "d-bad-from.eml": Outcome.MALFORMED,
        # Dated from when it arrived, with a note (a bad Date must not lose the request).
        "e-bad-date.eml": Outcome.CREATED,
        "f-garbage.eml": Outcome.MALFORMED,
        "g-ambiguous.eml": Outcome.CREATED_UNCLASSIFIED,
        "h-unnamed.eml": Outcome.CREATED_UNCLASSIFIED,
    }
    notes = {item.source: " ".join(item.notes) for item in report.items}
    assert "From" in notes["c-no-from.eml"]
    assert "kari at example" in notes["d-bad-from.eml"]
    assert "den femte mars" in notes["e-bad-date.eml"]
    assert "access" in notes["g-ambiguous.eml"] and "erasure" in notes["g-ambiguous.eml"]
    assert report.has_problems
    # The erasure, the access request with the bad date, and the two whose right
    # staff must still name.
    assert sorted(Request.objects.values_list("type", flat=True)) == [
        RequestType.ACCESS,
        RequestType.ERASURE,
        RequestType.UNCLASSIFIED,
        RequestType.UNCLASSIFIED,
    ]
    # Only the sender of the registered requests became a person.
    assert list(EmailIdentity.objects.values_list("address", flat=True)) == ["kari@example.no"]


@pytest.mark.req("R32")
def test_message_without_date_falls_back_to_file_time_and_says_so(tmp_path: Path) -> None:
    eml = write(tmp_path, "undated.eml", message(date=None))
    mtime = datetime(2025, 2, 27, 8, 0, tzinfo=UTC).timestamp()
    os.utime(eml, (mtime, mtime))

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.outcome == Outcome.CREATED
    assert item.received_at == datetime(2025, 2, 27, 8, 0, tzinfo=UTC)
    assert any("Date" in note for note in item.notes)
    assert Request.objects.get().received_at == datetime(2025, 2, 27, 8, 0, tzinfo=UTC)


@pytest.mark.req("R32")
def test_minus_zero_date_is_utc_and_missing_message_id_uses_content(tmp_path: Path) -> None:
    eml = write(
        tmp_path, "x.eml", message(date="Wed, 05 Mar 2025 10:15:00 -0000", message_id=None)
    )

    [first] = intake_path(eml, actor=ACTOR, now=NOW).items
    [second] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert first.outcome == Outcome.CREATED
    assert first.received_at == datetime(2025, 3, 5, 10, 15, tzinfo=UTC)
    assert any("Message-ID" in note for note in first.notes)
    assert second.outcome == Outcome.ALREADY_TAKEN


@pytest.mark.req("R32")
def test_message_dated_in_the_future_counts_from_its_arrival(tmp_path: Path) -> None:
    eml = write(
        tmp_path,
        "future.eml",
        message(sender="ny@example.no", date="Mon, 02 Jun 2025 09:00:00 +0200"),
    )
    arrived = datetime(2025, 3, 7, 8, 30, tzinfo=UTC)
    os.utime(eml, (arrived.timestamp(), arrived.timestamp()))

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.outcome == Outcome.CREATED
    assert item.received_at == arrived
    assert "Mon, 02 Jun 2025 09:00:00 +0200" in " ".join(item.notes)


@pytest.mark.req("R32")
def test_message_that_arrived_in_the_future_is_malformed_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    # Only with a clock set back (--as-of): the file itself is newer than "now".
    eml = write(tmp_path, "future.eml", message(sender="ny@example.no", date=None))
    arrived = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    os.utime(eml, (arrived.timestamp(), arrived.timestamp()))

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.outcome == Outcome.MALFORMED
    assert "future" in " ".join(item.notes)
    # Nothing half-created: neither the request nor the person of the sender.
    assert not Request.objects.exists()
    assert not Person.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.req("R5")
@pytest.mark.req("R32")
def test_maildir_new_and_cur_are_read_and_left_untouched(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(mailbox.MaildirMessage(message("Personvern: protest", "Jeg protesterer.")))
    seen = mailbox.MaildirMessage(
        message("Re: Personvern", "Please restrict processing.", message_id="<m2@x>")
    )
    seen.set_subdir("cur")
    seen.add_flag("S")
    box.add(seen)
    box.add(mailbox.MaildirMessage(message("Nyhetsbrev", "Hei", message_id="<m3@x>")))
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "Maildir").rglob("*"))

    report = intake_path(tmp_path / "Maildir", actor=ACTOR, now=NOW)

    assert sorted(item.outcome.value for item in report.items) == [
        "created",
        "created",
        "not-marked",
    ]
    names = [item.source for item in report.items]
    assert sum(name.startswith("new/") for name in names) == 2
    [cur] = [name for name in names if name.startswith("cur/")]
    assert cur.endswith(":2,S")
    assert set(Request.objects.values_list("type", flat=True)) == {"objection", "restriction"}
    after = sorted(p.relative_to(tmp_path) for p in (tmp_path / "Maildir").rglob("*"))
    assert after == before


@pytest.mark.req("R32")
def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    eml = write(tmp_path, "innsyn.eml", message())

    report = intake_path(eml, actor=ACTOR, now=NOW, dry_run=True)

    [item] = report.items
    assert report.dry_run and item.outcome == Outcome.CREATED and item.request_id is None
    assert not Request.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.req("R5")
@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_message_naming_no_right_becomes_an_unclassified_request_in_the_work_list(
    tmp_path: Path,
) -> None:
    eml = write(tmp_path, "unclear.eml", message("Personvern", "Hei, et spørsmål om dere."))

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.outcome == Outcome.CREATED_UNCLASSIFIED
    assert item.request_type == RequestType.UNCLASSIFIED
    assert any("personvern rights classify" in note for note in item.notes)
    request = Request.objects.get(public_id=item.request_id)
    assert request.type == RequestType.UNCLASSIFIED
    assert request.status == RequestStatus.PENDING
    assert request.channel == Channel.EMAIL
    assert request.person == person_by_email("kari@example.no")
    # Received at its Date header, and the deadline runs from then.
    assert request.received_at == datetime(2025, 3, 5, 10, 15, tzinfo=OSLO)
    assert (request.due_strict.isoformat(), request.due_legal.isoformat()) == (
        "2025-04-05",
        "2025-04-07",
    )
    # Staff find the message from the case: its subject and Message-ID.
    assert "a1@mail.example.no" in request.notes and "unclear.eml" in request.notes
    # In the back office's work list from the start.
    assert list(request_list(today=NOW.date())) == [request]
    assert list(request_list(type=RequestType.UNCLASSIFIED, today=NOW.date())) == [request]
    assert list(request_list(type=RequestType.ACCESS, today=NOW.date())) == []


@pytest.mark.req("R32")
def test_rerun_leaves_an_unclassified_request_alone_and_says_it_waits(tmp_path: Path) -> None:
    eml = write(tmp_path, "unclear.eml", message("Personvern", "Innsyn og sletting, takk."))
    [first] = intake_path(eml, actor=ACTOR, now=NOW).items

    # Even with --type: a message taken before is not re-typed by intake.
    [again] = intake_path(eml, actor=ACTOR, now=NOW, request_type="erasure").items

    assert first.outcome == Outcome.CREATED_UNCLASSIFIED
    assert "access" in " ".join(first.notes) and "erasure" in " ".join(first.notes)
    assert again.outcome == Outcome.ALREADY_TAKEN
    assert again.request_id == first.request_id
    assert any("personvern rights classify" in note for note in again.notes)
    request = Request.objects.get()
    assert request.type == RequestType.UNCLASSIFIED

    request_classify(request=request, type=RequestType.ERASURE, actor=ACTOR, now=NOW)
    [classified] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert classified.outcome == Outcome.ALREADY_TAKEN
    assert classified.request_type == RequestType.ERASURE
    assert not any("personvern rights classify" in note for note in classified.notes)


@pytest.mark.req("R32")
def test_type_option_forces_the_type_of_a_new_message(tmp_path: Path) -> None:
    eml = write(tmp_path, "unclear.eml", message("Personvern", "Hei, et spørsmål."))

    [item] = intake_path(eml, actor=ACTOR, now=NOW, request_type="rectification").items

    assert item.outcome == Outcome.CREATED
    assert Request.objects.get().type == RequestType.RECTIFICATION


@pytest.mark.req("R32")
def test_dry_run_of_an_unclear_message_writes_nothing(tmp_path: Path) -> None:
    eml = write(tmp_path, "unclear.eml", message("Personvern", "Hei, et spørsmål."))

    [item] = intake_path(eml, actor=ACTOR, now=NOW, dry_run=True).items

    assert item.outcome == Outcome.CREATED_UNCLASSIFIED and item.request_id is None
    assert not Request.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.req("R32")
def test_html_only_message_is_classified_by_its_text(tmp_path: Path) -> None:
    eml = write(
        tmp_path,
        "html.eml",
        message("Henvendelse om personvern", html="<p>Jeg ønsker <b>dataportabilitet</b>.</p>"),
    )

    [item] = intake_path(eml, actor=ACTOR, now=NOW).items

    assert item.request_type == RequestType.PORTABILITY


@pytest.mark.req("R32")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jeg ber om innsyn etter min rett til innsyn", ["access"]),
        ("Send me a copy of my data", ["access"]),
        ("Vennligst slett alle opplysninger", ["erasure"]),
        ("Right to be forgotten", ["erasure"]),
        ("Adressen er feil, kan dere rette den?", ["rectification"]),
        ("Please correct my name", ["rectification"]),
        ("Jeg ber om begrensning av behandlingen", ["restriction"]),
        ("Jeg reserverer meg mot markedsføring", ["objection"]),
        ("I object to profiling", ["objection"]),
        ("Kan dere overføre dataene til en annen leverandør?", ["portability"]),
        ("Et spørsmål om personvern", []),
        ("Innsyn og sletting", ["access", "erasure"]),
    ],
)
def test_guess_type(text: str, expected: list[str]) -> None:
    assert guess_type(text) == expected


@pytest.mark.req("R32")
def test_cli_prints_a_table_and_exits_1_when_staff_must_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "innsyn.eml", message())
    write(tmp_path, "bad.eml", message(sender=None, message_id="<z@x>"))
    write(tmp_path, "unclear.eml", message("Personvern", "Et spørsmål.", message_id="<u@x>"))

    dry = main(["rights", "intake", str(tmp_path), "--dry-run", "--as-of", NOW.isoformat()])
    assert not Request.objects.exists()
    code = main(["rights", "intake", str(tmp_path), "--as-of", NOW.isoformat()])
    out = capsys.readouterr().out
    again = main(["rights", "intake", str(tmp_path / "innsyn.eml"), "--as-of", NOW.isoformat()])

    assert dry == 1 and code == 1
    assert "innsyn.eml" in out and "bad.eml" in out and "unclear.eml" in out
    assert str(Request.objects.get(type=RequestType.UNCLASSIFIED).public_id) in out
    assert Request.objects.count() == 2
    assert again == 0
    assert main(["rights", "intake", str(tmp_path / "missing")]) == 2
