"""R9: a hotel uses the list for the course and deletes it afterwards; we track it."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from personvern.core.models import AuditEntry
from personvern.courses.models import Course
from personvern.courses.selectors import hotel_deletions_overdue
from personvern.courses.services import hotel_list_export, hotel_transfer_confirm_deletion
from tests.courses.factories import register

pytestmark = [pytest.mark.django_db, pytest.mark.req("R9")]


def _stay(arrival: date, departure: date) -> dict[str, object]:
    return {"overnight_stay": True, "arrival_date": arrival, "departure_date": departure}


def test_hotel_must_delete_the_day_after_the_last_guest_leaves(hotel_course: Course) -> None:
    # The course runs 10–11 April 2025; one guest stays on until the 12th.
    register(hotel_course, **_stay(date(2025, 4, 9), date(2025, 4, 11)))
    register(hotel_course, **_stay(date(2025, 4, 10), date(2025, 4, 12)))
    _content, transfer = hotel_list_export(course=hotel_course, actor="test")
    assert transfer.delete_by == date(2025, 4, 13)


def test_unconfirmed_deletions_are_listed_until_the_hotel_confirms(
    hotel_course: Course,
) -> None:
    register(hotel_course, **_stay(date(2025, 4, 9), date(2025, 4, 11)))
    _content, transfer = hotel_list_export(course=hotel_course, actor="test")
    assert transfer.delete_by == date(2025, 4, 12)
    assert list(hotel_deletions_overdue(today=date(2025, 4, 12))) == []
    assert list(hotel_deletions_overdue(today=date(2025, 4, 13))) == [transfer]

    hotel_transfer_confirm_deletion(transfer=transfer, actor="kursadmin")
    assert list(hotel_deletions_overdue(today=date(2025, 4, 13))) == []
    assert AuditEntry.objects.filter(action="hotel_transfer.deletion_confirmed").count() == 1
    with pytest.raises(ValidationError, match="already confirmed"):
        hotel_transfer_confirm_deletion(transfer=transfer, actor="kursadmin")
