"""The rights app's periodic jobs: deadline reminders and the intake mailbox (issue 7)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, User

from personvern.core.roles import DPO
from personvern.rights import services
from personvern.rights.models import Request
from personvern.rights.reminders import reminder_recipients, send_deadline_reminders
from personvern.rights.selectors import ReminderBucket, requests_to_remind
from personvern.worker.models import OutgoingMail
from personvern.worker.registry import JobContext, get

from .conftest import ACTOR, oslo

pytestmark = pytest.mark.django_db

# Received on these days, the requests are due (legal deadline) on TODAY - 4, TODAY,
# TODAY + 3 and TODAY + 15: overdue, due today, due soon, not yet.
TODAY = date(2025, 4, 7)  # 5 March + one month


@pytest.fixture
def requests(make_request: Callable[..., Request]) -> dict[str, Request]:
    now = oslo(2025, 3, 25, 9, 0)
    made = {
        "overdue": make_request(received_at=oslo(2025, 3, 3, 10, 0), now=now),
        "today": make_request("erasure", received_at=oslo(2025, 3, 5, 10, 0), now=now),
        "soon": make_request("rectification", received_at=oslo(2025, 3, 10, 10, 0), now=now),
        "later": make_request(received_at=oslo(2025, 3, 21, 10, 0), now=now),
        "done": make_request(received_at=oslo(2025, 3, 3, 10, 0), now=now),
    }
    services.request_cancel(request=made["done"], reason="Withdrawn by the person",
                            actor=ACTOR, now=now)
    assert made["today"].due_legal == TODAY
    assert made["overdue"].due_legal < TODAY < made["soon"].due_legal
    assert made["soon"].due_legal <= TODAY + timedelta(days=7) < made["later"].due_legal
    return made


def _staff(username: str, *, email: str, role: str | None = None) -> User:
    user = User.objects.create_user(username, email=email, is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def _ids(requests: list[Request]) -> list[int]:
    return [r.pk for r in requests]


@pytest.mark.req("R32")
def test_open_requests_are_sorted_into_overdue_due_today_and_due_soon(requests) -> None:  # type: ignore[no-untyped-def]
    buckets = requests_to_remind(today=TODAY)

    assert _ids(buckets[ReminderBucket.OVERDUE]) == [requests["overdue"].pk]
    assert _ids(buckets[ReminderBucket.DUE_TODAY]) == [requests["today"].pk]
    assert _ids(buckets[ReminderBucket.DUE_SOON]) == [requests["soon"].pk]


@pytest.mark.req("R32")
def test_an_assigned_request_goes_to_its_assignee_the_rest_to_the_dpo(requests) -> None:  # type: ignore[no-untyped-def]
    handler = _staff("saksbehandler", email="sb@jus.no")
    services.request_assign(request=requests["soon"], assignee=handler, actor=ACTOR)

    recipients = reminder_recipients(requests_to_remind(today=TODAY),
                                     fallback=lambda: ["dpo@jus.no"])

    assert set(recipients) == {"sb@jus.no", "dpo@jus.no"}
    assert _ids(recipients["sb@jus.no"][ReminderBucket.DUE_SOON]) == [requests["soon"].pk]
    assert _ids(recipients["dpo@jus.no"][ReminderBucket.DUE_SOON]) == []
    assert _ids(recipients["dpo@jus.no"][ReminderBucket.OVERDUE]) == [requests["overdue"].pk]


def _mails() -> dict[str, str]:
    """Recipient -> text of each queued reminder."""
    found = {}
    for mail in OutgoingMail.objects.filter(kind="rights-reminder"):
        parsed = email.message_from_bytes(bytes(mail.message), policy=email.policy.default)
        found[mail.recipients] = str(parsed["Subject"]) + "\n" + parsed.get_content()
    return found


@pytest.mark.req("R32")
def test_the_job_queues_one_mail_per_recipient_without_personal_data(requests, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LANGUAGE_CODE = "en"
    _staff("personvern", email="personvernombud@jus.no", role=DPO)
    handler = _staff("saksbehandler", email="sb@jus.no")
    services.request_assign(request=requests["today"], assignee=handler, actor=ACTOR)

    counts = get("rights-deadline-reminders").run(
        JobContext(now=oslo(2025, 4, 7, 7, 0), job="rights-deadline-reminders")
    )

    assert counts == {"overdue": 1, "due-today": 1, "due-soon": 1, "mails": 2}
    mails = _mails()
    assert set(mails) == {"personvernombud@jus.no", "sb@jus.no"}
    assert str(requests["today"].public_id) in mails["sb@jus.no"]
    assert "Due today:" in mails["sb@jus.no"] and "erasure" in mails["sb@jus.no"]
    dpo = mails["personvernombud@jus.no"]
    assert "Overdue:" in dpo and "Due within 7 days:" in dpo
    assert str(requests["overdue"].public_id) in dpo and str(requests["soon"].public_id) in dpo
    assert str(requests["later"].public_id) not in dpo
    assert str(requests["done"].public_id) not in dpo
    # Nothing about the people the requests concern.
    for request in requests.values():
        address = request.person.emails.get().address
        assert all(address not in text and request.person.family_name not in text
                   for text in mails.values())


@pytest.mark.req("R32")
def test_reminders_are_in_norwegian_and_fall_back_to_the_controller(requests, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LANGUAGE_CODE = "nb"
    settings.PERSONVERN_DPO_EMAIL = ""

    counts = send_deadline_reminders(today=TODAY)

    assert counts["mails"] == 1
    [(recipient, text)] = _mails().items()
    from personvern.core.policy import current_policy

    assert recipient == current_policy().controller.email
    assert "Forfalt:" in text and "Forfaller i dag:" in text and "frist" in text


def test_nothing_due_queues_nothing(make_request) -> None:  # type: ignore[no-untyped-def]
    make_request(received_at=oslo(2025, 3, 21, 10, 0), now=oslo(2025, 3, 25, 9, 0))
    assert send_deadline_reminders(today=TODAY)["mails"] == 0
    assert not OutgoingMail.objects.exists()


@pytest.mark.req("R32")
def test_the_intake_job_is_enabled_by_the_mailbox_url_and_counts_outcomes(  # type: ignore[no-untyped-def]
    imap_server, settings
) -> None:
    from .test_intake import NOW, message

    job = get("rights-intake")
    settings.PERSONVERN_INTAKE_IMAP_URL = ""
    assert not job.enabled()
    settings.PERSONVERN_INTAKE_IMAP_URL = imap_server.url()
    settings.PERSONVERN_INTAKE_IMAP_PASSWORD = imap_server.password
    assert job.enabled()
    imap_server.append(message())
    imap_server.append(message(subject="Personvern", body="Hei.", message_id="<u@x.no>"))
    imap_server.append(message(subject="Kursbevis", message_id="<k@x.no>"))

    counts = job.run(JobContext(now=NOW, job="rights-intake"))

    assert counts["registered"] == 2 and counts["needs_classification"] == 1
    assert counts["failed"] == counts["malformed"] == 0
    assert Request.objects.count() == 2
    again = job.run(JobContext(now=NOW, job="rights-intake"))
    assert again["already_registered"] == 2 and again["registered"] == 0
