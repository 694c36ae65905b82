"""The mails a participant gets, as the suite's SMTP server receives them (R13, R12, R11).

Confirmation (with a calendar file read back with ``icalendar``), waiting list,
a seat freed (by a participant's cancel link, staff's cancellation or a
capacity raised) and the cancellation receipt; each in the language the person
registered in, through the outbox, with the attachment scanned by clamd.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import resolve
from icalendar import Calendar

from personvern.courses import mails, services
from personvern.courses.models import CourseKind, Registration, RegistrationStatus
from personvern.worker.models import OutgoingMail

from .factories import ACTOR, OSLO, make_course, make_venue, register

pytestmark = pytest.mark.django_db


def _calendar(message) -> Calendar:
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename().endswith(".ics")
    content = attachment.get_content()
    return Calendar.from_ical(content if isinstance(content, bytes) else content.encode())


def _cancel_link(body: str) -> str:
    [link] = [line.strip() for line in body.splitlines() if "/courses/cancel/" in line]
    return link


def _token(link: str) -> str:
    match = resolve(urlsplit(link).path)
    assert match.view_name == "courses:cancel"
    return str(match.kwargs["token"])


@pytest.mark.req("R13", "R11")
def test_the_confirmation_has_what_is_needed_to_attend_and_a_calendar_file(
    smtp_server, clamd, settings
):
    settings.PERSONVERN_BASE_URL = "https://kurs.example"
    venue = make_venue(hotel=True, name="Fjellstua", address="Fjellvegen 2\n2640 Vinstra")
    course = make_course(
        kind=CourseKind.PHYSICAL, venue=venue, hotel_stay_offered=True, days=2,
        title="Arverett på fjellet", programme="09:00 Velkommen\n\n10:00 Testamenter",
        price=Decimal("4500"), legal_hours=Decimal("10"), non_legal_hours=Decimal("1.5"),
        ethics_hours=Decimal("2"),
    )
    start = course.starts_at.astimezone(OSLO).date()
    registration = register(
        course, email="gro@example.no", language="en", overnight_stay=True,
        arrival_date=start - timedelta(days=1), departure_date=start + timedelta(days=1),
    )
    services.registration_receipt_send(registration=registration, email="gro@example.no",
                                       actor=ACTOR)

    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["gro@example.no"]
    assert mail.message["Subject"] == "Confirmed: Arverett på fjellet"
    body = mail.body.replace("\r\n", "\n")
    assert "You have a seat at Arverett på fjellet." in body
    assert "When: 10 April 2025, 09:00 – 11 April 2025, 16:00" in body
    assert "Where: Fjellstua\nFjellvegen 2\n2640 Vinstra" in body
    assert f"Hotel: 2 nights at {venue.hotel_name}, arriving 9 April 2025 and leaving " \
           "11 April 2025." in body
    assert "  09:00 Velkommen\n  10:00 Testamenter\n" in body
    assert "Hours: 10 legal, 1.5 non-legal, 2 legal ethics." in body
    assert "Price: NOK 4,500" in body
    assert f"https://kurs.example/courses/{course.slug}/" in body
    link = _cancel_link(body)
    assert link.startswith("https://kurs.example/courses/cancel/")
    assert mails.registration_from_cancel_token(_token(link)) == registration

    event = _calendar(mail.message).walk("VEVENT")[0]
    assert event.decoded("dtstart") == course.starts_at.astimezone(UTC)
    assert event.decoded("dtend") == course.ends_at.astimezone(UTC)
    assert str(event["summary"]) == "Arverett på fjellet"
    assert str(event["location"]) == "Fjellstua, Fjellvegen 2 2640 Vinstra"
    assert str(event["uid"]) == f"registration-{registration.pk}@kurs.example"
    assert OutgoingMail.objects.get().kind == "registration-confirmed"


@pytest.mark.req("R13")
def test_a_digital_confirmation_is_in_the_language_registered_in(smtp_server, clamd):
    course = make_course(
        kind=CourseKind.DIGITAL, title="Skatterett digitalt",
        digital_link="https://meet.example/skatt", price=0,
        starts_at=datetime(2025, 4, 10, 9, tzinfo=OSLO),
    )
    registration = register(course, email="ola@example.no", language="nb")
    services.registration_receipt_send(registration=registration, email="ola@example.no",
                                       actor=ACTOR)  # the test's active language is en

    [mail] = smtp_server.wait_for(1)
    assert mail.message["Subject"] == "Bekreftet: Skatterett digitalt"
    assert "Du har fått plass på Skatterett digitalt. Velkommen!" in mail.body
    assert "Når: 10. april 2025 kl. 09:00–16:00" in mail.body
    assert "Hvor: digitalt\r\nBli med her: https://meet.example/skatt" in mail.body
    assert "Pris: Gratis" in mail.body
    assert "Hotell" not in mail.body
    event = _calendar(mail.message).walk("VEVENT")[0]
    assert str(event["location"]) == "https://meet.example/skatt"


@pytest.mark.req("R13")
def test_the_waiting_list_mail_gives_the_place_in_line_and_no_calendar(smtp_server):
    course = make_course(capacity=1)
    register(course)
    register(course)
    third = register(course, email="tredje@example.no", language="en")
    services.registration_receipt_send(registration=third, email="tredje@example.no",
                                       actor=ACTOR)

    [mail] = smtp_server.wait_for(1)  # no attachment: sent without a scanner
    assert third.status == RegistrationStatus.WAITLISTED
    assert mail.message["Subject"] == f"Waiting list: {course.title}"
    assert "so you are on the waiting list. Your place in line: 2." in mail.body
    assert list(mail.message.iter_attachments()) == []
    assert mails.registration_from_cancel_token(_token(_cancel_link(mail.body))) == third


def test_the_receipt_is_queued_without_its_content_and_written_when_sent(smtp_server):
    course = make_course(capacity=1)
    register(course)
    second = register(course, email="andre@example.no", language="en")
    services.registration_receipt_send(registration=second, email="andre@example.no",
                                       actor=ACTOR)

    queued = OutgoingMail.objects.get()
    # In the registration's transaction: the address, the subject and what to write
    # from (the registration's id); no body, calendar or MIME yet (ADR 0031).
    assert (queued.message, queued.builder, queued.builder_args) == (
        None, mails.BUILDER, {"registration": second.pk, "mail": "waitlisted"}
    )
    assert (queued.recipients, queued.subject, queued.kind) == (
        "andre@example.no", f"Waiting list: {course.title}", "registration-waitlisted"
    )
    [mail] = smtp_server.wait_for(1)
    assert mail.message["Subject"] == f"Waiting list: {course.title}"
    assert "Your place in line: 1." in mail.body
    queued.refresh_from_db()
    assert (queued.state, queued.message, queued.recipients) == ("sent", None, "")


def test_a_receipt_whose_registration_is_gone_is_recorded_as_not_sent(db):
    from personvern.worker.outbox import deliver_due

    registration = register(make_course())
    services.registration_receipt_send(registration=registration, email="borte@example.no",
                                       actor=ACTOR)
    Registration.objects.filter(pk=registration.pk).delete()

    assert deliver_due()["failed"] == 1
    queued = OutgoingMail.objects.get()
    assert queued.state == "failed"
    assert queued.last_error == "nothing to send: what the message was about is gone"


@pytest.mark.req("R13")
def test_participant_cancel_sends_the_receipt_and_tells_the_person_moved_up(
    smtp_server, clamd
):
    course = make_course(capacity=1)
    seated = register(course, email="forst@example.no", language="en")
    waiting = register(course, email="neste@example.no", language="nb")
    now = course.starts_at - timedelta(days=2)

    result = services.participant_cancel(registration=seated, actor="participant", now=now)

    assert [r.pk for r in result.promoted] == [waiting.pk]
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.CONFIRMED
    received = {m.rcpt_tos[0]: m for m in smtp_server.wait_for(2)}
    receipt = received["forst@example.no"]
    assert receipt.message["Subject"] == f"Cancelled: {course.title}"
    assert "is cancelled" in receipt.body and "/courses/cancel/" not in receipt.body
    promoted = received["neste@example.no"]
    assert promoted.message["Subject"] == f"Du har fått plass: {course.title}"
    assert "rykket opp fra ventelisten" in promoted.body
    assert "/courses/cancel/" in promoted.body
    assert _calendar(promoted.message).walk("VEVENT")
    assert set(OutgoingMail.objects.values_list("kind", flat=True)) == {
        "registration-cancelled", "registration-promoted"}


def test_participant_cancel_is_refused_once_the_course_has_started(db):
    course = make_course(capacity=1)
    seated = register(course)
    waiting = register(course)
    with pytest.raises(ValidationError) as refused:
        services.participant_cancel(registration=seated, actor="participant",
                                    now=course.starts_at)
    assert "status" in refused.value.error_dict
    assert Registration.objects.get(pk=seated.pk).status == RegistrationStatus.CONFIRMED
    assert Registration.objects.get(pk=waiting.pk).status == RegistrationStatus.WAITLISTED
    assert not OutgoingMail.objects.exists()

    services.participant_cancel(registration=seated, actor="participant",
                                now=course.starts_at - timedelta(seconds=1))
    with pytest.raises(ValidationError):  # twice: already cancelled
        services.participant_cancel(registration=seated, actor="participant",
                                    now=course.starts_at - timedelta(seconds=1))


@pytest.mark.req("R13")
def test_a_seat_freed_by_staff_or_a_larger_room_is_told_too(smtp_server, clamd):
    course = make_course(capacity=1)
    seated = register(course)
    second = register(course, email="andre@example.no", language="en")
    third = register(course, email="tredje@example.no")  # no language: the site's, nb

    services.registration_cancel(registration=seated, actor="staff")  # back office
    services.course_update(course=course, changes={"capacity": 2}, actor="staff")

    received = smtp_server.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in received) == ["andre@example.no", "tredje@example.no"]
    subjects = {m.rcpt_tos[0]: m.message["Subject"] for m in received}
    assert subjects == {"andre@example.no": f"You have a seat: {course.title}",
                        "tredje@example.no": f"Du har fått plass: {course.title}"}
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == third.status == RegistrationStatus.CONFIRMED


def test_no_promotion_mail_when_the_change_rolls_back(db):
    course = make_course(capacity=1)
    seated = register(course)
    register(course)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.participant_cancel(registration=seated, actor="participant",
                                    now=course.starts_at - timedelta(days=1))
        raise RuntimeError("the request failed after the cancellation")
    assert not OutgoingMail.objects.exists()
    assert Registration.objects.get(pk=seated.pk).status == RegistrationStatus.CONFIRMED


def test_a_cancel_token_is_not_another_signed_value(db):
    from django.core import signing

    course = make_course()
    registration = register(course)
    good = mails.cancel_token(registration)
    assert mails.registration_from_cancel_token(good) == registration
    other_salt = signing.dumps({"r": registration.pk}, salt="personvern.newsletter", compress=True)
    assert mails.registration_from_cancel_token(other_salt) is None
    assert mails.registration_from_cancel_token(good[:-2] + "xx") is None
    assert mails.registration_from_cancel_token("not-a-token") is None
