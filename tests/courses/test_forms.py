"""The registration form asks only what the course needs (R12); the public view."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from personvern.courses import services
from personvern.courses.forms import RegistrationForm
from personvern.courses.models import Course, CourseKind, Registration, RegistrationStatus

from .factories import OSLO, make_course


@pytest.fixture
def upcoming(db: None) -> Course:
    """A course with a hotel stay that starts in a month (the view uses the real clock)."""
    start = timezone.localtime(timezone.now(), OSLO).date() + timedelta(days=30)
    return make_course(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2,
                       starts_at=datetime(start.year, start.month, start.day, 9, tzinfo=OSLO))


def day(course: Course, offset: int) -> str:
    return (timezone.localtime(course.starts_at, OSLO).date() + timedelta(days=offset)).isoformat()


COMMON = ["given_name", "family_name", "email", "employer", "invoice_reference"]


@pytest.mark.req("R12")
def test_form_fields_differ_by_course_kind(digital_course, physical_course, hotel_course):
    assert list(RegistrationForm(course=digital_course).fields) == COMMON
    assert list(RegistrationForm(course=physical_course).fields) == [*COMMON, "dietary_needs"]
    assert list(RegistrationForm(course=hotel_course).fields) == [
        *COMMON, "dietary_needs", "overnight_stay", "arrival_date", "departure_date"]


@pytest.mark.req("R12")
def test_digital_form_ignores_posted_physical_fields(digital_course):
    form = RegistrationForm(
        {"given_name": "Ola", "family_name": "Nordmann", "email": "ola@example.no",
         "dietary_needs": "vegan", "overnight_stay": "on"},
        course=digital_course,
    )
    assert form.is_valid()
    assert "dietary_needs" not in form.service_kwargs()
    assert "overnight_stay" not in form.service_kwargs()


def _csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def _post_with_token(client: Client, url: str, data: dict[str, str]):
    headers = {"Accept-Language": "en"}
    page = client.get(url, headers=headers)
    token = page.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token}, headers=headers)


@pytest.mark.req("R12")
def test_public_registration_of_an_overnight_guest(upcoming, smtp_server, clamd):
    hotel_course = upcoming
    client = _csrf_client()
    url = f"/courses/{hotel_course.slug}/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="dietary_needs"' in html and 'name="arrival_date"' in html

    response = _post_with_token(client, url, {
        "given_name": "Gro", "family_name": "Gjest", "email": "gro@example.no",
        "employer": "Firma AS", "dietary_needs": "vegan", "overnight_stay": "on",
        "arrival_date": day(upcoming, -1), "departure_date": day(upcoming, 1),
    })
    assert response.status_code == 302
    assert response["Location"] == f"/courses/{hotel_course.slug}/registered/"
    registration = Registration.objects.get()
    assert (registration.person.family_name, registration.status, registration.arrival_date) == (
        "Gjest", RegistrationStatus.CONFIRMED, timezone.localtime(upcoming.starts_at).date()
        - timedelta(days=1))
    receipt = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "A confirmation is on its way" in receipt.content.decode()
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["gro@example.no"]
    assert f"You have a seat at {hotel_course.title}." in mail.body
    assert "Hotel: 2 nights at" in mail.body


@pytest.mark.req("R12")
def test_digital_course_page_does_not_ask_physical_questions(digital_course):
    html = Client().get(f"/courses/{digital_course.slug}/").content.decode()
    for name in ("dietary_needs", "overnight_stay", "arrival_date", "departure_date"):
        assert f'name="{name}"' not in html


@pytest.mark.req("R12")
def test_service_errors_are_shown_on_the_form(upcoming):
    hotel_course = upcoming
    client = _csrf_client()
    url = f"/courses/{hotel_course.slug}/"
    response = _post_with_token(client, url, {
        "given_name": "Gro", "family_name": "Gjest", "email": "gro@example.no",
        "overnight_stay": "on",
        "arrival_date": day(upcoming, 1), "departure_date": day(upcoming, -1),
    })
    assert response.status_code == 200
    assert "Departure must be after arrival." in response.content.decode()
    assert not Registration.objects.exists()


def test_post_without_csrf_token_is_refused(digital_course):
    response = _csrf_client().post(f"/courses/{digital_course.slug}/", {
        "given_name": "Ola", "family_name": "Nordmann", "email": "ola@example.no"})
    assert response.status_code == 403
    assert not Registration.objects.exists()


@pytest.mark.req("R12")
def test_full_course_receipt_says_waiting_list(upcoming, smtp_server):
    course = upcoming
    services.course_update(course=course, changes={"capacity": 0}, actor="test")
    client = _csrf_client()
    response = _post_with_token(client, f"/courses/{course.slug}/", {
        "given_name": "Ola", "family_name": "Nordmann", "email": "ola@example.no"})
    assert response.status_code == 302
    assert Registration.objects.get().status == RegistrationStatus.WAITLISTED
    assert "so you are on the waiting list" in smtp_server.wait_for(1)[0].body


@pytest.mark.req("R12")
def test_the_form_does_not_tell_who_is_already_registered(upcoming, smtp_server, clamd):
    # Anyone can type anyone's address: the answer must not reveal that a given
    # lawyer takes a given course. The owner of the address is told by e-mail.
    course = upcoming
    url = f"/courses/{course.slug}/"
    data = {"given_name": "Kari", "family_name": "Nordmann", "email": "kari@example.no"}
    first = _post_with_token(_csrf_client(), url, data)
    smtp_server.wait_for(1)

    again = _post_with_token(_csrf_client(), url,
                             {**data, "given_name": "Noen", "family_name": "Andre"})
    someone_new = _post_with_token(_csrf_client(), url, {**data, "email": "ny@example.no"})

    assert (again.status_code, again["Location"]) == (first.status_code, first["Location"])
    assert (again.status_code, again["Location"]) == (someone_new.status_code,
                                                      someone_new["Location"])
    receipt_again = _csrf_client().get(again["Location"], HTTP_ACCEPT_LANGUAGE="en")
    receipt_new = _csrf_client().get(someone_new["Location"], HTTP_ACCEPT_LANGUAGE="en")
    def page(response) -> str:  # the same page, but for each visitor's own CSRF token
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    assert page(receipt_again) == page(receipt_new)
    assert Registration.objects.filter(person__emails__address="kari@example.no").count() == 1
    kept = Registration.objects.get(person__emails__address="kari@example.no")
    assert kept.person.given_name == "Kari"  # the second form changed nothing
    mails = {m.rcpt_tos[0]: m.body for m in smtp_server.wait_for(3)[1:]}
    assert "for which it was already registered" in mails["kari@example.no"]
    assert "You have a seat at" in mails["ny@example.no"]


@pytest.mark.req("R12")
def test_registration_stands_when_the_mail_server_is_down(upcoming, settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed
    response = _post_with_token(_csrf_client(), f"/courses/{upcoming.slug}/", {
        "given_name": "Ola", "family_name": "Nordmann", "email": "ola@example.no"})
    assert response.status_code == 302
    assert Registration.objects.filter(person__emails__address="ola@example.no").exists()


def test_registration_page_in_norwegian(upcoming):
    with translation.override("nb"):
        html = Client().get(f"/courses/{upcoming.slug}/",
                            HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Meld deg på" in html
    assert "Matbehov" in html


@pytest.mark.req("R12")
def test_a_refused_receipt_is_logged_without_the_address(upcoming, smtp_server, clamd, caplog):
    from personvern.worker.models import MailState, OutgoingMail
    from personvern.worker.outbox import deliver_due

    smtp_server.refuse("ola@example.no")
    response = _post_with_token(_csrf_client(), f"/courses/{upcoming.slug}/", {
        "given_name": "Ola", "family_name": "Nordmann", "email": "ola@example.no"})
    assert response.status_code == 302
    assert deliver_due()["failed"] == 1
    assert OutgoingMail.objects.get(kind="registration-confirmed").state == MailState.FAILED
    assert "refused permanently" in caplog.text
    assert "ola@example.no" not in caplog.text
