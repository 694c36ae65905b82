"""Outgoing mail is queued with its change and sent by the worker over real SMTP."""

from __future__ import annotations

import email.policy
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from personvern.worker import outbox
from personvern.worker.models import MailState, OutgoingMail
from personvern.worker.outbox import (
    Outcome,
    deliver,
    deliver_due,
    queue_mail,
    queue_mail_each,
    retry_delay,
)
from personvern.worker.runner import Worker
from tests.mail import SMTPTestServer
from tests.scanning import eicar

ADDRESS = "kari@example.no"

NB_SUBJECT = (
    "Påmelding til «Årsmøte i Ærlige Øyvinds forening» – kurs i Tromsø, "
    "bekreftelse på plass og venteliste for særlige behov"
)
NB_BODY = "Hei Åse Ødegård!\n\nDu står på lista for kurset i Bodø. Blåbærsyltetøy.\n" + (
    "æøå " * 300
) + "\nHilsen\nJUS\n"


def _queue(**kwargs: object) -> OutgoingMail:
    return queue_mail(to=ADDRESS, subject="Kvittering", body="Hei Kari", kind="test", **kwargs)


@pytest.mark.django_db
def test_nothing_is_queued_or_sent_for_a_change_that_rolls_back(
    smtp_server: SMTPTestServer,
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue()
        raise RuntimeError("the change fails after queuing its mail")
    assert not OutgoingMail.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert deliver_due()["sent"] == 0
    assert smtp_server.messages == []


@pytest.mark.django_db(transaction=True)
def test_committed_mail_is_sent_by_the_worker_and_then_emptied(
    smtp_server: SMTPTestServer,
) -> None:
    with transaction.atomic():
        mail = _queue()
    # The row is the queue: no task record per message (ADR 0036); the worker's
    # round finds it due and sends it.
    assert not DBTaskResult.objects.filter(task_path__endswith="deliver_mail").exists()
    totals = Worker(worker_id="test-worker").start(once=True)
    assert totals["mail"] >= 1
    # The jobs the worker ran may have mailed staff too (reminders); ours is there.
    [received] = [m for m in smtp_server.wait_for(1) if m.rcpt_tos == [ADDRESS]]
    assert received.rcpt_tos == [ADDRESS]
    assert received.message["Subject"] == "Kvittering"
    assert "Hei Kari" in received.body
    mail.refresh_from_db()
    assert mail.state == MailState.SENT
    assert (mail.recipients, mail.subject, mail.message) == ("", "", None)


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried_with_backoff(smtp_server: SMTPTestServer) -> None:
    smtp_server.refuse(ADDRESS, "450 4.2.1 Mailbox busy, try later")
    mail = _queue()
    start = timezone.now()
    assert deliver(mail.pk, now=start) == Outcome.RETRY
    mail.refresh_from_db()
    assert mail.state == MailState.QUEUED
    assert mail.attempts == 1
    assert mail.last_error.startswith("450 ")
    assert mail.next_attempt_at >= start + retry_delay(1)
    # Before then nothing is due: neither the message nor a round of the worker sends it.
    assert deliver(mail.pk, now=start) == Outcome.SKIPPED
    assert deliver_due(now=start)["retry"] == 0
    assert deliver_due(now=mail.next_attempt_at - timedelta(seconds=1)) == {
        "sent": 0, "retry": 0, "failed": 0, "skipped": 0}

    smtp_server.refuse(ADDRESS, "451 4.3.0 Still busy")
    later = mail.next_attempt_at + timedelta(seconds=1)
    assert deliver(mail.pk, now=later) == Outcome.RETRY
    mail.refresh_from_db()
    assert mail.attempts == 2
    assert mail.next_attempt_at >= later + retry_delay(2)

    smtp_server.accept(ADDRESS)
    assert deliver(mail.pk, now=mail.next_attempt_at) == Outcome.SENT
    assert len(smtp_server.wait_for(1)) == 1


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)
    ]
    assert retry_delay(30) == outbox.LONGEST_RETRY


@pytest.mark.django_db
def test_a_permanent_refusal_is_recorded_against_the_message(
    smtp_server: SMTPTestServer,
) -> None:
    smtp_server.refuse(ADDRESS, "550 5.1.1 No such mailbox")
    mail = _queue()
    assert deliver(mail.pk) == Outcome.FAILED
    mail.refresh_from_db()
    assert mail.state == MailState.FAILED
    assert mail.last_error == "550 5.1.1 No such mailbox"
    assert mail.recipients == ADDRESS  # kept so staff can act on it
    # Staff fix it and send again from the back office.
    smtp_server.accept(ADDRESS)
    assert outbox.retry_now(mail)
    assert deliver_due()["sent"] == 1


@pytest.mark.django_db
def test_temporary_refusals_end_in_a_recorded_failure(smtp_server: SMTPTestServer) -> None:
    smtp_server.refuse(ADDRESS, "421 4.7.0 Try again later")
    mail = _queue()
    now = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        assert deliver(mail.pk, now=now) == Outcome.RETRY
        mail.refresh_from_db()
        now = mail.next_attempt_at
    assert deliver(mail.pk, now=now) == Outcome.FAILED
    mail.refresh_from_db()
    assert mail.last_error.startswith(f"gave up after {outbox.MAX_ATTEMPTS} attempts")


@pytest.mark.req("R21")
@pytest.mark.django_db
def test_attachments_are_scanned_before_sending(
    smtp_server: SMTPTestServer, clamd: str
) -> None:
    clean = _queue(attachments=[("deltakere.csv", b"navn\nKari\n", "text/csv")])
    infected = _queue(attachments=[("deltakere.csv", eicar(), "text/csv")])
    assert deliver(clean.pk) == Outcome.SENT
    assert deliver(infected.pk) == Outcome.FAILED
    infected.refresh_from_db()
    assert "virus scanner" in infected.last_error
    [received] = smtp_server.wait_for(1)
    assert [p.get_filename() for p in received.message.iter_attachments()] == ["deltakere.csv"]


@pytest.mark.req("R21")
@pytest.mark.django_db
def test_an_unreachable_scanner_keeps_the_attachment_unsent(
    smtp_server: SMTPTestServer, settings: object, tmp_path: object
) -> None:
    settings.PERSONVERN_CLAMD_URL = f"unix://{tmp_path}/no-clamd.sock"  # type: ignore[attr-defined]
    mail = _queue(attachments=[("liste.xlsx", b"PK\x03\x04", "application/octet-stream")])
    assert deliver(mail.pk) == Outcome.RETRY
    mail.refresh_from_db()
    assert mail.state == MailState.QUEUED
    assert "could not be reached" in mail.last_error
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_a_claimed_message_is_not_sent_twice(smtp_server: SMTPTestServer) -> None:
    mail = _queue()
    now = timezone.now()
    # A worker claimed it and died before sending: the lease keeps others off…
    assert outbox._claim(mail.pk, now) is not None
    assert deliver(mail.pk, now=now) == Outcome.SKIPPED
    # …until it has passed; then the sweep sends it.
    assert deliver_due(now=now + outbox.CLAIM_LEASE)["sent"] == 1
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.django_db
def test_norwegian_subject_body_and_attachment_name_arrive_as_queued(
    smtp_server: SMTPTestServer,
) -> None:
    content = "navn;sted\nÅse;Tromsø\n".encode()
    mail = queue_mail(to="ase@example.no",
                      subject=NB_SUBJECT, body=NB_BODY, kind="test",
                      attachments=[("påmeldte særkurs.csv", content, "text/csv")])
    assert deliver(mail.pk) == Outcome.SENT
    [received] = smtp_server.wait_for(1)
    message = received.message
    assert message["Subject"].strip() == NB_SUBJECT  # a leading space is from folding
    assert received.body.replace("\r\n", "\n") == NB_BODY
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "påmeldte særkurs.csv"
    assert attachment.get_payload(decode=True).replace(b"\r\n", b"\n") == content


@pytest.mark.django_db
def test_a_forwarded_message_attachment_is_scanned(smtp_server: SMTPTestServer,
                                                   clamd_url: str, settings: object) -> None:
    """A forwarded e-mail (message/rfc822) is scanned whole, not only its named parts."""
    from email.message import EmailMessage as Py

    from tests.scanning import eicar

    settings.PERSONVERN_CLAMD_URL = clamd_url  # type: ignore[attr-defined]
    inner = Py(policy=email.policy.SMTP)
    inner["Subject"] = "Videresendt"
    inner.set_content(eicar().decode())
    mail = queue_mail(to="kari@example.no", subject="Videresendt", body="Se vedlegg",
                      kind="test",
                      attachments=[("melding.eml", inner.as_bytes(), "message/rfc822")])
    assert mail.attachment_count == 1
    assert deliver(mail.pk) == Outcome.FAILED
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_each_address_gets_its_own_copy_so_one_refusal_stays_with_it(
    smtp_server: SMTPTestServer,
) -> None:
    smtp_server.refuse("ola@example.no", "550 5.1.1 No such mailbox")
    mails = queue_mail_each(to=["kari@example.no", "ola@example.no", "kari@example.no"],
                            subject="Påminnelse", body="Frist i dag", kind="test")
    assert [m.recipients for m in mails] == ["kari@example.no", "ola@example.no"]
    assert deliver_due() == {"sent": 1, "retry": 0, "failed": 1, "skipped": 0}
    failed = OutgoingMail.objects.get(state=MailState.FAILED)
    assert (failed.recipients, failed.last_error) == ("ola@example.no",
                                                      "550 5.1.1 No such mailbox")


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["kari@exa mple.no", "kari@example.no, ola@example.no",
                                     "ikke en adresse", ""])
def test_an_address_the_backend_cannot_use_is_refused_when_queued(address: str) -> None:
    with pytest.raises(ValueError, match="address"):
        queue_mail(to=address, subject="Kvittering", body="Hei", kind="test")
    assert not OutgoingMail.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_a_failed_task_keeps_the_type_of_its_error_but_no_traceback() -> None:
    from django_tasks_db.compat import TaskResultStatus

    from personvern.worker.tasks import run_job

    run_job.enqueue(987654, None)  # a run that does not exist: the task fails
    assert Worker(worker_id="w").run_one_task()
    failed = DBTaskResult.objects.get(status=TaskResultStatus.FAILED)
    assert failed.exception_class_path.endswith("DoesNotExist")
    assert failed.traceback == ""


@pytest.mark.django_db(transaction=True)
def test_each_round_of_the_worker_sends_what_is_due_and_leaves_the_rest(
    smtp_server: SMTPTestServer,
) -> None:
    """Mail queued while the worker runs goes out in its next round, without a task;
    a message waiting for its retry stays until its time, then the round after sends it."""
    worker = Worker(worker_id="rounds")
    first = _queue()
    second = queue_mail(to="ola@example.no", subject="Kvittering", body="Hei Ola", kind="test")
    later = timezone.now() + timedelta(hours=1)
    OutgoingMail.objects.filter(pk=second.pk).update(next_attempt_at=later)
    assert worker.send_due_mail() == 1
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [[ADDRESS]]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (MailState.SENT, MailState.QUEUED)
    assert worker.send_due_mail() == 0  # nothing due: one query, no send
    OutgoingMail.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now())
    worker.tick()  # its scheduled jobs may queue staff mail of their own; ours goes too
    second.refresh_from_db()
    assert second.state == MailState.SENT
    received = [m.rcpt_tos for m in smtp_server.messages]
    assert received.count([ADDRESS]) == 1 and received.count(["ola@example.no"]) == 1
    assert not DBTaskResult.objects.filter(task_path__endswith="deliver_mail").exists()


@pytest.mark.django_db
def test_a_delivery_task_queued_by_an_earlier_version_still_sends(
    smtp_server: SMTPTestServer,
) -> None:
    from personvern.worker.tasks import deliver_mail

    mail = _queue()
    deliver_mail.enqueue(mail.pk)
    assert Worker(worker_id="w").run_one_task()
    mail.refresh_from_db()
    assert mail.state == MailState.SENT
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [[ADDRESS]]


@pytest.mark.parametrize("address", [
    "kari@example.no", "kari.nordmann+kurs@jus.example.org", "o'brien@example.ie",
    "a_b-c{d}@sub-domain.example.com", "x@a.io", "!#$%&'*+/=?^_`{|}~-@example.no",
])
def test_a_plain_address_taken_without_parsing_is_one_the_backend_takes(address: str) -> None:
    from email.utils import getaddresses

    from django.core.mail.message import sanitize_address

    assert outbox._PLAIN_ADDRESS.fullmatch(address)
    assert outbox.usable_address(address) == address
    # What the slow path would have checked holds for it.
    assert getaddresses([address]) == [("", address)]
    assert sanitize_address(address, "utf-8") == address


@pytest.mark.parametrize("address", [
    "kari..nordmann@example.no", ".kari@example.no", "kari@example", "kari@-example.no",
    "kari@example.no.", "Kari <kari@example.no>", "kari@exämple.no", "kåri@example.no",
    "kari@example.no, ola@example.no", "kari@exa mple.no",
])
def test_anything_else_is_parsed_as_before(address: str) -> None:
    """Not taken on sight: these go through the backend's own parsing, as every address
    did before the fast path, and get the same answer."""
    from email.utils import getaddresses

    from django.core.mail.message import sanitize_address

    def before(candidate: str) -> bool:
        parsed = getaddresses([candidate])
        if len(parsed) != 1 or "@" not in parsed[0][1]:
            return False
        try:
            sanitize_address(candidate, "utf-8")
        except ValueError:
            return False
        return True

    assert not outbox._PLAIN_ADDRESS.fullmatch(address)
    try:
        outbox.usable_address(address)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == before(address)
