"""Course evaluations: market research on legitimate interest, honouring objections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from personvern.core.services import objection_record, restriction_place
from personvern.courses.evaluations import evaluation_submit, evaluation_summary
from personvern.courses.models import Evaluation
from personvern.retention.engine import retention_run
from tests.courses.factories import NOW, make_course, register

pytestmark = pytest.mark.django_db


def _course_with_answers(ratings: list[int]) -> tuple[object, list[Evaluation]]:
    course = make_course(capacity=len(ratings) + 1)
    answers = []
    for rating in ratings:
        registration = register(course)
        answers.append(
            evaluation_submit(
                course=course, person=registration.person, rating=rating,
                comment="Nyttig kurs", actor="test", now=course.ends_at + timedelta(days=1),
            )
        )
    return course, answers


@pytest.mark.req("R4")
def test_only_confirmed_participants_evaluate_once_with_a_valid_rating() -> None:
    course, [answer] = _course_with_answers([4])
    with pytest.raises(ValidationError, match="already evaluated"):
        evaluation_submit(course=course, person=answer.person, rating=5, actor="test")
    outsider = register(make_course()).person
    with pytest.raises(ValidationError, match="confirmed participant"):
        evaluation_submit(course=course, person=outsider, rating=3, actor="test")
    with pytest.raises(ValidationError):
        evaluation_submit(course=course, person=answer.person, rating=6, actor="test")


@pytest.mark.req("R4")
@pytest.mark.req("R37")
@pytest.mark.req("R36")
def test_statistics_leave_out_objecting_and_restricted_persons() -> None:
    course, answers = _course_with_answers([5, 1, 3])
    assert evaluation_summary(course).answers == 3
    objection_record(person=answers[1].person, activity="market-research", actor="test")
    restriction_place(person=answers[2].person, ground="a", actor="test")
    summary = evaluation_summary(course)
    assert summary.answers == 1
    assert summary.average == 5.0


@pytest.mark.req("R4")
@pytest.mark.req("R31")
def test_answers_are_anonymised_after_a_year_and_the_rating_stays() -> None:
    course, [answer] = _course_with_answers([4])
    submitted = answer.submitted_at
    retention_run(as_of=submitted + timedelta(days=364))
    answer.refresh_from_db()
    assert answer.person_id is not None
    report = retention_run(as_of=submitted + timedelta(days=367))
    answer.refresh_from_db()
    assert answer.person_id is None and answer.comment == "" and answer.rating == 4
    assert any(line.holder == "courses.Evaluation" and line.count == 1 for line in report.lines)
    again = retention_run(as_of=submitted + timedelta(days=368))
    assert not any(line.holder == "courses.Evaluation" and line.count for line in again.lines)
    assert submitted > NOW
