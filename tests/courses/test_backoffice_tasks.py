"""A course administrator's daily work in the back office (issue 9, ADR 0026).

Phone bookings with the public form's rules and mail (R12, R13), the check-in
list with attendance (R12), the dietary list that is gone once the course is
over (R11, data minimisation), and the hotel list mailed to the hotel and
recorded as a hand-over (R11, R9). Each through the admin as a course
administrator, against the real database and the suite's SMTP server.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from personvern.core.models import AuditEntry
from personvern.courses import services
from personvern.courses.models import (
    CourseKind,
    HotelTransfer,
    HotelTransferEntry,
    Registration,
    RegistrationStatus,
)
from personvern.worker.models import OutgoingMail

from .factories import make_course, register

pytestmark = [pytest.mark.urls("personvern.urls"), pytest.mark.django_db]

EN = {"Accept-Language": "en"}


@pytest.fixture
def kursadmin(db) -> Client:
    user = User.objects.create_user("kursadmin", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="course administrator"))
    client = Client()
    client.force_login(user)
    return client


def _ahead(days: int = 10, **kwargs):
    """A course that starts ``days`` from the real clock (the admin's views read it)."""
    starts = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return make_course(starts_at=starts, **kwargs)


def _booking(**extra) -> dict[str, str]:
    return {"given_name": "Per", "family_name": "Telefon", "email": "per@example.no",
            "employer": "Advokatfirma AS", "language": "en", "send_confirmation": "on", **extra}


# -- phone bookings -------------------------------------------------------------------


@pytest.mark.req("R12", "R13")
def test_a_phone_booking_registers_with_the_public_rules_and_sends_the_confirmation(
    kursadmin, smtp_server, clamd
):
    course = _ahead(kind=CourseKind.PHYSICAL, title="Arverett")
    page = kursadmin.get(f"/admin/courses/course/{course.pk}/register/", headers=EN)
    assert page.status_code == 200
    assert b'name="dietary_needs"' in page.content  # physical: asked
    assert b'name="overnight_stay"' not in page.content  # no hotel stay offered

    response = kursadmin.post(f"/admin/courses/course/{course.pk}/register/",
                              _booking(dietary_needs="Glutenfri"), headers=EN)
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert (registration.status, registration.language, registration.dietary_needs) == (
        RegistrationStatus.CONFIRMED, "en", "Glutenfri")
    created = AuditEntry.objects.get(action="registration.created")
    assert created.actor == "staff:kursadmin"
    assert AuditEntry.objects.filter(action="registration.receipt_sent",
                                     actor="staff:kursadmin").exists()
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["per@example.no"]
    assert mail.message["Subject"] == "Confirmed: Arverett"  # the participant's language


@pytest.mark.req("R12", "R13")
def test_a_phone_booking_on_a_full_course_goes_to_the_waiting_list_and_says_so(kursadmin):
    course = _ahead(capacity=1)
    register(course, now=timezone.now())
    response = kursadmin.post(f"/admin/courses/course/{course.pk}/register/", _booking(),
                              headers=EN, follow=True)
    assert "number 1 on the waiting list" in response.content.decode()
    booked = Registration.objects.get(person__family_name="Telefon")
    assert booked.status == RegistrationStatus.WAITLISTED
    assert OutgoingMail.objects.get().kind == "registration-waitlisted"


@pytest.mark.req("R12")
def test_staff_may_leave_out_the_mail_and_that_is_audited(kursadmin):
    course = _ahead()
    data = _booking()
    del data["send_confirmation"]
    kursadmin.post(f"/admin/courses/course/{course.pk}/register/", data, headers=EN)
    assert Registration.objects.count() == 1
    assert not OutgoingMail.objects.exists()
    skipped = AuditEntry.objects.get(action="registration.receipt_not_sent")
    assert skipped.actor == "staff:kursadmin"


@pytest.mark.req("R12")
def test_a_phone_booking_with_a_stay_but_no_dates_writes_nothing(kursadmin):
    course = _ahead(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2)
    response = kursadmin.post(f"/admin/courses/course/{course.pk}/register/",
                              _booking(overnight_stay="on"), headers=EN)
    assert response.status_code == 200
    assert "An overnight stay needs an arrival date." in response.content.decode()
    assert not Registration.objects.exists()
    assert not OutgoingMail.objects.exists()


@pytest.mark.req("R12")
def test_a_phone_booking_of_someone_already_registered_is_refused_with_the_reason(kursadmin):
    course = _ahead()
    register(course, email="per@example.no", now=timezone.now())
    response = kursadmin.post(f"/admin/courses/course/{course.pk}/register/", _booking(),
                              headers=EN)
    assert "already registered" in response.content.decode()
    assert Registration.objects.count() == 1
    assert not OutgoingMail.objects.exists()


def test_a_digital_course_asks_for_no_physical_fields(kursadmin):
    course = _ahead(kind=CourseKind.DIGITAL)
    page = kursadmin.get(f"/admin/courses/course/{course.pk}/register/", headers=EN)
    assert b'name="dietary_needs"' not in page.content
    assert b'name="arrival_date"' not in page.content


# -- check-in and dietary lists -----------------------------------------------------------


@pytest.mark.req("R12")
def test_the_check_in_list_shows_participants_and_is_audited(kursadmin):
    course = _ahead(kind=CourseKind.PHYSICAL)
    register(course, given_name="Åse", family_name="Aas", employer="Firma AS",
             invoice_reference="hemmelig", dietary_needs="Vegetar", now=timezone.now())
    page = kursadmin.get(f"/admin/courses/course/{course.pk}/check-in/", headers=EN)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Aas" in text and "Firma AS" in text
    assert "hemmelig" not in text and "Vegetar" not in text
    assert 'name="attended"' not in text  # not started: a box to tick on paper
    viewed = AuditEntry.objects.get(action="checkin_list.viewed")
    assert (viewed.actor, viewed.data["rows"]) == ("staff:kursadmin", 1)


@pytest.mark.req("R12")
def test_attendance_is_marked_on_the_check_in_list_once_the_course_runs(kursadmin):
    starts = timezone.now() - timedelta(hours=1)
    course = make_course(starts_at=starts, days=1)
    came, other = (register(course, now=starts - timedelta(days=1)) for _ in range(2))
    url = f"/admin/courses/course/{course.pk}/check-in/"
    assert 'name="attended"' in kursadmin.get(url, headers=EN).content.decode()
    kursadmin.post(url, {"listed": [came.pk, other.pk], "attended": [came.pk]}, headers=EN)
    assert dict(Registration.objects.values_list("pk", "attended")) == {
        came.pk: True, other.pk: None}
    # A check removed by mistake clears the mark; nobody is marked absent by it.
    kursadmin.post(url, {"listed": [came.pk, other.pk]}, headers=EN)
    assert set(Registration.objects.values_list("attended", flat=True)) == {None}
    assert AuditEntry.objects.filter(action="attendance.recorded",
                                     actor="staff:kursadmin").count() == 2


@pytest.mark.req("R11")
def test_the_dietary_list_shows_needs_only_and_is_audited(kursadmin):
    course = _ahead(kind=CourseKind.PHYSICAL)
    register(course, family_name="Aas", dietary_needs="Nøtteallergi", employer="Firma AS",
             now=timezone.now())
    register(course, family_name="Berg", now=timezone.now())
    page = kursadmin.get(f"/admin/courses/course/{course.pk}/dietary/", headers=EN)
    text = page.content.decode()
    assert "Nøtteallergi" in text and "Aas" in text
    assert "Berg" not in text and "Firma AS" not in text
    assert AuditEntry.objects.get(action="dietary_list.viewed").data["rows"] == 1


@pytest.mark.req("R11", "R14")
def test_the_dietary_and_check_in_lists_are_refused_after_the_course(kursadmin):
    starts = timezone.now() - timedelta(days=3)
    course = make_course(kind=CourseKind.PHYSICAL, starts_at=starts)
    register(course, dietary_needs="Nøtteallergi", now=starts - timedelta(days=1))
    for page in ("dietary", "check-in"):
        response = kursadmin.get(f"/admin/courses/course/{course.pk}/{page}/", headers=EN,
                                 follow=True)
        text = response.content.decode()
        assert "is over" in text, page
        assert "Nøtteallergi" not in text
    with pytest.raises(ValidationError):
        services.dietary_list_view(course=course, actor="t", now=course.ends_at)
    assert not AuditEntry.objects.filter(action__in=["dietary_list.viewed",
                                                     "checkin_list.viewed"]).exists()


def test_a_digital_course_has_no_dietary_list(db):
    course = _ahead(kind=CourseKind.DIGITAL)
    with pytest.raises(ValidationError, match="digital"):
        services.dietary_list_view(course=course, actor="t")


def test_a_role_without_registrations_gets_no_lists(db):
    course = _ahead(kind=CourseKind.PHYSICAL)
    user = User.objects.create_user("hr", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="hr"))
    client = Client()
    client.force_login(user)
    for page in ("register", "check-in", "dietary", "hotel-list"):
        assert client.get(f"/admin/courses/course/{course.pk}/{page}/").status_code == 403


# -- the hotel list, mailed to the hotel ----------------------------------------------------


@pytest.mark.req("R11")
def test_the_hotel_list_is_shown_then_mailed_to_the_hotel_and_recorded(
    kursadmin, smtp_server, clamd
):
    course = _ahead(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2)
    first = timezone.localdate(course.starts_at)
    guest = register(course, family_name="Gjest", dietary_needs="Vegan",
                     overnight_stay=True, arrival_date=first,
                     departure_date=first + timedelta(days=1), now=timezone.now())
    register(course, family_name="Dagsbesok", now=timezone.now())
    url = f"/admin/courses/course/{course.pk}/hotel-list/"

    preview = kursadmin.get(url, headers=EN).content.decode()
    assert "Gjest" in preview and "Dagsbesok" not in preview and "Vegan" not in preview
    assert course.venue.hotel_email in preview
    assert not HotelTransfer.objects.exists()  # looking sends nothing

    response = kursadmin.post(url, headers=EN)
    assert response.status_code == 302
    transfer = HotelTransfer.objects.get()
    assert (transfer.actor, transfer.row_count, transfer.hotel_email) == (
        "staff:kursadmin", 1, course.venue.hotel_email)
    assert HotelTransferEntry.objects.get().person_id == guest.person_id
    assert AuditEntry.objects.filter(action="hotel_list.mailed").exists()

    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == [course.venue.hotel_email]
    assert mail.message["Subject"] == f"Romliste: {course.title}"  # the site's language
    assert "1 gjest, med ankomst og avreise" in mail.body
    assert transfer.delete_by.strftime("%d.%m.%Y") in mail.body  # when to delete it
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_filename() == f"hotel-{course.slug}.xlsx"
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(attachment.get_content())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Fornavn", "Etternavn", "Ankomst", "Avreise"]  # the site's language
    assert rows[1][1] == "Gjest" and len(rows) == 2


@pytest.mark.req("R11")
def test_no_hotel_list_is_sent_without_overnight_guests(kursadmin):
    course = _ahead(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2)
    register(course, now=timezone.now())
    response = kursadmin.post(f"/admin/courses/course/{course.pk}/hotel-list/", headers=EN,
                              follow=True)
    assert "No participant of" in response.content.decode()
    assert not HotelTransfer.objects.exists()
    assert not OutgoingMail.objects.exists()


def test_the_course_page_links_to_the_tasks(kursadmin):
    course = _ahead(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2)
    page = kursadmin.get(f"/admin/courses/course/{course.pk}/change/", headers=EN)
    text = page.content.decode()
    for target in ("register", "check-in", "dietary", "hotel-list"):
        assert f"/admin/courses/course/{course.pk}/{target}/" in text


def test_a_course_over_offers_no_booking_or_lists_and_a_bad_id_is_not_found(kursadmin):
    starts = timezone.now() - timedelta(days=3)
    course = make_course(kind=CourseKind.PHYSICAL, starts_at=starts)
    text = kursadmin.get(f"/admin/courses/course/{course.pk}/change/", headers=EN).content.decode()
    for target in ("register", "check-in", "dietary"):
        assert f"/admin/courses/course/{course.pk}/{target}/" not in text
    assert kursadmin.get("/admin/courses/course/abc/change/").status_code == 302


@pytest.mark.req("R11")
def test_looking_at_the_hotel_list_is_audited_like_the_other_lists(kursadmin):
    """The preview shows the guests' names and stay dates: an access, audited (no mail)."""
    course = _ahead(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2)
    first = timezone.localdate(course.starts_at)
    register(course, family_name="Gjest", overnight_stay=True, arrival_date=first,
             departure_date=first + timedelta(days=1), now=timezone.now())
    response = kursadmin.get(f"/admin/courses/course/{course.pk}/hotel-list/", headers=EN)
    assert response.status_code == 200 and "Gjest" in response.content.decode()
    entry = AuditEntry.objects.get(action="hotel_list.viewed")
    assert entry.actor == "staff:kursadmin"
    assert entry.data == {"course": course.pk, "rows": 1}
    assert not HotelTransfer.objects.exists() and not OutgoingMail.objects.exists()


@pytest.mark.req("R11")
def test_no_hotel_list_is_shown_or_sent_once_the_course_is_over(kursadmin, smtp_server):
    """After the stay the hotel needs no list: passing it on then would disclose for nothing."""
    course = make_course(kind=CourseKind.PHYSICAL, hotel_stay_offered=True,
                         starts_at=timezone.now() - timedelta(days=3))
    first = timezone.localdate(course.starts_at)
    register(course, family_name="Gjest", overnight_stay=True, arrival_date=first,
             departure_date=first + timedelta(days=1), now=course.starts_at - timedelta(days=9))
    page = kursadmin.get(f"/admin/courses/course/{course.pk}/change/", headers=EN)
    assert f"/admin/courses/course/{course.pk}/hotel-list/" not in page.content.decode()
    url = f"/admin/courses/course/{course.pk}/hotel-list/"
    shown = kursadmin.get(url, headers=EN, follow=True).content.decode()
    assert "the hotel no longer needs its list" in shown and "Gjest" not in shown
    sent = kursadmin.post(url, headers=EN, follow=True).content.decode()
    assert "the hotel no longer needs its list" in sent
    assert not HotelTransfer.objects.exists() and not OutgoingMail.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="hotel_list.").exists()
