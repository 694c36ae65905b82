"""Opt-outs from the member organisations' own member pages (R18), as a file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from personvern.core import services as core
from personvern.core.models import AuditEntry, ConsentEvent, Person
from personvern.newsletter import services as newsletter
from personvern.newsletter.models import Subscription
from personvern.newsletter.selectors import recipients
from tests.members.conftest import run

pytestmark = pytest.mark.django_db

AV = "advokatforeningen"


def _member(email: str, member_id: str, organisation: str = AV) -> Person:
    person = core.person_create(email=email, actor="t")
    membership = core.membership_add(person=person, organisation=organisation,
                                     valid_from=date(2020, 1, 1), actor="t")
    type(membership).objects.filter(pk=membership.pk).update(member_id=member_id)
    return person


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "optouts.csv"
    path.write_text("member_id,email,opted_out_at\n" + "".join(f"{x}\n" for x in lines))
    return path


@pytest.mark.req("R18")
def test_an_opt_out_ends_the_subscription_at_once_and_repeating_it_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_number = _member("a@example.no", "11")
    subscription = newsletter.newsletter_subscribe(
        person=by_number, source="member-organisation", organisation=AV, actor="t"
    )
    by_address = _member("b@example.no", "12")
    newsletter.newsletter_subscribe(person=by_address, source="form", text_version="v1",
                                    actor="t")
    before = timezone.now() - timedelta(seconds=1)
    file = _file(tmp_path, "11,,", ",B@example.no,", "99,nobody@example.no,")
    assert run("members", "optouts", str(file), "--organisation", AV) == 0
    out = capsys.readouterr().out
    assert "2 unsubscribed now, 0 already unsubscribed, 0 not subscribed, 1 unknown here" in out
    assert "Unknown here (rows): 4" in out
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"
    assert subscription.unsubscribed_at >= before
    assert subscription.unsubscribe_channel == "advokatforeningen-member-page"
    assert not recipients().exists()
    # The withdrawal is in the consent ledger, with where it came from.
    withdrawn = ConsentEvent.objects.get(person=by_address, action="withdrawn")
    assert withdrawn.channel == "advokatforeningen-member-page"

    entries = AuditEntry.objects.count()
    assert run("members", "optouts", str(file), "--organisation", AV) == 0
    out = capsys.readouterr().out
    assert "0 unsubscribed now, 2 already unsubscribed" in out and "Nothing changed." in out
    assert ConsentEvent.objects.filter(action="withdrawn").count() == 2
    assert AuditEntry.objects.count() == entries + 1  # the run, nothing else


@pytest.mark.req("R18")
def test_an_opt_out_older_than_a_new_subscription_is_not_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    person = _member("a@example.no", "11")
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    file = _file(tmp_path, "11,,2020-06-01T12:00")
    assert run("members", "optouts", str(file), "--organisation", AV) == 0
    assert "1 older than the current subscription" in capsys.readouterr().out
    assert Subscription.objects.get(person=person).status == "active"


def test_a_member_number_of_another_organisation_is_not_matched(tmp_path: Path) -> None:
    person = _member("a@example.no", "11", organisation="juristforbundet")
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    assert run("members", "optouts", str(_file(tmp_path, "11,,")), "--organisation", AV) == 0
    assert Subscription.objects.get(person=person).status == "active"


@pytest.mark.req("R18")
@pytest.mark.parametrize("other", ["juristforbundet", None])
def test_an_address_of_someone_not_the_organisations_member_is_unknown_and_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], other: str | None
) -> None:
    """An organisation's opt-outs touch its own members only (ADR 0023): an address of
    another organisation's member or of a consent subscriber is not matched, and the
    summary does not tell the organisation that we know the address."""
    if other is None:
        person = core.person_create(email="c@example.no", actor="t")
    else:
        person = _member("c@example.no", "11", organisation=other)
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    assert run("members", "optouts", str(_file(tmp_path, ",c@example.no,")),
               "--organisation", AV) == 0
    out = capsys.readouterr().out
    assert "0 unsubscribed now, 0 already unsubscribed, 0 not subscribed, 1 unknown here" in out
    assert Subscription.objects.get(person=person).status == "active"
    assert not ConsentEvent.objects.filter(action="withdrawn").exists()


def test_a_former_member_is_found_by_address() -> None:
    person = _member("d@example.no", "")
    type(person.memberships.get()).objects.filter(person=person).update(
        valid_to=date(2024, 12, 31)
    )
    from personvern.members.services import _persons_by_address

    assert _persons_by_address(["d@example.no"], member_of=AV) == {"d@example.no": person.pk}
    assert _persons_by_address(["d@example.no"], member_of="juristforbundet") == {}


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        (",,2026-01-01", "member_id", "a value is needed"),
        ("1,ikke-adresse,", "email", "is not an e-mail address"),
        ("1,,i går", "opted_out_at", "is not a date or time"),
        ("1,,2999-01-01", "opted_out_at", "in the future"),
    ],
)
def test_a_bad_opt_out_row_refuses_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, column: str, message: str
) -> None:
    person = _member("a@example.no", "11")
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    file = _file(tmp_path, "11,,", line)
    assert run("members", "optouts", str(file), "--organisation", AV) == 1
    err = capsys.readouterr().err
    assert f"row 3, column {column}: " in err and message in err
    assert Subscription.objects.get(person=person).status == "active"
