"""E-mail intake scans every part of a marked message for malware (R21)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from pytest_django.fixtures import Settings

from personvern.cli import main
from personvern.core.models import AuditEntry
from personvern.rights.intake import Outcome, intake_path
from personvern.rights.models import Request
from tests.scanning import SIGNATURE, eicar

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=ZoneInfo("Europe/Oslo"))
ACTOR = "staff:test"
pytestmark = [pytest.mark.django_db, pytest.mark.req("R21")]


def _with_attachment(content: bytes, filename: str = "skjema.pdf") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Kari Nordmann <kari@example.no>"
    msg["To"] = "juspost@jus.no"
    msg["Subject"] = "Personvern: innsyn"
    msg["Date"] = "Wed, 05 Mar 2025 10:15:00 +0100"
    msg["Message-ID"] = "<scan1@mail.example.no>"
    msg.set_content("Jeg ber om innsyn. Skjemaet ligger ved.")
    msg.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    return bytes(msg)


def test_a_clean_message_is_taken_and_every_part_audited_clean(
    clamd: str, tmp_path: Path
) -> None:
    eml = tmp_path / "innsyn.eml"
    eml.write_bytes(_with_attachment(b"%PDF-1.7 skjema"))
    [item] = intake_path(eml, actor=ACTOR, now=NOW).items
    assert item.outcome == Outcome.CREATED and item.infected == ()
    request = Request.objects.get()
    verdicts = AuditEntry.objects.filter(action="file.scan_clean")
    assert sorted(e.data["part"] for e in verdicts) == [0, 1]
    assert {e.data["request"] for e in verdicts} == {str(request.public_id)}
    assert all(e.data["channel"] == "e-mail-intake" for e in verdicts)


def test_an_infected_attachment_is_dropped_and_the_request_registered_all_the_same(
    clamd: str, tmp_path: Path
) -> None:
    eml = tmp_path / "innsyn.eml"
    eml.write_bytes(_with_attachment(b"%PDF-1.7\n" + eicar(), filename="faktura.pdf"))
    with translation.override("en"):
        report = intake_path(eml, actor=ACTOR, now=NOW)
    [item] = report.items
    assert item.outcome == Outcome.CREATED  # the deadline runs from receipt regardless
    assert item.infected == ("“faktura.pdf”",)
    assert report.has_problems  # so a cron run's exit status draws attention
    [note] = [n for n in item.notes if "malware" in n]
    assert "faktura.pdf" in note and SIGNATURE in note and "Do not open" in note
    request = Request.objects.get()
    assert request.public_id == item.request_id
    assert "faktura.pdf" in request.notes and SIGNATURE in request.notes
    infected = AuditEntry.objects.get(action="file.scan_infected")
    assert infected.data["part"] == 1 and infected.data["signature"].startswith(SIGNATURE)
    assert infected.subject == request.subject
    assert "faktura" not in str(infected.data)
    assert AuditEntry.objects.get(action="file.scan_clean").data["part"] == 0


def test_an_attachment_too_large_to_scan_is_not_taken_in_but_the_request_is_registered(
    clamd: str, tmp_path: Path
) -> None:
    # Larger than the test clamd's StreamMaxLength (30M): it can never be scanned, so
    # waiting for the next run would never register the request (its deadline runs).
    eml = tmp_path / "stor.eml"
    eml.write_bytes(_with_attachment(b"%PDF-1.7\n" + b"a" * (31 * 1024 * 1024),
                                     filename="stor.pdf"))
    with translation.override("en"):
        report = intake_path(eml, actor=ACTOR, now=NOW)
        again = intake_path(eml, actor=ACTOR, now=NOW)
    [item] = report.items
    assert item.outcome == Outcome.CREATED
    assert item.infected == ("“stor.pdf”",) and report.has_problems
    [note] = [n for n in item.notes if "too large" in n]
    assert "stor.pdf" in note and "Do not open" in note
    assert "too large" in Request.objects.get().notes
    assert [i.outcome for i in again.items] == [Outcome.ALREADY_TAKEN]


def test_with_the_scanner_down_the_message_waits_for_the_next_run(
    clamd_url: str, settings: Settings, tmp_path: Path
) -> None:
    settings.PERSONVERN_ENV = "production"
    settings.PERSONVERN_CLAMD_URL = f"unix://{tmp_path}/down.sock"
    eml = tmp_path / "innsyn.eml"
    eml.write_bytes(_with_attachment(b"%PDF-1.7 skjema"))
    assert main(["rights", "intake", str(eml), "--as-of", NOW.isoformat()]) == 1
    [item] = intake_path(eml, actor=ACTOR, now=NOW).items
    assert item.outcome == Outcome.NOT_SCANNED
    assert not Request.objects.exists()
    assert AuditEntry.objects.filter(action="file.scan_error").exists()

    settings.PERSONVERN_CLAMD_URL = clamd_url
    [item] = intake_path(eml, actor=ACTOR, now=NOW).items
    assert item.outcome == Outcome.CREATED
    assert Request.objects.get().received_at.isoformat() == "2025-03-05T09:15:00+00:00"
