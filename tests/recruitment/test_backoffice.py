"""HR in the back office (R24, R27): hire, end the employment, notes and documents.

Through the real admin views with a logged-in HR user; every write goes through
the services and is audited; the retention engine (forecast and run, with
``as_of``) shows when a hired applicant's rule starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from personvern.core.models import AuditEntry
from personvern.core.roles import HR
from personvern.core.scanning import ScanStatus
from personvern.recruitment import services
from personvern.recruitment.models import Application, ApplicationDocument, ApplicationNote
from personvern.recruitment.services import DocumentUpload
from personvern.retention.engine import retention_forecast, retention_run

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 1, 6, 9, tzinfo=UTC)
OSLO = ZoneInfo("Europe/Oslo")
CV = DocumentUpload("cv", "cv.pdf", "application/pdf", b"%PDF-1.7 cv")


@pytest.fixture(autouse=True)
def _language_restored() -> Iterator[None]:
    """The admin's locale middleware leaves the request's language active in this thread."""
    language = translation.get_language()
    yield
    translation.activate(language)


def _hr() -> Client:
    user = User.objects.create_user("personal", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=HR))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _application() -> Application:
    position = services.position_create(title="Kursrådgiver", actor="hr", posted_at=T0)
    return services.application_receive(
        email="ansatt@example.no", given_name="Siv", family_name="Søker", source="direct",
        position=position, documents=[CV], actor="site", received_at=T0,
    )


def _url(name: str, *args: int) -> str:
    return reverse(f"admin:recruitment_application_{name}", args=args)


def _due(as_of: datetime) -> int:
    """Rows of applications the retention forecast would delete at ``as_of`` (hired rule)."""
    forecast = retention_forecast(as_of=as_of)
    lines = [line for line in forecast.lines if line.activity == "recruitment"
             and line.rule == "hired"]
    return sum(line.due_now for line in lines)


@pytest.mark.req("R27")
def test_hiring_in_the_back_office_starts_the_rule_only_when_the_employment_ends() -> None:
    application = _application()
    client = _hr()
    page = client.get(_url("change", application.pk))
    assert _url("hire", application.pk).encode() in page.content
    assert client.get(_url("hire", application.pk)).status_code == 200  # the confirmation
    assert client.post(_url("hire", application.pk)).status_code == 302
    application.refresh_from_db()
    assert application.status == "hired" and application.hired_at is not None
    position = application.position
    assert position is not None
    services.position_close_recruitment(position=position, actor="hr")

    # The recruitment is closed, but a hired applicant waits for the employment's end.
    years_later = application.hired_at + timedelta(days=3000)
    assert _due(years_later) == 0
    dry = retention_run(as_of=years_later, dry_run=True)
    assert [line.count for line in dry.lines if line.activity == "recruitment"] == [0] * len(
        [line for line in dry.lines if line.activity == "recruitment"])

    last_day = timezone.localdate() + timedelta(days=30)
    response = client.post(_url("end_employment", application.pk), {"last_day": last_day})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.employment_ended_at is not None
    assert timezone.localdate(application.employment_ended_at) == last_day
    evening = datetime.combine(last_day, time(20), tzinfo=OSLO)
    assert _due(evening) == 0  # the last day is not counted
    assert _due(evening + timedelta(hours=12)) == 1
    retention_run(as_of=evening + timedelta(hours=12))
    assert not Application.objects.filter(pk=application.pk).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"recruitment.application_status", "recruitment.employment_ended"} <= actions


@pytest.mark.req("R27")
def test_an_employment_is_ended_once_and_not_before_the_hiring() -> None:
    application = _application()
    client = _hr()
    # Not hired: there is nothing to end.
    assert client.post(_url("end_employment", application.pk),
                       {"last_day": "2026-06-30"}).status_code == 302
    application.refresh_from_db()
    assert application.employment_ended_at is None
    services.application_hire(application=application, actor="hr", now=T0 + timedelta(days=9))
    page = client.post(_url("end_employment", application.pk), {"last_day": "2025-01-01"})
    assert page.status_code == 200 and b"cannot end before the hiring" in page.content
    assert client.post(_url("end_employment", application.pk),
                       {"last_day": "2025-12-31"}).status_code == 302
    application.refresh_from_db()
    first_end = application.employment_ended_at
    client.post(_url("end_employment", application.pk), {"last_day": "2027-12-31"})
    application.refresh_from_db()
    assert application.employment_ended_at == first_end  # a running clock is not moved
    assert AuditEntry.objects.filter(action="recruitment.employment_ended").count() == 1


@pytest.mark.req("R24")
def test_a_note_is_added_on_the_application_page() -> None:
    application = _application()
    client = _hr()
    page = client.get(_url("change", application.pk))
    assert b'name="notes-2-0-text"' in page.content or b"-0-text" in page.content
    form = {
        # The management forms of the three inlines (documents, notes, new note).
        "documents-TOTAL_FORMS": "1", "documents-INITIAL_FORMS": "1",
        "documents-0-id": str(ApplicationDocument.objects.get().pk),
        "documents-0-application": str(application.pk),
        "notes-TOTAL_FORMS": "0", "notes-INITIAL_FORMS": "0",
        "notes-2-TOTAL_FORMS": "1", "notes-2-INITIAL_FORMS": "0",
        "notes-2-0-kind": "interview", "notes-2-0-text": "Godt intervju, sterk på kurs.",
        "notes-2-0-application": str(application.pk),
        "_continue": "1",
    }
    response = client.post(_url("change", application.pk), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    note = ApplicationNote.objects.get(application=application)
    assert (note.kind, note.text, note.written_by) == (
        "interview", "Godt intervju, sterk på kurs.", "staff:personal")
    entry = AuditEntry.objects.get(action="recruitment.note_added")
    assert entry.actor == "staff:personal" and entry.subject
    # The page lists it, and its form is empty again for the next note.
    assert "Godt intervju" in client.get(_url("change", application.pk)).content.decode()


@pytest.mark.req("R24")
@pytest.mark.parametrize("status", [ScanStatus.UNSCANNED, ScanStatus.INFECTED])
def test_a_document_not_found_clean_cannot_be_opened(status: str) -> None:
    application = _application()
    document = ApplicationDocument.objects.get(application=application)
    ApplicationDocument.objects.filter(pk=document.pk).update(scan_status=status)
    response = _hr().get(_url("document", application.pk, document.pk))
    assert response.status_code == 302
    assert not response.get("Content-Disposition")
    assert not AuditEntry.objects.filter(action="recruitment.document_opened").exists()


@pytest.mark.req("R24")
def test_a_clean_document_opens_as_an_attachment_and_the_access_is_audited() -> None:
    application = _application()
    document = ApplicationDocument.objects.get(application=application)
    ApplicationDocument.objects.filter(pk=document.pk).update(scan_status=ScanStatus.CLEAN)
    client = _hr()
    assert _url("document", application.pk, document.pk).encode() in client.get(
        _url("change", application.pk)).content
    response = client.get(_url("document", application.pk, document.pk))
    assert response.status_code == 200
    assert response.content == b"%PDF-1.7 cv"
    assert response["Content-Disposition"] == 'attachment; filename="cv.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = AuditEntry.objects.get(action="recruitment.document_opened")
    assert entry.actor == "staff:personal" and entry.subject
    # A document is opened only through its own application.
    other = services.application_receive(
        email="annen@example.no", source="direct", actor="site", received_at=T0
    )
    assert client.get(_url("document", other.pk, document.pk)).status_code == 404
