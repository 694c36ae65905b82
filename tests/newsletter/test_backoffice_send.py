"""Marketing writes, previews and sends a newsletter in the back office (R16–R18).

The send goes through the worker (a real task queue in the database) to the
real SMTP server the tests start; the mailing's page shows the progress, a
send that gave up is shown failed (and can be resumed), and nothing is sent twice.
"""

from __future__ import annotations

import re
import smtplib
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from personvern.core import services as core
from personvern.core.models import AuditEntry, Objection
from personvern.core.roles import MARKETING
from personvern.newsletter import services
from personvern.newsletter.models import Newsletter
from personvern.newsletter.selectors import SendState, send_progress
from personvern.newsletter.tasks import MAX_ATTEMPTS, send_newsletter
from personvern.worker.runner import Worker
from tests.mail import ReceivedMessage, SMTPTestServer
from tests.newsletter.test_sending import _subscriber

pytestmark = pytest.mark.django_db(transaction=True)


def _marketing() -> Client:
    user = User.objects.create_user("marked", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _copies(smtp_server: SMTPTestServer) -> list[ReceivedMessage]:
    """The newsletter copies received (not the staff notices the suite may also send)."""
    return [m for m in smtp_server.messages if m.rcpt_tos[0].endswith("@example.no")]


def _url(name: str, newsletter: Newsletter) -> str:
    return reverse(f"admin:newsletter_newsletter_{name}", args=[newsletter.pk])


def _write(client: Client, body: str = "Nye kurs: https://www.jus.no/kurs/ i vår.") -> Newsletter:
    response = client.post(reverse("admin:newsletter_newsletter_add"),
                           {"subject": "Nytt fra JUS", "body": body})
    assert response.status_code == 302
    return Newsletter.objects.get(subject="Nytt fra JUS")


@pytest.mark.req("R16")
def test_the_preview_shows_text_and_html_for_a_sample_recipient_and_sends_nothing(
    smtp_server: SMTPTestServer,
) -> None:
    _subscriber("abonnent@example.no")
    client = _marketing()
    newsletter = _write(client)
    page = client.get(_url("preview", newsletter)).content.decode()
    assert "Nytt fra JUS" in page and "kari.nordmann@example.no" in page
    # The HTML part as a recipient sees it: paragraphs with the (tracked) link made clickable.
    assert re.search(r'<div class="newsletter-preview"><p>Nye kurs: <a href="[^"]*/newsletter/',
                     page)
    # The text part, with the unsubscribe link every copy ends with.
    assert re.search(r'<pre class="newsletter-preview-text">Nye kurs: ', page)
    assert page.count("/newsletter/unsubscribe/") >= 2
    assert "abonnent@example.no" not in page  # no real subscriber's links or address
    Worker(worker_id="test").start(once=True)
    assert _copies(smtp_server) == []
    assert Newsletter.objects.get(pk=newsletter.pk).send_cursor is None
    # The sample's unsubscribe link names nobody: following it unsubscribes no one.
    link = re.search(r"https?://[^\s<\"]+/newsletter/unsubscribe/[^\s<\"]+/", page)
    assert link is not None
    Client().post(urlsplit(link.group(0)).path)
    assert not AuditEntry.objects.filter(action="newsletter.unsubscribed").exists()


@pytest.mark.req("R16")
@pytest.mark.req("R17")
@pytest.mark.req("R18")
def test_send_from_the_back_office_delivers_with_progress_and_never_twice(
    smtp_server: SMTPTestServer, settings: object
) -> None:
    settings.PERSONVERN_BATCH_SIZE = 2  # type: ignore[attr-defined]
    for i in range(5):
        _subscriber(f"abonnent{i}@example.no")
    objecting = _subscriber("nei@example.no").person  # no valid basis: an objection
    core.objection_record(person=objecting, activity=Objection.DIRECT_MARKETING, actor="test")
    client = _marketing()
    newsletter = _write(client)

    confirm = client.get(_url("send", newsletter)).content.decode()
    assert "5 subscribers" in confirm
    assert client.post(_url("send", newsletter)).status_code == 302
    # A second click (or a second member of staff) queues nothing more.
    client.post(_url("send", newsletter))
    client.post(reverse("admin:newsletter_newsletter_changelist"),
                {"action": "send", "_selected_action": [newsletter.pk]})
    assert AuditEntry.objects.filter(action="newsletter.send_queued").count() == 1
    newsletter.refresh_from_db()
    assert send_progress(newsletter).state == SendState.QUEUED
    page = client.get(_url("change", newsletter)).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "0 of 5 copies" in page
    assert _copies(smtp_server) == []  # nothing goes out in the request

    Worker(worker_id="test").start(once=True)
    smtp_server.wait_for(5)
    copies = _copies(smtp_server)
    assert sorted(m.rcpt_tos[0] for m in copies) == [f"abonnent{i}@example.no" for i in range(5)]
    assert all("/newsletter/unsubscribe/" in m.body for m in copies)
    newsletter.refresh_from_db()
    progress = send_progress(newsletter)
    assert (progress.state, progress.done, progress.total) == (SendState.SENT, 5, 5)
    assert AuditEntry.objects.filter(action="newsletter.batch_sent").count() == 3
    page = client.get(_url("change", newsletter)).content.decode()
    assert "5 of 5 copies" in page and 'http-equiv="refresh"' not in page

    # Sent: every way of sending it again is refused, and nothing more goes out.
    client.post(_url("send", newsletter))
    with translation.override("en"), pytest.raises(ValidationError, match="already been sent"):
        services.newsletter_send(newsletter=newsletter, actor="test")
    send_newsletter.enqueue(newsletter.pk, "test")
    Worker(worker_id="test").start(once=True)
    assert len(_copies(smtp_server)) == 5


@pytest.mark.req("R16")
def test_a_send_that_gives_up_is_shown_failed_and_resumes_without_second_copies(
    smtp_server: SMTPTestServer, settings: object
) -> None:
    settings.PERSONVERN_BATCH_SIZE = 1  # type: ignore[attr-defined]
    for i in range(3):
        _subscriber(f"abonnent{i}@example.no")
    client = _marketing()
    newsletter = _write(client)
    # The first copy goes out; then the mail server goes away for good.
    services.newsletter_queue_send(newsletter=newsletter, actor="test")
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the queued task stands in for a dead worker's

    def then_fail(sent: int, total: int) -> None:
        if sent == 1:
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # type: ignore[attr-defined]

    with pytest.raises(OSError):
        services.newsletter_send(newsletter=newsletter, actor="test", progress=then_fail)
    newsletter.refresh_from_db()
    assert send_progress(newsletter).state == SendState.STOPPED  # not "being sent" for ever
    send_newsletter.enqueue(newsletter.pk, "test", MAX_ATTEMPTS)  # the last try
    Worker(worker_id="test").start(once=True)
    newsletter.refresh_from_db()
    assert newsletter.send_failed_at is not None and newsletter.send_error.endswith("Error")
    assert AuditEntry.objects.filter(action="newsletter.send_failed").count() == 1
    page = client.get(_url("change", newsletter)).content.decode()
    assert "Sending failed" in page and "1 of 3 copies" in page
    assert 'http-equiv="refresh"' not in page and "Resume sending" in page

    # The server is back: staff resume it, and only the two still waiting get a copy.
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port  # type: ignore[attr-defined]
    assert client.post(_url("send", newsletter)).status_code == 302
    assert AuditEntry.objects.filter(action="newsletter.send_resumed").count() == 1
    Worker(worker_id="test").start(once=True)
    smtp_server.wait_for(3)
    received = [m.rcpt_tos[0] for m in _copies(smtp_server)]
    assert sorted(received) == [f"abonnent{i}@example.no" for i in range(3)]
    newsletter.refresh_from_db()
    assert send_progress(newsletter).state == SendState.SENT and newsletter.recipient_count == 3


def test_a_send_held_by_a_live_run_cannot_be_resumed() -> None:
    newsletter = services.newsletter_create(subject="Nytt", body="Tekst", actor="test")
    Newsletter.objects.filter(pk=newsletter.pk).update(
        send_cursor=0, send_run="x", send_lease_until=timezone.now() + services.SEND_LEASE)
    with translation.override("en"), pytest.raises(ValidationError, match="being sent"):
        services.newsletter_queue_send(newsletter=newsletter, actor="test")
    assert send_progress(Newsletter.objects.get(pk=newsletter.pk)).state == SendState.SENDING
    assert isinstance(smtplib.SMTPException(), Exception)


def test_a_subject_of_more_than_one_line_is_an_error_beside_the_field() -> None:
    """A header cannot hold a line break: the form says so (the service's refusal was a 500)."""
    client = _marketing()
    add = client.post(reverse("admin:newsletter_newsletter_add"),
                      {"subject": "Nytt\r\nBcc: alle@example.no", "body": "b"})
    assert add.status_code == 200 and "The subject must be one line." in add.content.decode()
    assert not Newsletter.objects.exists()
    newsletter = services.newsletter_create(subject="Nytt", body="b", actor="t")
    change = client.post(reverse("admin:newsletter_newsletter_change", args=[newsletter.pk]),
                         {"subject": "Nytt\nfra JUS", "body": "b"})
    assert change.status_code == 200 and "The subject must be one line." in change.content.decode()
    assert Newsletter.objects.get(pk=newsletter.pk).subject == "Nytt"
