"""The public course list, the course page and the cancel link's pages (R12, R13).

Served by the real views through Django's test client: the filters, paging, the
query counts (no query per course), what the course page says in each state,
and what the cancel link does on GET and on POST.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from personvern.courses import mails, services
from personvern.courses.models import Course, CourseKind, Registration, RegistrationStatus
from personvern.worker.models import OutgoingMail

from .factories import ACTOR, OSLO, make_course, make_venue, register

pytestmark = pytest.mark.django_db


def _ahead(days: int, hour: int = 9) -> datetime:
    day = timezone.localtime(timezone.now(), OSLO).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=OSLO)


def _upcoming(in_days: int = 30, **kwargs) -> Course:
    return make_course(starts_at=_ahead(in_days), **kwargs)


def _get(client: Client, url: str, lang: str = "en", **params) -> str:
    response = client.get(url, params, headers={"accept-language": lang})
    assert response.status_code == 200, response.status_code
    return " ".join(response.content.decode().split())


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="ds-heading" data-size="sm"><a class="ds-link" href="[^"]+">'
                      r"([^<]+)</a></h2>", html)


# -- the list ------------------------------------------------------------------------


@pytest.mark.req("R12")
def test_the_list_shows_upcoming_courses_with_place_hours_and_seats(client: Client) -> None:
    venue = make_venue(name="Jus.no kurssenter", address="Kristian Augusts gate 9, 0164 Oslo")
    physical = _upcoming(10, kind=CourseKind.PHYSICAL, venue=venue, title="Arverett i praksis",
                         legal_hours=Decimal("5.5"), non_legal_hours=1, ethics_hours=1)
    full = _upcoming(20, capacity=1, title="Skatterett digitalt")
    register(full, now=timezone.now())
    make_course(starts_at=_ahead(-3), title="Gammelt kurs")  # over: not listed

    html = _get(client, "/courses/")
    assert _titles(html) == ["Arverett i praksis", "Skatterett digitalt"]
    assert "Jus.no kurssenter, Oslo" in html
    assert "7.5 in all, 1 of them legal ethics" in html
    assert "10 seats left" in html
    assert "Full: waiting list only" in html
    assert f'href="/courses/{physical.slug}/"' in html
    nb = _get(client, "/courses/", lang="nb")
    assert "7,5 i alt, av dem 1 advokatetikk" in nb and "Fullt: bare venteliste" in nb
    start = physical.starts_at.astimezone(OSLO)
    assert f"{start.day}. " in nb and "kl. 09:00–16:00" in nb


@pytest.mark.req("R12")
def test_search_and_filters_narrow_the_list_in_a_plain_get_form(client: Client) -> None:
    arv = _upcoming(10, kind=CourseKind.PHYSICAL, title="Arv og skifte", subject="Arverett",
                    summary="Testamenter og uskifte.")
    _upcoming(12, title="Skatt for rådgivere", subject="Skatterett",
              summary="Nytt om arv og gave i skatteretten.")
    later = _upcoming(70, title="Personvern i praksis", subject="Personvern")

    html = _get(client, "/courses/")
    assert '<form method="get" action="/courses/" role="search"' in html
    assert '<option value="Arverett">Arverett</option>' in html

    assert _titles(_get(client, "/courses/", q="testamenter")) == ["Arv og skifte"]
    assert _titles(_get(client, "/courses/", q="arv")) == ["Arv og skifte", "Skatt for rådgivere"]
    assert _titles(_get(client, "/courses/", subject="Arverett")) == ["Arv og skifte"]
    assert _titles(_get(client, "/courses/", kind="physical")) == ["Arv og skifte"]
    assert _titles(_get(client, "/courses/", kind="digital", q="arv")) == ["Skatt for rådgivere"]
    month = f"{later.starts_at.astimezone(OSLO):%Y-%m}"
    if month != f"{arv.starts_at.astimezone(OSLO):%Y-%m}":
        assert _titles(_get(client, "/courses/", month=month)) == ["Personvern i praksis"]
    none = _get(client, "/courses/", q="ingenting slikt")
    assert _titles(none) == [] and "No upcoming course matches your search" in none


def test_a_filter_value_that_is_not_offered_is_reported_and_left_out(client: Client) -> None:
    _upcoming(10, title="Arv og skifte", subject="Arverett")
    html = _get(client, "/courses/", subject="Ukjent", month="2020-13", q="a\x00b")
    assert _titles(html) == ["Arv og skifte"]
    assert html.count('class="errorlist') >= 2 or html.count("Select a valid choice") >= 2


def test_the_list_is_paginated_and_the_pages_keep_the_filters(client: Client) -> None:
    for n in range(23):
        _upcoming(5 + n, title=f"Kurs nummer {n:02}", subject="Arverett")
    first = _get(client, "/courses/", subject="Arverett")
    assert len(_titles(first)) == 20
    assert "Page 1 of 2" in first
    assert 'href="?subject=Arverett&amp;page=2"' in first
    second = _get(client, "/courses/", subject="Arverett", page="2")
    assert _titles(second) == ["Kurs nummer 20", "Kurs nummer 21", "Kurs nummer 22"]
    assert _titles(_get(client, "/courses/", page="99")) == _titles(
        _get(client, "/courses/", page="2"))


def _queries(client: Client, url: str) -> int:
    client.get(url)  # sessions, translations and templates warmed up
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _course_queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return sum('"courses_' in q["sql"] for q in captured)


def test_the_list_and_the_course_page_read_a_fixed_number_of_queries(client: Client) -> None:
    """No query per course or per registration: seat counts are annotated in one query."""
    venue = make_venue()
    course = _upcoming(3, kind=CourseKind.PHYSICAL, venue=venue, capacity=50, subject="A")
    register(course, now=timezone.now())
    few_list = _queries(client, "/courses/")
    few_page = _queries(client, f"/courses/{course.slug}/")

    for n in range(15):
        other = _upcoming(4 + n, kind=CourseKind.PHYSICAL if n % 2 else CourseKind.DIGITAL,
                          venue=make_venue() if n % 2 else None, subject=f"S{n}")
        register(other, now=timezone.now())
    for _n in range(10):
        register(course, now=timezone.now())

    assert _queries(client, "/courses/") == few_list
    assert _queries(client, f"/courses/{course.slug}/") == few_page
    # The list: subjects, months, the count for paging, one page of courses with their
    # venues and seat counts. The course page: the course with its venue and counts.
    assert _course_queries(client, "/courses/") == 4
    assert _course_queries(client, f"/courses/{course.slug}/") == 1


# -- the course page -----------------------------------------------------------------


@pytest.mark.req("R12", "R11")
def test_the_course_page_gives_everything_a_participant_asks_before_registering(
    client: Client,
) -> None:
    venue = make_venue(name="Fjellstua", address="Fjellvegen 2, 2640 Vinstra",
                       hotel_name="Fjellstua hotell", hotel_email="booking@fjellstua.example")
    course = _upcoming(
        30, kind=CourseKind.PHYSICAL, venue=venue, hotel_stay_offered=True, days=2,
        title="Arverett på fjellet", summary="To dager om arv.",
        description="Første avsnitt.\n\nAndre avsnitt.", programme="09:00 Velkommen\n10:00 Arv",
        price=Decimal("4500"), legal_hours=10, non_legal_hours=Decimal("1.5"), ethics_hours=2,
        capacity=40,
    )
    html = _get(client, f"/courses/{course.slug}/")
    for text in ("Arverett på fjellet", "To dager om arv.", "<p>Første avsnitt.</p>",
                 "<li>09:00 Velkommen</li>", "Fjellstua<br>Fjellvegen 2, 2640 Vinstra",
                 "Offered at Fjellstua hotell", "NOK 4,500", "40 of 40 seats left",
                 "Legal subjects</th><td>10</td>", "Non-legal subjects</th><td>1.5</td>",
                 "Legal ethics</th><td>2</td>", "In all</th><td>13.5</td>",
                 'name="overnight_stay"', 'name="arrival_date"', ">Register</button>"):
        assert text in html, text
    assert "waiting-list-notice" not in html
    nb = _get(client, f"/courses/{course.slug}/", lang="nb")
    assert "kr 4 500" in nb.replace("\xa0", " ") and "1,5" in nb and "Meld deg på" in nb


def test_a_digital_course_page_says_digital_and_offers_no_hotel(client: Client) -> None:
    course = _upcoming(digital_link="https://meet.example/hemmelig", price=0)
    html = _get(client, f"/courses/{course.slug}/")
    assert "Digital: the link to join comes with your confirmation." in html
    assert "https://meet.example/hemmelig" not in html  # for confirmed participants only
    assert "Not offered" in html and "Free of charge" in html
    assert 'name="dietary_needs"' not in html


@pytest.mark.req("R12")
def test_a_full_course_says_before_submitting_that_it_is_the_waiting_list(
    client: Client,
) -> None:
    course = _upcoming(capacity=1)
    register(course, now=timezone.now())
    html = _get(client, f"/courses/{course.slug}/")
    assert 'id="waiting-list-notice"' in html
    assert "If you register now, you are put on the waiting list" in html
    assert ">Join the waiting list</button>" in html


@pytest.mark.parametrize(("state", "expected"), [
    ("closed", "Registration for this course is closed."),
    ("started", "This course has started; registration is closed."),
    ("over", "This course is over."),
])
def test_no_form_when_registration_is_closed_or_the_course_has_begun(
    client: Client, state: str, expected: str
) -> None:
    if state == "closed":
        course = _upcoming(registration_open=False)
    elif state == "started":
        course = make_course(starts_at=timezone.now() - timedelta(hours=1), days=1)
    else:
        course = make_course(starts_at=_ahead(-10))
    html = _get(client, f"/courses/{course.slug}/")
    assert expected in html
    assert 'name="given_name"' not in html
    response = client.post(f"/courses/{course.slug}/", {
        "given_name": "Kari", "family_name": "N", "email": "kari@example.no"})
    assert response.status_code == 200 and not Registration.objects.exists()


def test_the_former_registration_address_leads_to_the_course_page(client: Client) -> None:
    course = _upcoming()
    response = client.get(f"/courses/{course.slug}/register/")
    assert (response.status_code, response["Location"]) == (302, f"/courses/{course.slug}/")
    assert client.get("/courses/no-such-course/").status_code == 404
    assert client.get("/courses/no-such-course/register/").status_code == 404


@pytest.mark.req("R12")
def test_registering_stores_the_language_of_the_page(client: Client) -> None:
    course = _upcoming()
    response = client.post(f"/courses/{course.slug}/", {
        "given_name": "Kari", "family_name": "Nordmann", "email": "kari@example.no",
    }, headers={"accept-language": "en"})
    assert response.status_code == 302
    assert Registration.objects.get().language == "en"
    assert OutgoingMail.objects.get().kind == "registration-confirmed"


# -- the cancel link -----------------------------------------------------------------


def _cancel_path(registration: Registration) -> str:
    return f"/courses/cancel/{mails.cancel_token(registration)}/"


@pytest.mark.req("R13")
def test_the_cancel_link_shows_on_get_and_cancels_only_on_post(client: Client) -> None:
    course = _upcoming(capacity=1)
    seated = register(course, now=timezone.now())
    waiting = register(course, now=timezone.now())
    path = _cancel_path(seated)

    html = _get(client, path)
    assert "Cancel your registration" in html and course.title in html
    assert "You have a seat at this course" in html
    assert client.head(path).status_code == 200
    assert Registration.objects.get(pk=seated.pk).status == RegistrationStatus.CONFIRMED

    done = client.post(path, headers={"accept-language": "en"})
    assert done.status_code == 200
    assert "Your registration is cancelled" in done.content.decode()
    assert Registration.objects.get(pk=seated.pk).status == RegistrationStatus.CANCELLED
    assert Registration.objects.get(pk=waiting.pk).status == RegistrationStatus.CONFIRMED
    assert sorted(OutgoingMail.objects.values_list("kind", flat=True)) == [
        "registration-cancelled", "registration-promoted"]

    again = client.post(path, headers={"accept-language": "en"})
    assert again.status_code == 410 and "Already cancelled" in again.content.decode()
    assert client.get(path).status_code == 410
    assert OutgoingMail.objects.count() == 2


def test_a_forged_expired_or_late_cancel_link_fails_clearly(client: Client, monkeypatch) -> None:
    course = _upcoming()
    registration = register(course, now=timezone.now())
    token = mails.cancel_token(registration)

    forged = client.get(f"/courses/cancel/{token[:-3]}abc/", headers={"accept-language": "en"})
    assert forged.status_code == 404
    assert "Not a valid cancel link" in forged.content.decode()
    assert client.post(f"/courses/cancel/{token[:-3]}abc/").status_code == 404

    monkeypatch.setattr(mails, "CANCEL_LINK_MAX_AGE", timedelta(seconds=-1))
    expired = client.post(f"/courses/cancel/{token}/", headers={"accept-language": "en"})
    assert expired.status_code == 410 and "The link has expired" in expired.content.decode()
    monkeypatch.undo()

    services.course_update(course=course, changes={"starts_at": timezone.now() - timedelta(
        minutes=5), "ends_at": timezone.now() + timedelta(hours=3)}, actor=ACTOR)
    late = client.post(f"/courses/cancel/{token}/", headers={"accept-language": "en"})
    assert late.status_code == 410 and "Too late to cancel here" in late.content.decode()
    assert Registration.objects.get(pk=registration.pk).status == RegistrationStatus.CONFIRMED
    assert not OutgoingMail.objects.exists()


def test_the_cancel_pages_in_norwegian(client: Client) -> None:
    course = _upcoming()
    registration = register(course, now=timezone.now())
    html = _get(client, _cancel_path(registration), lang="nb")
    assert "Meld meg av" in html and "Behold påmeldingen" in html
