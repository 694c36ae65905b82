"""Recruitment (R24–R27): documents, notes, Finn.no import, and the three retention cohorts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from pytest_django.fixtures import Settings

from personvern.core.checks import check_holders
from personvern.core.models import AuditEntry, Person
from personvern.core.policy import current_policy
from personvern.core.registry import holder_of
from personvern.core.scanning import ScanStatus
from personvern.recruitment import finn, services
from personvern.recruitment.models import (
    Application,
    ApplicationDocument,
    ApplicationNote,
    Position,
)
from personvern.recruitment.services import DocumentUpload
from personvern.retention.engine import retention_run
from tests.scanning import SIGNATURE, eicar

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 1, 6, 9, tzinfo=UTC)
PDF = DocumentUpload("cv", "cv.pdf", "application/pdf", b"%PDF-1.7 cv")


def _position() -> Position:
    return services.position_create(title="Kursrådgiver", actor="hr", posted_at=T0)


def _apply(position: Position | None, email: str = "soker@example.no") -> Application:
    return services.application_receive(
        email=email,
        given_name="Siv",
        source="direct",
        position=position,
        letter="Jeg søker stillingen.",
        documents=[PDF],
        actor="site",
        received_at=T0,
    )


def _exists(application: Application) -> bool:
    return Application.objects.filter(pk=application.pk).exists()


@pytest.mark.req("R24")
def test_application_keeps_its_documents_and_interview_and_reference_notes() -> None:
    application = _apply(_position())
    services.application_note_add(
        application=application, kind="interview", text="Godt intervju.", actor="hr:kari"
    )
    services.application_note_add(
        application=application, kind="reference-check", text="Gode referanser.", actor="hr:kari"
    )
    document = ApplicationDocument.objects.get(application=application)
    assert (document.filename, bytes(document.content), document.size) == (
        "cv.pdf",
        b"%PDF-1.7 cv",
        11,
    )
    assert sorted(ApplicationNote.objects.values_list("kind", flat=True)) == [
        "interview",
        "reference-check",
    ]
    assert AuditEntry.objects.filter(action="recruitment.note_added").count() == 2


@pytest.mark.req("R24")
def test_a_document_of_an_unaccepted_type_is_refused_and_nothing_is_written() -> None:
    bad = DocumentUpload("cv", "cv.exe", "application/x-msdownload", b"MZ")
    with pytest.raises(ValidationError, match=r"document 2 \(cv.exe\)"):
        services.application_receive(
            email="a@example.no", source="direct", documents=[PDF, bad], actor="site"
        )
    assert not Application.objects.exists() and not Person.objects.exists()


@pytest.mark.req("R21")
@pytest.mark.req("R24")
def test_documents_are_scanned_clean_and_an_infected_one_is_refused(
    clamd: str, settings: Settings, tmp_path: Path
) -> None:
    application = _apply(None)
    document = ApplicationDocument.objects.get(application=application)
    assert document.scan_status == ScanStatus.CLEAN and document.scanned_at == T0
    clean = AuditEntry.objects.get(action="file.scan_clean")
    assert clean.data == {
        "channel": "recruitment", "verdict": "clean", "signature": "", "size": 11,
        "application": application.pk, "document": document.pk,
    }

    infected = DocumentUpload("diploma", "vitnemal.pdf", "application/pdf", b"%PDF-" + eicar())
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.application_receive(
            email="b@example.no", source="direct", documents=[PDF, infected], actor="site"
        )
    with translation.override("en"):
        [message] = exc.value.message_dict["documents"]
    assert "vitnemal.pdf" in message and "malware" in message and SIGNATURE in message
    assert Application.objects.count() == 1 and ApplicationDocument.objects.count() == 1
    assert not Person.objects.filter(emails__address="b@example.no").exists()
    refused = AuditEntry.objects.get(action="file.scan_infected")
    assert refused.data["channel"] == "recruitment" and refused.subject == ""

    settings.PERSONVERN_ENV = "production"
    settings.PERSONVERN_CLAMD_URL = f"unix://{tmp_path}/gone.sock"
    with pytest.raises(ValidationError, match="documents"):
        services.application_receive(
            email="c@example.no", source="direct", documents=[PDF], actor="site"
        )
    assert Application.objects.count() == 1


@pytest.mark.req("R25")
def test_applications_are_imported_from_a_finn_export_once() -> None:
    position = _position()
    export = (
        "finn_id,email,given_name,family_name,phone,received_at,letter\n"
        "F-1,a@example.no,Anne,A,,2025-01-07T10:00:00+01:00,Hei\n"
        "F-2,b@example.no,Bo,B,,2025-01-08T10:00:00+01:00,Hallo\n"
    )
    result = finn.applications_import_finn(text=export, position=position, actor="hr")
    assert (result.created, result.skipped) == (2, 0)
    assert set(Application.objects.values_list("source", "external_ref")) == {
        ("finn", "F-1"),
        ("finn", "F-2"),
    }
    again = finn.applications_import_finn(text=export, position=position, actor="hr")
    assert (again.created, again.skipped) == (0, 2)


@pytest.mark.req("R25")
def test_a_bad_finn_row_names_the_row_and_column_and_imports_nothing() -> None:
    export = (
        "finn_id,email,received_at\n"
        "F-1,a@example.no,2025-01-07T10:00:00+01:00\n"
        "F-2,b@example.no,i går\n"
    )
    with pytest.raises(ValidationError, match="finn.csv, row 3, column received_at"):
        finn.applications_import_finn(
            text=export, position=None, actor="hr", source_name="finn.csv"
        )
    assert not Application.objects.exists()


@pytest.mark.req("R26")
def test_recruitment_rests_on_pre_contract_steps_and_is_portable() -> None:
    activity = current_policy().activity("recruitment")
    assert activity.basis == "b" and activity.portable
    for model in (Application, ApplicationDocument, ApplicationNote):
        holder = holder_of(model)
        assert holder is not None and holder.portable


@pytest.mark.req("R27")
def test_open_application_is_deleted_210_days_after_receipt() -> None:
    application = _apply(None)
    services.application_note_add(application=application, kind="interview", text="x", actor="h")
    received_day = T0.date()
    # The 210 days end with received + 210 days (Reg. 1182/71 Art. 3); deleted the day after.
    retention_run(as_of=datetime.combine(received_day + timedelta(days=210), T0.timetz()))
    assert _exists(application)
    retention_run(as_of=datetime.combine(received_day + timedelta(days=211), T0.timetz()))
    assert not _exists(application)
    assert not ApplicationDocument.objects.exists() and not ApplicationNote.objects.exists()


@pytest.mark.req("R27")
def test_applications_for_a_position_go_when_its_recruitment_closes() -> None:
    position = _position()
    application = _apply(position)
    retention_run(as_of=T0 + timedelta(days=400))
    assert _exists(application)  # 210 days mean nothing while the process runs

    closed = T0 + timedelta(days=401)
    services.position_close_recruitment(position=position, actor="hr", now=closed)
    retention_run(as_of=closed + timedelta(hours=1))
    assert _exists(application)  # the closing day is not counted
    retention_run(as_of=closed + timedelta(days=1))
    assert not _exists(application)


@pytest.mark.req("R27")
def test_a_hired_applicant_is_kept_until_the_employment_ends() -> None:
    position = _position()
    hired = _apply(position, "ansatt@example.no")
    rejected = _apply(position, "avslag@example.no")
    services.application_set_status(application=hired, status="hired", actor="hr", now=T0)
    services.application_set_status(application=rejected, status="rejected", actor="hr", now=T0)
    services.position_close_recruitment(position=position, actor="hr", now=T0 + timedelta(days=1))

    retention_run(as_of=T0 + timedelta(days=2000))
    assert _exists(hired) and not _exists(rejected)

    ended = T0 + timedelta(days=2100)
    services.application_end_employment(application=hired, ended_at=ended, actor="hr")
    retention_run(as_of=ended + timedelta(hours=1))
    assert _exists(hired)  # the last day of employment is not counted
    retention_run(as_of=ended + timedelta(days=1))
    assert not _exists(hired)


def test_a_rejected_application_cannot_be_hired_later() -> None:
    application = _apply(None)
    services.application_set_status(application=application, status="rejected", actor="hr")
    with pytest.raises(ValidationError, match="cannot become"):
        services.application_set_status(application=application, status="hired", actor="hr")


def test_recruitment_holders_pass_the_system_check() -> None:
    models = (Application, ApplicationDocument, ApplicationNote)
    problems = [e for e in check_holders() if e.obj in models or "'recruitment'" in e.msg]
    assert problems == []
    # ... and the retention engine accepts every (rule, holder) target of the activity.
    report = retention_run(as_of=datetime(2030, 1, 1, tzinfo=UTC), dry_run=True)
    assert [r for r in report.refused if r.activity == "recruitment"] == []


@pytest.mark.req("R33")
@pytest.mark.req("R24")
def test_access_report_lists_the_application_its_documents_and_notes() -> None:
    from personvern.rights.engine import access_report

    application = _apply(_position())
    services.application_note_add(
        application=application, kind="interview", text="Godt intervju.", actor="hr"
    )
    data = access_report(application.person, lang="en").data["recruitment"]
    assert len(data["recruitment.Application"]) == 1
    assert "Jeg søker stillingen." in str(data["recruitment.Application"][0])
    assert "cv.pdf" in str(data["recruitment.ApplicationDocument"][0])
    assert "Godt intervju." in str(data["recruitment.ApplicationNote"][0])
