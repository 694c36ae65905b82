"""Fixtures of the courses tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from personvern.courses.models import Course, CourseKind

from .factories import make_course


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Tests compare English texts; the nb test activates Norwegian itself."""
    with translation.override("en"):
        yield


@pytest.fixture
def digital_course(db: None) -> Course:
    return make_course(kind=CourseKind.DIGITAL)


@pytest.fixture
def physical_course(db: None) -> Course:
    return make_course(kind=CourseKind.PHYSICAL)


@pytest.fixture
def hotel_course(db: None) -> Course:
    return make_course(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2)
