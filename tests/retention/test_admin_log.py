"""Retention removes the admin change log's rows about what it deletes (R31).

Django's ``LogEntry.object_repr`` is ``str(obj)``: a person's name, "Name – Course".
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models

from personvern.core.models import AuditEntry, Person
from personvern.courses.evaluations import evaluation_submit
from personvern.courses.models import Evaluation, HotelTransferEntry, Registration
from personvern.recruitment.models import ApplicationDocument
from personvern.recruitment.services import DocumentUpload, application_receive
from personvern.retention.engine import retention_run

from .factories import (
    ACTOR,
    at,
    course_ending,
    hotel_course_ending,
    register,
    register_overnight,
)

pytestmark = pytest.mark.django_db

AS_OF = at(date(2030, 1, 1))


def _log(*rows: models.Model) -> None:
    """What the back office writes when staff change these rows."""
    staff = get_user_model().objects.get_or_create(username="saksbehandler")[0]
    for row in rows:
        LogEntry.objects.log_actions(
            staff.pk, [row], CHANGE, change_message="Endret", single_object=True
        )


def _logged(row: models.Model) -> bool:
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(row), object_id=str(row.pk)
    ).exists()


@pytest.mark.req("R31")
def test_log_rows_of_deleted_rows_cascades_and_swept_persons_go_others_stay() -> None:
    due = register_overnight(hotel_course_ending(at(date(2020, 6, 2), 15)), "borte@example.no")
    entry = HotelTransferEntry.objects.get(registration=due)
    due_person = Person.objects.get(pk=due.person_id)
    kept = register(course_ending(at(date(2029, 6, 1), 15)), "blir@example.no")
    kept_person = Person.objects.get(pk=kept.person_id)
    _log(due, entry, due_person, kept, kept_person)
    assert "Per Hotellgjest" in LogEntry.objects.values_list("object_repr", flat=True)

    retention_run(as_of=AS_OF)

    assert not Registration.objects.filter(pk=due.pk).exists()
    assert not _logged(due) and not _logged(entry) and not _logged(due_person)
    assert _logged(kept) and _logged(kept_person)
    assert "Per Hotellgjest" not in LogEntry.objects.values_list("object_repr", flat=True)
    batches = AuditEntry.objects.filter(action="retention.batch")
    assert sum(b.data["admin_log_entries"] for b in batches) == 2  # registration, hotel entry
    sweep = AuditEntry.objects.filter(action="retention.persons").get()
    assert sweep.data["admin_log_entries"] == 1


@pytest.mark.req("R27")
@pytest.mark.req("R31")
def test_log_rows_of_rows_a_deletion_cascades_into_go() -> None:
    # The application's target runs first and its delete cascades onto the CV.
    application = application_receive(
        email="soker@example.no", source="direct", given_name="Sigrid", family_name="Søker",
        actor=ACTOR, received_at=at(date(2024, 1, 10), 9),
        documents=[DocumentUpload(kind="cv", filename="Sigrid Søker CV.pdf",
                                  content_type="application/pdf", content=b"%PDF-1.4")],
    )
    document = ApplicationDocument.objects.get(application=application)
    _log(application, document)

    report = retention_run(as_of=at(date(2024, 8, 8)))

    line = next(x for x in report.lines
                if x.holder == "recruitment.Application" and x.rule == "open-application")
    assert line.cascaded == {"recruitment.ApplicationDocument": 1}
    assert not _logged(application) and not _logged(document)
    assert not LogEntry.objects.exists()


@pytest.mark.req("R31")
def test_log_rows_of_anonymised_rows_go() -> None:
    registration = register(course_ending(at(date(2020, 6, 1), 15)), "vurdering@example.no")
    evaluation = evaluation_submit(course=registration.course, person=registration.person,
                                   rating=4, comment="Flott kurs, Kari", actor=ACTOR,
                                   now=at(date(2020, 6, 2), 10))
    later = register(course_ending(at(date(2021, 5, 31), 15)), "senere@example.no")
    other = evaluation_submit(course=later.course, person=later.person,
                              rating=5, comment="Enda bedre", actor=ACTOR,
                              now=at(date(2021, 6, 1), 10))
    _log(evaluation, other)

    retention_run(as_of=at(date(2021, 6, 3)))

    assert Evaluation.objects.get(pk=evaluation.pk).comment == ""
    assert not _logged(evaluation)
    assert _logged(other)  # not anonymised yet
