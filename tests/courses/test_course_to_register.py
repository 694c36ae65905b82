"""The course a registration post reads: compiled once (ADR 0036), the ORM's course."""

from __future__ import annotations

import pytest
from django.test import Client

from personvern.courses import selectors
from personvern.courses.models import Course
from tests.courses.factories import make_course

pytestmark = pytest.mark.django_db


def test_it_is_the_whole_course_as_the_orm_reads_it() -> None:
    course = make_course(slug="arbeidsrett-2027")
    make_course(slug="skatterett-2027")
    found = selectors.course_to_register("arbeidsrett-2027")
    stored = Course.objects.get(slug="arbeidsrett-2027")
    fields = [f.attname for f in Course._meta.concrete_fields]
    assert found.pk == course.pk
    assert [getattr(found, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert found.starts_at.tzinfo is not None
    assert selectors.course_to_register("skatterett-2027").slug == "skatterett-2027"


def test_an_unknown_course_is_not_found_and_a_post_to_it_is_a_404() -> None:
    with pytest.raises(Course.DoesNotExist):
        selectors.course_to_register("finnes-ikke")
    response = Client().post("/courses/finnes-ikke/", {"email": "kari@example.no"})
    assert response.status_code == 404
