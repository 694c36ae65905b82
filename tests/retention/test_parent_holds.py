"""A row hold keeps the whole record: its parent's and its children's rows (R19, R31)."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.core.models import HoldScope
from personvern.core.services import hold_place
from personvern.recruitment.models import Application, ApplicationDocument, ApplicationNote
from personvern.recruitment.services import (
    DocumentUpload,
    application_note_add,
    application_receive,
)
from personvern.retention.engine import retention_forecast, retention_run

from .factories import ACTOR, at

pytestmark = pytest.mark.django_db

RECEIVED = at(date(2024, 1, 10), 9)
DUE = at(date(2024, 8, 8))  # the open-application rule's 210 days have run
REASON = "Klage til Diskrimineringsnemnda"


def _application(email: str) -> Application:
    application = application_receive(
        email=email, source="direct", given_name="Sigrid", family_name="Søker",
        letter="Hei", actor=ACTOR, received_at=RECEIVED,
        documents=[DocumentUpload(kind="cv", filename="cv.pdf", content_type="application/pdf",
                                  content=b"%PDF-1.4 cv")],
    )
    application_note_add(application=application, kind="interview", text="Godt intervju",
                         actor=ACTOR, now=at(date(2024, 1, 20), 10))
    return application


def _rows(application: Application) -> tuple[bool, int, int]:
    return (
        Application.objects.filter(pk=application.pk).exists(),
        ApplicationDocument.objects.filter(application_id=application.pk).count(),
        ApplicationNote.objects.filter(application_id=application.pk).count(),
    )


def _line(holder: str):  # type: ignore[no-untyped-def]
    forecast = retention_forecast(as_of=DUE)
    return next(x for x in forecast.lines if x.holder == holder and x.rule == "open-application")


@pytest.mark.req("R19")
@pytest.mark.req("R27")
@pytest.mark.req("R31")
def test_row_hold_on_an_application_keeps_its_documents_and_notes() -> None:
    held = _application("holdt@example.no")
    free = _application("fri@example.no")
    hold_place(scope=HoldScope.ROW, row=held, reason=REASON, actor=ACTOR)

    # The free application's document and note go with it (on its line, as the run
    # reports them); the held one's are held.
    application = _line("recruitment.Application")
    assert application.due_now == 1
    assert application.cascaded == {
        "recruitment.ApplicationDocument": 1, "recruitment.ApplicationNote": 1
    }
    for label in ("recruitment.ApplicationDocument", "recruitment.ApplicationNote"):
        line = _line(label)
        assert (line.due_now, line.held, line.held_reasons) == (0, 1, {REASON: 1}), label

    retention_run(as_of=DUE)

    assert _rows(held) == (True, 1, 1)
    assert _rows(free) == (False, 0, 0)


@pytest.mark.req("R19")
@pytest.mark.req("R31")
def test_row_hold_on_a_document_keeps_the_application_it_belongs_to() -> None:
    # Deleting the application would cascade onto the held CV.
    held = _application("cv@example.no")
    document = ApplicationDocument.objects.get(application=held)
    hold_place(scope=HoldScope.ROW, row=document, reason=REASON, actor=ACTOR)

    line = _line("recruitment.Application")
    assert (line.due_now, line.held, line.held_reasons) == (0, 1, {REASON: 1})

    retention_run(as_of=DUE)

    assert Application.objects.filter(pk=held.pk).exists()
    assert ApplicationDocument.objects.filter(pk=document.pk).exists()
