"""E-mail correspondence (R19): about a year, longer only with a ground."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from personvern.core import services as core
from personvern.core.checks import check_holders
from personvern.core.models import Hold
from personvern.mailbox import selectors, services
from personvern.mailbox.models import MailMessage
from personvern.retention.engine import retention_forecast, retention_run

pytestmark = pytest.mark.django_db
T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)


def _message(subject: str, email: str = "kunde@example.no") -> MailMessage:
    person, _ = core.person_get_or_create(email=email, actor="t", now=T0)
    return services.mail_message_record(
        person=person,
        direction="in",
        mailbox="salg@jus.no",
        subject=subject,
        actor="mail",
        received_at=T0,
    )


def _exists(message: MailMessage) -> bool:
    return MailMessage.objects.filter(pk=message.pk).exists()


@pytest.mark.req("R19")
def test_mail_is_deleted_about_a_year_after_receipt() -> None:
    message = _message("Spørsmål om kurs")
    # Received 1 March 2024: the year ends with 1 March 2025; the message goes on 2 March.
    retention_run(as_of=datetime(2025, 3, 1, 12, tzinfo=UTC))
    assert _exists(message)
    retention_run(as_of=datetime(2025, 3, 2, 12, tzinfo=UTC))
    assert not _exists(message)


@pytest.mark.req("R19")
def test_mail_kept_for_a_sales_process_outlives_the_year_until_its_keep_date() -> None:
    kept = _message("Tilbud på bedriftskurs", "a@example.no")
    ordinary = _message("Takk for sist", "b@example.no")
    services.mail_message_keep(
        message=kept,
        reason="sales-process",
        keep_until=date(2025, 6, 30),
        actor="staff:anne",
        now=T0 + timedelta(days=10),
    )
    assert list(selectors.kept_messages(as_of=datetime(2025, 3, 2, tzinfo=UTC))) == [kept]

    as_of = datetime(2025, 3, 2, 12, tzinfo=UTC)
    line = next(
        line
        for line in retention_forecast(as_of=as_of).lines
        if line.holder == "mailbox.MailMessage"
    )
    assert (line.due_now, line.held) == (1, 1)
    assert list(line.held_reasons) == ["E-mail kept: sales-process"]

    retention_run(as_of=as_of)
    assert _exists(kept) and not _exists(ordinary)
    retention_run(as_of=datetime(2025, 7, 1, 12, tzinfo=UTC))  # the keep date has passed
    assert not _exists(kept)


@pytest.mark.req("R19")
def test_releasing_a_kept_message_returns_it_to_the_normal_rule() -> None:
    message = _message("Partneravtale")
    services.mail_message_keep(message=message, reason="partner", actor="t", now=T0)
    services.mail_message_keep(message=message, reason="customer", actor="t", now=T0)
    assert Hold.objects.filter(lifted_at__isnull=True).count() == 1  # replaced, not stacked

    services.mail_message_release(message=message, actor="t", now=T0 + timedelta(days=1))
    message.refresh_from_db()
    assert message.keep_reason == "" and message.keep_until is None
    retention_run(as_of=datetime(2025, 3, 2, 12, tzinfo=UTC))
    assert not _exists(message)


def test_keeping_needs_a_known_reason_and_a_future_date() -> None:
    message = _message("x")
    with pytest.raises(ValidationError, match="not a reason"):
        services.mail_message_keep(message=message, reason="", actor="t", now=T0)
    with pytest.raises(ValidationError, match="past"):
        services.mail_message_keep(
            message=message, reason="other", keep_until=date(2024, 1, 1), actor="t", now=T0
        )
    assert not Hold.objects.exists()


def test_mailbox_holder_passes_the_system_check() -> None:
    problems = [
        e for e in check_holders() if e.obj is MailMessage or "'email-correspondence'" in e.msg
    ]
    assert problems == []
    # ... and the retention engine accepts every (rule, holder) target of the activity.
    report = retention_run(as_of=datetime(2030, 1, 1, tzinfo=UTC), dry_run=True)
    assert [r for r in report.refused if r.activity == "email-correspondence"] == []
