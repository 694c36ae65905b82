"""The courses' parts of Min side: registrations, cancelling, the CLE record, certificates."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from personvern.core.models import AuditEntry, Person
from personvern.core.policy import current_policy
from personvern.courses import services
from personvern.courses.models import Course, CourseKind, Registration, RegistrationStatus
from personvern.courses.portal import person_registrations
from personvern.portal import auth
from personvern.portal.auth import SELF_ACTOR
from personvern.worker.models import OutgoingMail

from .factories import OSLO, make_course, register

pytestmark = pytest.mark.django_db

EMAIL = "oystein@example.no"


def sign_in(client: Client, person: Person) -> Client:
    """A Min side session for ``person``, as the mailed link leaves it."""
    session = client.session
    session[auth.SESSION_PERSON] = str(person.public_id)
    session[auth.SESSION_SIGNED_IN_AT] = timezone.now().isoformat()
    session.save()
    return client


def day(offset: int, hour: int = 9) -> datetime:
    """A time ``offset`` days from today, in Oslo."""
    today = timezone.localtime(timezone.now(), OSLO).date() + timedelta(days=offset)
    return datetime(today.year, today.month, today.day, hour, tzinfo=OSLO)


def attended(course: Course, *, email: str = EMAIL, **kwargs: Any) -> Registration:
    registration = register(
        course, email=email, now=course.starts_at - timedelta(days=2), **kwargs
    )
    services.attendance_record(
        course=course, registration_ids=[registration.pk], attended=True, actor="test",
        now=course.ends_at,
    )
    return registration


@pytest.fixture
def history() -> dict[str, Registration]:
    """Øystein's registrations: upcoming, wait-listed, cancelled, attended, absent."""
    upcoming = make_course(starts_at=day(20), capacity=1, title="Arverett i praksis")
    full = make_course(starts_at=day(30), capacity=1, title="Skatterett for advokater")
    register(full, now=day(-1))  # someone else holds the only seat
    register(full, now=day(-1))  # and the first place in line
    dropped = make_course(starts_at=day(40), title="Personvern i arbeidslivet")
    past = make_course(
        kind=CourseKind.PHYSICAL, starts_at=day(-60), days=2, title="Advokatetikk og årsoppgjør",
        summary="Etikk for advokater, med øvelser.", legal_hours=6, ethics_hours=2,
        non_legal_hours="1.5",
    )
    absent = make_course(starts_at=day(-30), title="Kontraktsrett")
    now = timezone.now()
    mine = {
        "upcoming": register(upcoming, email=EMAIL, given_name="Øystein",
                             family_name="Ås-Bjørnæs", now=now),
        "waitlisted": register(full, email=EMAIL, now=now),
        "cancelled": register(dropped, email=EMAIL, now=now),
        "attended": attended(past),
        "absent": register(absent, email=EMAIL, now=absent.starts_at - timedelta(days=2)),
    }
    services.registration_cancel(registration=mine["cancelled"], actor="test", now=now)
    services.attendance_record(
        course=absent, registration_ids=[mine["absent"].pk], attended=False, actor="test",
        now=absent.ends_at,
    )
    return {key: Registration.objects.get(pk=r.pk) for key, r in mine.items()}


def person() -> Person:
    return Person.objects.get(emails__address=EMAIL)


@pytest.mark.req("R13")
def test_my_registrations_upcoming_and_past_with_status(history: dict[str, Registration]) -> None:
    parts = person_registrations(person(), timezone.now())
    upcoming = {r.pk: r for r in parts["upcoming"]}
    past = {r.pk: r for r in parts["past"]}
    assert set(upcoming) == {history[k].pk for k in ("upcoming", "waitlisted", "cancelled")}
    assert set(past) == {history[k].pk for k in ("attended", "absent")}
    assert upcoming[history["waitlisted"].pk].waiting_position == 2
    assert upcoming[history["upcoming"].pk].may_cancel
    assert upcoming[history["waitlisted"].pk].may_cancel
    assert not upcoming[history["cancelled"].pk].may_cancel
    assert past[history["attended"].pk].has_certificate
    assert not past[history["absent"].pk].has_certificate
    assert not past[history["attended"].pk].may_cancel


@pytest.mark.req("R13")
@pytest.mark.req("R14")
def test_min_side_shows_registrations_and_the_cle_record(
    client: Client, history: dict[str, Registration]
) -> None:
    html = sign_in(client, person()).get("/me/", headers={"accept-language": "en"}).content.decode()
    text = " ".join(html.split())
    assert 'id="courses.registrations"' in html and 'id="courses.cle"' in html
    for title in ("Arverett i praksis", "Skatterett for advokater", "Personvern i arbeidslivet",
                  "Advokatetikk og årsoppgjør", "Kontraktsrett"):
        assert title in html
    assert "On the waiting list, number 2" in text
    assert "Cancelled" in text and ">Not attended<" in text and ">Attended<" in text
    cancel = f"/me/courses/registrations/{history['upcoming'].pk}/cancel/"
    assert cancel in html
    assert f"/me/courses/registrations/{history['cancelled'].pk}/cancel/" not in html
    assert f"/me/courses/certificate/{history['attended'].pk}.pdf" in html
    assert f"/me/courses/certificate/{history['absent'].pk}.pdf" not in html
    # The attended course's 6 + 2 + 1.5 hours, in the current period (or the previous,
    # should the course 60 days ago fall before New Year).
    assert "9.5" in text
    assert "of 80" in text
    assert ("Legal ethics hours still needed: 3" in text
            or "Legal ethics hours missing: 3" in text)


def test_the_cle_record_speaks_norwegian(client: Client, history: dict[str, Registration]) -> None:
    html = sign_in(client, person()).get("/me/", headers={"accept-language": "nb"}).content.decode()
    text = " ".join(html.split())
    assert "9,5" in text  # a decimal comma
    assert "Juridisk" in text and "Advokatetikk" in text and "Ikke-juridisk" in text


def test_a_person_without_registrations_gets_no_course_sections(client: Client) -> None:
    nobody = Person.objects.create(given_name="Kari")
    html = sign_in(client, nobody).get("/me/").content.decode()
    assert "courses.registrations" not in html and "courses.cle" not in html


@pytest.mark.req("R13")
def test_cancel_from_min_side_moves_up_the_next_and_sends_a_receipt(
    history: dict[str, Registration],
) -> None:
    client = sign_in(Client(enforce_csrf_checks=True), person())
    mine = history["upcoming"]
    url = f"/me/courses/registrations/{mine.pk}/cancel/"
    waiting = register(mine.course, now=timezone.now())  # the only seat is mine: in line
    assert waiting.status == RegistrationStatus.WAITLISTED
    page = client.get(url, headers={"accept-language": "en"})
    assert page.status_code == 200
    assert b"Cancel registration" in page.content
    assert client.post(url).status_code == 403  # no CSRF token: nothing happens
    assert Registration.objects.get(pk=mine.pk).status == RegistrationStatus.CONFIRMED
    token = page.context["csrf_token"]
    done = client.post(url, {"csrfmiddlewaretoken": str(token)})
    assert done.status_code == 302 and done["Location"].startswith(url)
    cancelled = Registration.objects.get(pk=mine.pk)
    assert cancelled.status == RegistrationStatus.CANCELLED
    assert OutgoingMail.objects.filter(person=person(), kind="registration-cancelled").exists()
    entry = AuditEntry.objects.get(action="registration.cancelled", data__registration=mine.pk)
    assert entry.actor == SELF_ACTOR
    receipt = client.get(done["Location"], headers={"accept-language": "en"})
    assert b"Your registration is cancelled" in receipt.content
    assert Registration.objects.get(pk=waiting.pk).status == RegistrationStatus.CONFIRMED
    again = client.post(url, {"csrfmiddlewaretoken": str(token)})
    assert again.status_code == 409


@pytest.mark.req("R13")
def test_leaving_the_waiting_list_moves_the_others_up(history: dict[str, Registration]) -> None:
    client = sign_in(Client(), person())
    mine = history["waitlisted"]
    behind = register(mine.course, now=timezone.now())
    client.post(f"/me/courses/registrations/{mine.pk}/cancel/")
    assert Registration.objects.get(pk=mine.pk).status == RegistrationStatus.CANCELLED
    parts = person_registrations(behind.person, timezone.now())
    assert parts["upcoming"][0].waiting_position == 2  # was 3


def test_a_started_course_cannot_be_cancelled_here(client: Client) -> None:
    course = make_course(starts_at=timezone.now() - timedelta(hours=1), days=2)
    registration = register(course, email=EMAIL, now=course.starts_at - timedelta(days=1))
    sign_in(client, person())
    url = f"/me/courses/registrations/{registration.pk}/cancel/"
    page = client.get(url, headers={"accept-language": "en"})
    assert page.status_code == 200
    assert b"can no longer be cancelled" in page.content
    assert b">Cancel registration</button>" not in page.content
    assert client.post(url).status_code == 409
    assert Registration.objects.get(pk=registration.pk).status == RegistrationStatus.CONFIRMED


def test_someone_elses_registration_is_not_found(
    client: Client, history: dict[str, Registration]
) -> None:
    other_course = make_course(starts_at=day(-10), legal_hours=3)
    theirs = attended(other_course, email="someone.else@example.no")
    upcoming_theirs = register(history["upcoming"].course, email="someone.else@example.no",
                               now=timezone.now())
    sign_in(client, person())
    assert client.get(f"/me/courses/registrations/{upcoming_theirs.pk}/cancel/").status_code == 404
    assert client.post(f"/me/courses/registrations/{upcoming_theirs.pk}/cancel/").status_code == 404
    assert Registration.objects.get(pk=upcoming_theirs.pk).status == RegistrationStatus.WAITLISTED
    assert client.get(f"/me/courses/certificate/{theirs.pk}.pdf").status_code == 404
    assert client.get("/me/courses/certificate/999999.pdf").status_code == 404


def test_the_pages_need_a_signed_in_person(
    client: Client, history: dict[str, Registration]
) -> None:
    for url in (f"/me/courses/registrations/{history['upcoming'].pk}/cancel/",
                f"/me/courses/certificate/{history['attended'].pk}.pdf"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/me/sign-in/")


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.mark.req("R14")
def test_the_certificate_of_an_attended_course(
    client: Client, history: dict[str, Registration]
) -> None:
    sign_in(client, person())
    registration = history["attended"]
    response = client.get(
        f"/me/courses/certificate/{registration.pk}.pdf", headers={"accept-language": "nb"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="kursbevis-')
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content)
    controller = current_policy().controller
    assert "Kursbevis" in text
    assert f"Arrangør: {controller.name}, org.nr. {controller.org_no}" in text
    assert "Øystein Ås-Bjørnæs" in text  # Norwegian letters survive
    assert "Advokatetikk og årsoppgjør" in text
    assert "Etikk for advokater, med øvelser." in text
    assert "Juridisk 6" in text
    assert "Advokatetikk 2" in text
    assert "Ikke-juridisk 1,5" in text
    assert "Sum 9,5" in text
    course = registration.course
    start = timezone.localtime(course.starts_at, OSLO)
    assert f"{start.day}." in text and str(start.year) in text
    entry = AuditEntry.objects.get(action="registration.certificate_downloaded")
    assert entry.data["registration"] == registration.pk
    assert entry.actor == SELF_ACTOR


@pytest.mark.req("R14")
def test_the_certificate_in_english(client: Client, history: dict[str, Registration]) -> None:
    sign_in(client, person())
    response = client.get(
        f"/me/courses/certificate/{history['attended'].pk}.pdf", headers={"accept-language": "en"}
    )
    text = _pdf_text(response.content)
    assert "Course certificate" in text
    assert "Legal 6" in text and "Legal ethics 2" in text and "Non-legal 1.5" in text
    assert "Total 9.5" in text


@pytest.mark.parametrize("which", ["upcoming", "waitlisted", "cancelled", "absent"])
def test_no_certificate_without_attendance(
    client: Client, history: dict[str, Registration], which: str
) -> None:
    sign_in(client, person())
    assert client.get(f"/me/courses/certificate/{history[which].pk}.pdf").status_code == 404
    assert not AuditEntry.objects.filter(action="registration.certificate_downloaded").exists()


@pytest.mark.req("R13")
def test_min_side_cards_show_attendance_only_and_name_each_link_by_its_course(
    client: Client, history: dict[str, Registration]
) -> None:
    html = sign_in(client, person()).get("/me/", headers={"accept-language": "en"}).content.decode()
    text = " ".join(html.split())
    past = text[text.index("Past courses"):]
    # A past course shows whether it was attended, not the (redundant) confirmation.
    assert ">Attended<" in past and "Confirmed" not in past
    upcoming = text[:text.index("Past courses")]
    assert ">Confirmed<" in upcoming
    # The certificate link's name includes the course (visually hidden), so links differ.
    assert ('Course certificate (PDF)<span class="ds-sr-only"> – Advokatetikk og årsoppgjør'
            '</span>') in text
    assert 'Cancel registration<span class="ds-sr-only"> – Arverett i praksis</span>' in text
    # An upcoming course's title links to its page; a past one's does not.
    upcoming_course = history["upcoming"].course
    assert f'href="/courses/{upcoming_course.slug}/"' in html
    assert f'href="/courses/{history["attended"].course.slug}/"' not in html


@pytest.mark.req("R13")
def test_hours_are_shown_without_trailing_zeros(
    client: Client, history: dict[str, Registration]
) -> None:
    text = " ".join(sign_in(client, person()).get(
        "/me/", headers={"accept-language": "en"}).content.decode().split())
    assert "9.5" in text and "9.50" not in text
    assert "of 80<" in text and "80.00" not in text and "1.50" not in text
    assert 'class="ds-table cle-hours"' in text


@pytest.mark.req("R11", "R13")
def test_a_booked_hotel_stay_is_shown_and_cancelled_with_the_registration() -> None:
    email = "hotellgjest@example.no"
    course = make_course(kind=CourseKind.PHYSICAL, starts_at=day(21), days=3,
                         hotel_stay_offered=True, title="Prosedyre over tre dager")
    arrival, departure = day(21).date(), day(23).date()
    registration = register(course, email=email, now=timezone.now(), overnight_stay=True,
                            arrival_date=arrival, departure_date=departure)
    client = sign_in(Client(), Person.objects.get(emails__address=email))
    text = " ".join(client.get("/me/", headers={"accept-language": "en"}).content.decode().split())
    stay = (f"Hotel stay booked: 2 nights, {arrival.day} {arrival:%B} {arrival.year}"
            f"–{departure.day} {departure:%B} {departure.year}")
    assert stay in text
    url = f"/me/courses/registrations/{registration.pk}/cancel/"
    page = " ".join(client.get(url, headers={"accept-language": "en"}).content.decode().split())
    assert stay in page
    assert "The hotel stay you booked is cancelled with the registration." in page
    done = client.post(url)
    assert done.status_code == 302
    receipt = client.get(done["Location"], headers={"accept-language": "en"}).content.decode()
    assert "Your registration is cancelled, and the hotel stay booked with it." in receipt
    nb = client.get("/me/", headers={"accept-language": "nb"}).content.decode()
    assert "Hotellopphold bestilt: 2 netter" in nb


def test_a_registration_without_a_hotel_stay_says_nothing_of_one(
    client: Client, history: dict[str, Registration]
) -> None:
    client = sign_in(client, person())
    text = client.get("/me/", headers={"accept-language": "en"}).content.decode()
    assert "Hotel stay booked" not in text
    page = client.get(f"/me/courses/registrations/{history['upcoming'].pk}/cancel/",
                      headers={"accept-language": "en"}).content.decode()
    assert "hotel stay" not in page.lower()
