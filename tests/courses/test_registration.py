"""Registrations: what is stored per course kind, the waiting list, attendance (R12, R13)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core.models import AuditEntry, Person
from personvern.courses import services
from personvern.courses.models import Registration, RegistrationStatus
from personvern.courses.selectors import waitlist_position

from .factories import ACTOR, NOW, make_course, register


@pytest.mark.req("R12")
def test_digital_registration_refuses_physical_only_fields(digital_course):
    with pytest.raises(ValidationError) as exc:
        register(digital_course, dietary_needs="vegetar")
    assert "dietary_needs" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        register(digital_course, overnight_stay=True, arrival_date=date(2025, 4, 9),
                 departure_date=date(2025, 4, 10))
    assert "overnight_stay" in exc.value.message_dict
    assert not Registration.objects.exists()
    assert not Person.objects.exists()  # nothing half-written


@pytest.mark.req("R12")
def test_physical_registration_stores_what_the_course_needs(hotel_course, physical_course):
    stay = register(hotel_course, dietary_needs="glutenfri", overnight_stay=True,
                    arrival_date=date(2025, 4, 9), departure_date=date(2025, 4, 11))
    stay.refresh_from_db()
    assert (stay.dietary_needs, stay.overnight_stay, stay.arrival_date, stay.departure_date) == (
        "glutenfri", True, date(2025, 4, 9), date(2025, 4, 11))
    with pytest.raises(ValidationError) as exc:
        register(physical_course, overnight_stay=True, arrival_date=date(2025, 4, 9),
                 departure_date=date(2025, 4, 10))
    assert exc.value.message_dict["overnight_stay"] == ["This course offers no hotel stay."]
    with pytest.raises(ValidationError) as exc:
        register(hotel_course, overnight_stay=True, arrival_date=date(2025, 4, 11),
                 departure_date=date(2025, 4, 9))
    assert "departure_date" in exc.value.message_dict


@pytest.mark.req("R12")
def test_one_active_registration_per_person(digital_course):
    first = register(digital_course, email="ola@example.no")
    with pytest.raises(ValidationError) as exc:
        register(digital_course, email="OLA@example.no")
    assert "email" in exc.value.message_dict
    services.registration_cancel(registration=first, actor=ACTOR, now=NOW)
    again = register(digital_course, email="ola@example.no")
    assert again.person_id == first.person_id
    assert again.status == RegistrationStatus.CONFIRMED


@pytest.mark.req("R12")
def test_closed_or_started_course_refuses_registration(db):
    closed = make_course(registration_open=False)
    with pytest.raises(ValidationError, match="closed"):
        register(closed)
    course = make_course()
    with pytest.raises(ValidationError, match="started"):
        register(course, now=course.starts_at)


@pytest.mark.req("R12")
@pytest.mark.req("R13")
def test_full_course_waitlists_and_cancellation_moves_the_first_up(db):
    course = make_course(capacity=2)
    a, b = register(course), register(course)
    c = register(course, now=NOW + timedelta(minutes=1))
    d = register(course, now=NOW + timedelta(minutes=2))
    assert [r.status for r in (a, b)] == [RegistrationStatus.CONFIRMED] * 2
    assert [r.status for r in (c, d)] == [RegistrationStatus.WAITLISTED] * 2
    assert (waitlist_position(c), waitlist_position(d)) == (1, 2)

    result = services.registration_cancel(registration=a, actor=ACTOR, now=NOW)

    assert [r.pk for r in result.promoted] == [c.pk]
    statuses = dict(Registration.objects.values_list("pk", "status"))
    assert statuses == {
        a.pk: RegistrationStatus.CANCELLED, b.pk: RegistrationStatus.CONFIRMED,
        c.pk: RegistrationStatus.CONFIRMED, d.pk: RegistrationStatus.WAITLISTED,
    }
    d.refresh_from_db()
    assert waitlist_position(d) == 1

    # Cancelling a wait-listed registration frees no seat: nobody moves up.
    result = services.registration_cancel(registration=d, actor=ACTOR, now=NOW)
    assert result.promoted == []
    with pytest.raises(ValidationError, match="already cancelled"):
        services.registration_cancel(registration=d, actor=ACTOR, now=NOW)


@pytest.mark.req("R12")
def test_raising_capacity_moves_waitlisted_up(db):
    course = make_course(capacity=1)
    register(course)
    waiting = [register(course) for _ in range(3)]
    services.course_update(course=course, changes={"capacity": 3}, actor=ACTOR, now=NOW)
    statuses = [Registration.objects.get(pk=r.pk).status for r in waiting]
    assert statuses == [RegistrationStatus.CONFIRMED, RegistrationStatus.CONFIRMED,
                        RegistrationStatus.WAITLISTED]


@pytest.mark.req("R12")
def test_attendance_recorded_for_confirmed_participants(db):
    course = make_course(capacity=2)
    came, absent = register(course), register(course)
    waiting = register(course)
    after = course.starts_at + timedelta(hours=8)

    with pytest.raises(ValidationError, match="once the course starts"):
        services.attendance_record(course=course, registration_ids=[came.pk], attended=True,
                                   actor=ACTOR, now=NOW)
    with pytest.raises(ValidationError) as exc:
        services.attendance_record(course=course, registration_ids=[came.pk, waiting.pk],
                                   attended=True, actor=ACTOR, now=after)
    assert str(waiting.pk) in exc.value.message_dict["registration_ids"][0]
    assert not Registration.objects.filter(attended__isnull=False).exists()

    assert services.attendance_record(course=course, registration_ids=[came.pk],
                                      attended=True, actor=ACTOR, now=after) == 1
    services.attendance_record(course=course, registration_ids=[absent.pk], attended=False,
                               actor=ACTOR, now=after)
    attended = dict(Registration.objects.values_list("pk", "attended"))
    assert attended == {came.pk: True, absent.pk: False, waiting.pk: None}
    entry = AuditEntry.objects.filter(action="attendance.recorded").last()
    assert entry is not None and entry.data == {
        "course": course.pk, "attended": False, "rows": 1}


@pytest.mark.req("R12")
def test_registration_audit_holds_no_personal_data(hotel_course):
    register(hotel_course, email="skjult@example.no", given_name="Skjult",
             dietary_needs="nøtteallergi", overnight_stay=True,
             arrival_date=date(2025, 4, 9), departure_date=date(2025, 4, 11))
    entries = AuditEntry.objects.filter(action__startswith="registration.")
    assert entries.count() == 1
    text = repr(list(entries.values("data", "actor", "activity")))
    for value in ("skjult", "Skjult", "nøtteallergi", "2025-04-09"):
        assert value not in text
    assert entries.get().subject  # the pseudonym names the subject


def test_refusals_are_in_norwegian_when_nb_is_active(physical_course):
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            services.course_update(
                course=physical_course, changes={"capacity": 3, "created_at": NOW}, actor=ACTOR
            )
        assert exc.value.message_dict["created_at"] == ["Dette feltet kan ikke endres her."]
        with pytest.raises(ValidationError) as exc:
            services.participant_list_export(course=physical_course, fmt="pdf", actor=ACTOR)
        assert exc.value.message_dict["format"] == ["Ukjent format «pdf»; bruk ett av: csv, xlsx."]
