"""The data protection officer sees each job's health in the back office; other roles do not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from personvern.core.roles import COURSE_ADMIN, DPO, HR, MARKETING
from personvern.worker.models import JobRun, JobRunState, MailState, OutgoingMail
from tests.test_roles import _client

pytestmark = pytest.mark.django_db


def test_failed_and_late_jobs_are_marked_for_the_data_protection_officer() -> None:
    now = timezone.now()
    JobRun.objects.create(job="mail-sweep", slot=now - timedelta(minutes=1), queued_at=now,
                          state=JobRunState.FAILED, error="builtins.RuntimeError")
    response = _client(DPO).get("/admin/worker/jobrun/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    rows = {row.split('data-job="')[1].split('"')[0]: row
            for row in html.split('<tr class="job-')[1:]}
    mail_sweep = rows["mail-sweep"]
    assert mail_sweep.startswith("failed") and "the last run failed" in mail_sweep
    # The nightly retention run never ran although its slot is long past: late.
    retention = rows["retention-run"]
    assert retention.startswith("late") and "has not run when it should have" in retention


def test_refused_mail_is_visible_and_can_be_sent_again() -> None:
    mail = OutgoingMail.objects.create(
        kind="registration-receipt", recipients="kari@example.no", subject="Kvittering",
        message=b"", state=MailState.FAILED, queued_at=timezone.now(),
        next_attempt_at=timezone.now(), last_error="550 5.1.1 No such mailbox",
    )
    client = _client(DPO)
    page = client.get(f"/admin/worker/outgoingmail/{mail.pk}/change/").content.decode()
    assert "550 5.1.1 No such mailbox" in page
    client.post("/admin/worker/outgoingmail/",
                {"action": "send_again", "_selected_action": [mail.pk]})
    mail.refresh_from_db()
    assert mail.state == MailState.QUEUED


@pytest.mark.parametrize("role", [COURSE_ADMIN, MARKETING, HR])
def test_other_roles_see_neither_jobs_nor_outgoing_mail(role: str) -> None:
    client = _client(role)
    assert client.get("/admin/worker/jobrun/").status_code == 403
    assert client.get("/admin/worker/outgoingmail/").status_code == 403
