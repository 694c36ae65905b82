"""The apps' periodic jobs do their duty when the worker runs them (R9, R10, R14)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User

from personvern.core.policy import current_policy
from personvern.core.roles import COURSE_ADMIN, DPO
from personvern.courses.models import CourseKind, Registration
from personvern.courses.services import hotel_list_export, hotel_transfer_confirm_deletion
from personvern.worker.models import JobRunState, OutgoingMail
from personvern.worker.registry import OSLO
from personvern.worker.runner import run_now
from tests.courses.factories import make_course, register
from tests.mail import SMTPTestServer
from tests.retention.factories import at, course_ending
from tests.retention.factories import register as register_for

pytestmark = pytest.mark.django_db


def _staff(username: str, role: str, email: str) -> User:
    user = User.objects.create_user(username, email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.req("R9")
def test_hotels_that_have_not_confirmed_deletion_are_followed_up(
    smtp_server: SMTPTestServer,
) -> None:
    hotel_course = make_course(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2)
    _staff("kursadmin", COURSE_ADMIN, "kurs@jus.no")
    register(hotel_course, overnight_stay=True, arrival_date=date(2025, 4, 9),
             departure_date=date(2025, 4, 11))
    _content, transfer = hotel_list_export(course=hotel_course, actor="test")
    before = datetime(2025, 4, 12, 9, tzinfo=OSLO)
    assert run_now("hotel-deletion-follow-up", now=before).counts == {"overdue": 0, "mails": 0}
    run = run_now("hotel-deletion-follow-up", now=before + timedelta(days=1))
    assert run.counts == {"overdue": 1, "mails": 1}
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["kurs@jus.no"]
    assert transfer.hotel_name in mail.body and hotel_course.title in mail.body
    # Once the hotel confirms, nobody is reminded again.
    hotel_transfer_confirm_deletion(transfer=transfer, actor="kursadmin")
    assert run_now("hotel-deletion-follow-up",
                   now=before + timedelta(days=2)).counts["overdue"] == 0


@pytest.mark.req("R10")
def test_processor_audits_falling_due_are_sent_to_the_data_protection_officer(
    smtp_server: SMTPTestServer,
) -> None:
    _staff("personvern", DPO, "personvern@jus.no")
    processors = current_policy().processors
    assert processors, "the shipped policy names processors"
    latest = max(p.next_audit_due() for p in processors)
    earliest = min(p.next_audit_due() for p in processors)
    quiet = datetime.combine(earliest - timedelta(days=31), datetime.min.time(), tzinfo=OSLO)
    assert run_now("processor-audits", now=quiet).counts["mails"] == 0
    late = datetime.combine(latest + timedelta(days=1), datetime.min.time(), tzinfo=OSLO)
    run = run_now("processor-audits", now=late)
    assert run.counts == {"due": 0, "overdue": len(processors), "mails": 1}
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["personvern@jus.no"]
    for processor in processors:
        assert processor.name_in("nb") in mail.body  # the staff mail is in Norwegian


@pytest.mark.req("R14")
def test_the_nightly_retention_run_deletes_what_is_due() -> None:
    old = course_ending(at(date(2015, 6, 1), 15))
    register_for(old, "gammel@example.no")
    run = run_now("retention-run", now=datetime(2026, 12, 3, 2, 30, tzinfo=OSLO))
    assert run.state == JobRunState.SUCCEEDED
    assert run.counts["rows"] >= 1
    assert not Registration.objects.filter(course=old).exists()


def test_reminders_go_to_the_configured_address_when_no_staff_has_the_role(
    settings: object, smtp_server: SMTPTestServer,
) -> None:
    settings.PERSONVERN_DPO_EMAIL = "dpo@jus.no"  # type: ignore[attr-defined]
    processors = current_policy().processors
    late = datetime.combine(max(p.next_audit_due() for p in processors) + timedelta(days=1),
                            datetime.min.time(), tzinfo=OSLO)
    run_now("processor-audits", now=late)
    assert OutgoingMail.objects.get(kind="processor-audits").recipients == "dpo@jus.no"


def test_failed_logins_are_forgotten_once_their_lock_out_is_over(settings: object) -> None:
    from axes.models import AccessAttempt
    from django.utils import timezone

    now = timezone.now()
    cooloff = settings.AXES_COOLOFF_TIME  # type: ignore[attr-defined]
    for minutes_ago, name in ((1, "fresh"), (cooloff.total_seconds() / 60 + 1, "old")):
        attempt = AccessAttempt.objects.create(
            username=name, ip_address="192.0.2.1", user_agent="", failures_since_start=3,
            get_data="", post_data="", http_accept="", path_info="/admin/login/",
        )
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=now - timedelta(minutes=minutes_ago)
        )
    assert run_now("login-failures-forget", now=now).counts == {"removed": 1}
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["fresh"]
