"""The back office: admin actions call the services (R12, R11, R13)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User
from django.test import Client

from personvern.core.models import AuditEntry
from personvern.courses.models import Course, HotelTransfer, Registration

from .factories import make_course, register

pytestmark = pytest.mark.urls("personvern.urls")


@pytest.fixture
def staff(db) -> Client:
    user = User.objects.create_superuser("eva", "eva@jus.no", None)
    client = Client()
    client.force_login(user)
    return client


def action(client: Client, model: str, name: str, ids: list[int]):
    return client.post(
        f"/admin/courses/{model}/",
        {"action": name, "_selected_action": [str(i) for i in ids]},
        headers={"Accept-Language": "en"},
    )


@pytest.mark.req("R12")
def test_admin_records_attendance_through_the_service(staff):
    course = make_course(capacity=2)  # started already by the real clock
    came, absent = register(course), register(course)
    response = action(staff, "registration", "mark_attended", [came.pk])
    assert response.status_code == 302
    action(staff, "registration", "mark_absent", [absent.pk])
    assert dict(Registration.objects.values_list("pk", "attended")) == {
        came.pk: True, absent.pk: False}
    assert AuditEntry.objects.filter(action="attendance.recorded", actor="staff:eva").count() == 2


@pytest.mark.req("R13")
def test_admin_exports_participant_list(staff):
    course = make_course()
    register(course, family_name="Aas")
    response = action(staff, "course", "export_participants_csv", [course.pk])
    assert response["Content-Type"].startswith("text/csv")
    assert "Aas" in response.content.decode("utf-8-sig")
    assert AuditEntry.objects.filter(action="participant_list.exported").exists()


@pytest.mark.req("R11")
def test_admin_produces_hotel_list_and_records_it(staff, hotel_course):
    register(hotel_course, overnight_stay=True, arrival_date=date(2025, 4, 9),
             departure_date=date(2025, 4, 11))
    response = action(staff, "course", "produce_hotel_list", [hotel_course.pk])
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    transfer = HotelTransfer.objects.get()
    assert (transfer.actor, transfer.row_count) == ("staff:eva", 1)


def test_admin_pages_render(staff, hotel_course):
    register(hotel_course)
    for url in ("/admin/courses/course/", "/admin/courses/registration/",
                "/admin/courses/venue/", "/admin/courses/hoteltransfer/",
                f"/admin/courses/course/{hotel_course.pk}/change/",
                f"/admin/courses/registration/{Registration.objects.get().pk}/change/"):
        assert staff.get(url).status_code == 200, url


def test_admin_creates_and_changes_a_course_through_the_services(staff):
    data = {
        "title": "Arbeidsrett", "slug": "arbeidsrett-2030", "kind": "digital",
        "starts_at_0": "2030-05-02", "starts_at_1": "09:00",
        "ends_at_0": "2030-05-02", "ends_at_1": "15:00", "capacity": "1", "venue": "",
        "legal_hours": "6", "non_legal_hours": "0", "ethics_hours": "0", "price": "0",
        "registration_open": "on",
    }
    response = staff.post("/admin/courses/course/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    course = Course.objects.get(slug="arbeidsrett-2030")
    assert AuditEntry.objects.filter(action="course.created", actor="staff:eva").exists()

    data["capacity"] = "3"
    response = staff.post(f"/admin/courses/course/{course.pk}/change/", data)
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.capacity == 3
    entry = AuditEntry.objects.get(action="course.changed")
    assert entry.data == {"course": course.pk, "fields": ["capacity"]}
