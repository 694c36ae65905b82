"""Holds and Art. 18 restrictions keep rows past their retention period (R19, R31)."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.core.models import HoldScope, Person, RestrictionGround
from personvern.core.services import hold_lift, hold_place, restriction_place
from personvern.mailbox.models import MailMessage
from personvern.mailbox.services import mail_message_keep, mail_message_record
from personvern.retention.engine import retention_forecast, retention_run

from .factories import ACTOR, at, person

pytestmark = pytest.mark.django_db

RECEIVED = at(date(2023, 5, 2), 9)
LAST_DAY = at(date(2024, 5, 2))  # one year after receipt: the period's last day
DUE = at(date(2024, 5, 3))  # the first day the mailbox rule deletes


def message(owner: Person, subject: str = "Spørsmål om kurs") -> MailMessage:
    return mail_message_record(
        person=owner, direction="in", mailbox="kurs@jus.no", subject=subject,
        received_at=RECEIVED, actor=ACTOR,
    )


def alive(msg: MailMessage) -> bool:
    return MailMessage.objects.filter(pk=msg.pk).exists()


def mailbox_line(as_of_day: date):  # type: ignore[no-untyped-def]
    forecast = retention_forecast(as_of=at(as_of_day))
    return next(line for line in forecast.lines if line.holder == "mailbox.MailMessage")


@pytest.mark.req("R19")
def test_mail_is_deleted_one_year_after_receipt() -> None:
    msg = message(person("epost@example.no"))

    retention_run(as_of=LAST_DAY)
    assert alive(msg)
    retention_run(as_of=DUE)
    assert not alive(msg)


@pytest.mark.req("R19")
@pytest.mark.req("R31")
@pytest.mark.parametrize("scope", [HoldScope.PERSON, HoldScope.ACTIVITY, HoldScope.ROW])
def test_active_hold_protects_and_is_reported(scope: str) -> None:
    owner = person("holdt@example.no")
    msg = message(owner)
    other = message(person("fri@example.no"))
    target = {
        HoldScope.PERSON: {"person": owner},
        HoldScope.ACTIVITY: {"activity": "email-correspondence"},
        HoldScope.ROW: {"row": msg},
    }[scope]
    hold_place(scope=scope, reason="Tvist om faktura 2024-17", actor=ACTOR, **target)

    line = mailbox_line(DUE.date())
    if scope == HoldScope.ACTIVITY:
        assert (line.due_now, line.held) == (0, 2)
        assert line.held_reasons == {"Tvist om faktura 2024-17": 2}
    else:
        assert (line.due_now, line.held) == (1, 1)
        assert line.held_reasons == {"Tvist om faktura 2024-17": 1}

    retention_run(as_of=DUE)
    assert alive(msg)
    assert alive(other) is (scope == HoldScope.ACTIVITY)


@pytest.mark.req("R19")
def test_expired_or_lifted_hold_no_longer_protects() -> None:
    expiring = message(person("utloper@example.no"))
    lifted = message(person("opphevet@example.no"))
    mail_message_keep(message=expiring, reason="sales-process", keep_until=date(2024, 8, 31),
                      actor=ACTOR, now=at(date(2024, 4, 1)))
    hold = hold_place(scope=HoldScope.ROW, row=lifted, reason="Sjekkes", actor=ACTOR,
                      now=at(date(2024, 4, 1)))

    retention_run(as_of=at(date(2024, 8, 31), 12))
    assert alive(expiring) and alive(lifted)

    hold_lift(hold=hold, actor=ACTOR, now=at(date(2024, 9, 1), 8))
    retention_run(as_of=at(date(2024, 9, 1), 12))
    assert not alive(expiring)
    assert not alive(lifted)


@pytest.mark.req("R31")
@pytest.mark.parametrize(
    ("ground", "kept"),
    [
        (RestrictionGround.ACCURACY, False),
        (RestrictionGround.UNLAWFUL, True),
        (RestrictionGround.LEGAL_CLAIMS, True),
        (RestrictionGround.OBJECTION_PENDING, False),
    ],
    ids=["a-accuracy", "b-unlawful", "c-legal-claims", "d-objection"],
)
def test_restriction_on_grounds_b_and_c_keeps_the_data(ground: str, kept: bool) -> None:
    owner = person("begrenset@example.no")
    msg = message(owner)
    restriction_place(person=owner, ground=ground, actor=ACTOR, now=at(date(2024, 3, 1)))

    line = mailbox_line(DUE.date())
    assert line.held == (1 if kept else 0)
    if kept:
        assert list(line.held_reasons) == [str(RestrictionGround(ground).label)]

    report = retention_run(as_of=DUE)
    assert alive(msg) is kept
    assert Person.objects.filter(pk=owner.pk).exists() is kept
    assert report.rows == (0 if kept else 1)


@pytest.mark.req("R31")
@pytest.mark.parametrize("scope", [HoldScope.PERSON, HoldScope.ACTIVITY, HoldScope.ROW])
def test_the_forecast_releases_a_row_in_the_window_its_hold_expires_in(scope: str) -> None:
    # Each window of the forecast rehearses with the holds in force at its end: a hold
    # that expires within 30 days keeps its row now and lets it go within 30 days,
    # whatever kind it is, and the dry run and the run agree with the forecast now.
    owner = person("utloper@example.no")
    msg = message(owner)
    target = {
        HoldScope.PERSON: {"person": owner},
        HoldScope.ACTIVITY: {"activity": "email-correspondence"},
        HoldScope.ROW: {"row": msg},
    }[scope]
    hold_place(scope=scope, reason="Til avklaring", actor=ACTOR,
               expires_at=at(date(2024, 5, 20)), now=at(date(2024, 5, 1)), **target)

    line = mailbox_line(DUE.date())
    assert (line.due_now, line.held, line.due_within[30]) == (0, 1, 1)
    assert retention_run(as_of=DUE, dry_run=True).rows == 0
    assert retention_run(as_of=DUE).rows == 0
    assert alive(msg)
    assert retention_run(as_of=at(date(2024, 5, 21))).rows == 1
    assert not alive(msg)
