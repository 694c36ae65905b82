"""Marketing sends a newsletter from the back office; the worker mails it in the background."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from personvern.core.models import AuditEntry
from personvern.core.roles import MARKETING
from personvern.newsletter.models import Newsletter
from personvern.worker.runner import Worker
from tests.mail import SMTPTestServer
from tests.newsletter.test_sending import _newsletter, _subscriber


def _marketing_client() -> Client:
    user = User.objects.create_user("marked", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.req("R16")
@pytest.mark.django_db(transaction=True)
def test_the_send_action_queues_the_mailing_and_the_worker_sends_it(
    smtp_server: SMTPTestServer,
) -> None:
    for i in range(3):
        _subscriber(f"abonnent{i}@example.no")
    newsletter = _newsletter()
    response = _marketing_client().post(
        "/admin/newsletter/newsletter/",
        {"action": "send", "_selected_action": [newsletter.pk]},
    )
    assert response.status_code == 302
    # Nothing went out in the request: the mailing waits for the worker.
    assert smtp_server.messages == []
    newsletter.refresh_from_db()
    assert newsletter.sent_at is None
    assert AuditEntry.objects.filter(action="newsletter.send_queued").count() == 1

    Worker(worker_id="test").start(once=True)
    copies = [m for m in smtp_server.wait_for(3) if m.rcpt_tos[0].endswith("@example.no")]
    assert sorted(m.rcpt_tos[0] for m in copies) == [f"abonnent{i}@example.no" for i in range(3)]
    newsletter.refresh_from_db()
    assert (newsletter.sent_at is not None, newsletter.recipient_count) == (True, 3)


@pytest.mark.django_db(transaction=True)
def test_a_mailing_whose_server_is_down_is_retried_later(settings: object) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # type: ignore[attr-defined]
    _subscriber("abonnent@example.no")
    newsletter = _newsletter()
    from personvern.newsletter.services import newsletter_queue_send

    newsletter_queue_send(newsletter=newsletter, actor="test")
    Worker(worker_id="test").start(once=True)
    newsletter.refresh_from_db()
    assert newsletter.sent_at is None
    retry = DBTaskResult.objects.get(status="READY", task_path__endswith=".send_newsletter")
    assert retry.args_kwargs["args"] == [newsletter.pk, "test", 2]
    assert Newsletter.objects.get(pk=newsletter.pk).send_cursor == 0  # resumes from here
