"""`personvern members import` (R3, R14, R17): the member feed as a file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personvern.core import services as core
from personvern.core.models import AuditEntry, EmailIdentity, Membership, Person
from personvern.members.feeds import FeedRefused, check_members
from personvern.members.services import members_import
from personvern.newsletter import services as newsletter
from personvern.newsletter.models import Subscription
from tests.members.conftest import member_file, run

pytestmark = pytest.mark.django_db

AV = "advokatforeningen"


@pytest.mark.req("R14")
def test_a_member_file_creates_persons_and_memberships_and_says_what_it_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = member_file(
        tmp_path,
        "A-1,Ola.Nordmann@Example.no,Ola,Nordmann,2020-01-01,",
        "A-2,kari@example.no,Kari,Nordmann,2018-03-01,2025-12-31",
    )
    assert run("members", "import", str(file), "--organisation", AV) == 0
    out = capsys.readouterr().out
    assert "2 started, 0 ended, 0 changed, 0 unchanged; 2 persons created" in out
    ola = Membership.objects.get(organisation=AV, member_id="A-1")
    assert ola.valid_from == date(2020, 1, 1) and ola.valid_to is None
    assert ola.person.given_name == "Ola"
    # The address is stored normalised, as every identity.
    assert EmailIdentity.objects.get(person=ola.person).address == "ola.nordmann@example.no"
    assert Membership.objects.get(member_id="A-2").valid_to == date(2025, 12, 31)
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("person.created") == 2
    assert actions.count("membership.added") == 2
    assert "members.imported" in actions


@pytest.mark.req("R14")
def test_the_same_file_twice_changes_nothing_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = member_file(tmp_path, "A-1,ola@example.no,Ola,Nordmann,2020-01-01,")
    assert run("members", "import", str(file), "--organisation", AV) == 0
    capsys.readouterr()
    entries = AuditEntry.objects.count()
    assert run("members", "import", str(file), "--organisation", AV) == 0
    out = capsys.readouterr().out
    assert "0 started, 0 ended, 0 changed, 1 unchanged; 0 persons created" in out
    assert "Nothing changed" in out
    assert Person.objects.count() == 1 and Membership.objects.count() == 1
    # Only the run itself is recorded, no change of anyone.
    assert AuditEntry.objects.count() == entries + 1


def test_changes_and_ends_from_a_later_file_and_a_known_address_is_matched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = core.person_create(email="kari@example.no", given_name="Kari", actor="t")
    first = member_file(
        tmp_path, "A-1,ola@example.no,,,2020-01-01,", "A-2,KARI@example.no,,,2019-01-01,"
    )
    run("members", "import", str(first), "--organisation", AV)
    assert Membership.objects.get(member_id="A-2").person == known
    later = member_file(
        tmp_path, "A-1,ola@example.no,,,2020-02-01,", "A-2,kari@example.no,,,2019-01-01,2026-06-30",
        name="later.csv",
    )
    capsys.readouterr()
    assert run("members", "import", str(later), "--organisation", AV) == 0
    assert "0 started, 1 ended, 1 changed, 0 unchanged" in capsys.readouterr().out
    assert Membership.objects.get(member_id="A-1").valid_from == date(2020, 2, 1)
    assert Membership.objects.get(member_id="A-2").valid_to == date(2026, 6, 30)


@pytest.mark.req("R14")
def test_a_membership_recorded_before_the_feeds_is_adopted_not_doubled(tmp_path: Path) -> None:
    person = core.person_create(email="per@example.no", actor="t")
    core.membership_add(person=person, organisation=AV, valid_from=date(2015, 1, 1), actor="t")
    file = member_file(tmp_path, "77,per@example.no,Per,Hansen,2015-01-01,")
    assert run("members", "import", str(file), "--organisation", AV) == 0
    membership = Membership.objects.get(person=person)
    assert membership.member_id == "77"


@pytest.mark.req("R14")
def test_full_feed_ends_current_members_missing_from_it_on_its_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = member_file(
        tmp_path, "A-1,ola@example.no,,,2020-01-01,", "A-2,kari@example.no,,,2019-01-01,"
    )
    run("members", "import", str(file), "--organisation", AV)
    other = core.person_create(email="j@example.no", actor="t")
    core.membership_add(person=other, organisation="juristforbundet",
                        valid_from=date(2020, 1, 1), actor="t")
    fewer = member_file(tmp_path, "A-1,ola@example.no,,,2020-01-01,", name="full.csv")
    capsys.readouterr()
    assert run("members", "import", str(fewer), "--organisation", AV, "--full",
               "--as-of", "2026-11-30") == 0
    out = capsys.readouterr().out
    assert "1 ended" in out and "1 unchanged" in out
    assert Membership.objects.get(member_id="A-2").valid_to == date(2026, 11, 30)
    assert Membership.objects.get(member_id="A-1").valid_to is None
    # Another organisation's members are not touched.
    assert Membership.objects.get(person=other).valid_to is None
    # Without --full a member missing from the file stays as they are.
    only_two = member_file(tmp_path, "A-2,kari@example.no,,,2019-01-01,2026-11-30",
                           name="two.csv")
    assert run("members", "import", str(only_two), "--organisation", AV) == 0
    assert Membership.objects.get(member_id="A-1").valid_to is None


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        (",a@example.no,,,2020-01-01,", "member_id", "a value is needed"),
        ("9,ikke-en-adresse,,,2020-01-01,", "email", "is not an e-mail address"),
        ("9,a@example.no,,,01.02.2020,", "member_from", "is not a date"),
        ("9,a@example.no,,,2020-01-01,2019-12-31", "member_to", "before it starts"),
        ("1,a@example.no,,,2020-01-01,", "member_id", "also in row 2"),
    ],
)
def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, column: str, message: str
) -> None:
    file = member_file(tmp_path, "1,ola@example.no,,,2020-01-01,", line)
    assert run("members", "import", str(file), "--organisation", AV) == 1
    err = capsys.readouterr().err
    assert f"{file}, row 3, column {column}: " in err
    assert message in err
    assert "nothing was changed" in err
    assert Person.objects.count() == 0 and Membership.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_a_missing_column_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "m.csv"
    file.write_text("member_id;email;given_name;family_name\n1;a@example.no;A;B\n")
    assert run("members", "import", str(file), "--organisation", AV) == 1
    assert f"{file}, row 1, column member_from: the column 'member_from' is missing" in (
        capsys.readouterr().err
    )


def test_an_address_of_another_person_refuses_the_file(tmp_path: Path) -> None:
    run("members", "import", str(member_file(tmp_path, "1,a@example.no,,,2020-01-01,")),
        "--organisation", AV)
    core.person_create(email="b@example.no", actor="t")
    file = member_file(tmp_path, "2,c@example.no,,,2020-01-01,", "1,b@example.no,,,2020-01-01,",
                       name="bad.csv")
    with pytest.raises(FeedRefused) as refused:
        members_import(organisation=AV, rows=check_members(
            [(2, {"member_id": "2", "email": "c@example.no", "member_from": "2020-01-01"}),
             (3, {"member_id": "1", "email": "b@example.no", "member_from": "2020-01-01"})]
        ), actor="t")
    assert [(p.where, p.field) for p in refused.value.problems] == [(3, "email")]
    assert run("members", "import", str(file), "--organisation", AV) == 1
    assert not EmailIdentity.objects.filter(address="c@example.no").exists()


@pytest.mark.req("R17")
def test_an_ended_membership_ends_a_subscription_resting_on_it_but_not_one_with_consent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = member_file(
        tmp_path, "1,member@example.no,,,2020-01-01,", "2,consents@example.no,,,2020-01-01,"
    )
    run("members", "import", str(file), "--organisation", AV)
    member = Person.objects.get(emails__address="member@example.no")
    consenting = Person.objects.get(emails__address="consents@example.no")
    on_membership = newsletter.newsletter_subscribe(
        person=member, source="member-organisation", organisation=AV, actor="t"
    )
    on_consent = newsletter.newsletter_subscribe(
        person=consenting, source="form", text_version="v1", actor="t"
    )
    ended = member_file(
        tmp_path, "1,member@example.no,,,2020-01-01,2026-01-31",
        "2,consents@example.no,,,2020-01-01,2026-01-31", name="ended.csv",
    )
    capsys.readouterr()
    assert run("members", "import", str(ended), "--organisation", AV) == 0
    assert "1 newsletter subscriptions ended" in capsys.readouterr().out
    on_membership.refresh_from_db()
    on_consent.refresh_from_db()
    assert on_membership.status == "unsubscribed"
    assert on_membership.unsubscribe_channel == "membership-ended"
    assert on_consent.status == "active"
    assert AuditEntry.objects.filter(action="newsletter.basis_lapsed").count() == 1
    # No consent was given, so none is withdrawn.
    assert not member.consents.exists()
    assert Subscription.objects.filter(status="active").count() == 1


def test_a_large_feed_takes_a_bounded_number_of_queries() -> None:
    rows = check_members(
        (i + 2, {"member_id": str(i), "email": f"m{i}@example.no", "member_from": "2020-01-01"})
        for i in range(1200)
    )
    with CaptureQueriesContext(connection) as queries:
        summary = members_import(organisation=AV, rows=rows, actor="t", batch_size=500)
    assert summary.started == 1200 and summary.persons_created == 1200
    # Lookups in chunks of 500, inserts in batches (on SQLite as many rows as 999
    # bound parameters allow): far fewer queries than members.
    assert len(queries) < 120
    again = members_import(organisation=AV, rows=rows, actor="t", batch_size=500)
    assert again.nothing_changed and again.unchanged == 1200


@pytest.mark.req("R14")
def test_a_full_feed_keeps_its_new_members_and_a_second_run_changes_nothing() -> None:
    first = check_members([(2, {"member_id": "1", "email": "a@example.no",
                                "member_from": "2020-01-01"})])
    members_import(organisation=AV, rows=first, actor="t")
    rows = check_members([
        (2, {"member_id": "2", "email": "b@example.no", "member_from": "2021-01-01"}),
        (3, {"member_id": "3", "email": "c@example.no", "member_from": "2030-01-01"}),
    ])
    summary = members_import(organisation=AV, rows=rows, full=True, as_of=date(2026, 11, 30),
                             actor="t")
    assert (summary.started, summary.ended) == (2, 1)
    assert Membership.objects.get(member_id="2").valid_to is None
    assert Membership.objects.get(member_id="3").valid_to is None
    assert Membership.objects.get(member_id="1").valid_to == date(2026, 11, 30)
    again = members_import(organisation=AV, rows=rows, full=True, as_of=date(2026, 11, 30),
                           actor="t")
    assert again.nothing_changed and again.unchanged == 2


def test_a_full_feed_ends_a_membership_not_yet_started_on_its_first_day() -> None:
    members_import(organisation=AV, rows=check_members([(2, {
        "member_id": "9", "email": "later@example.no", "member_from": "2027-03-01"})]),
        actor="t")
    other = check_members([(2, {"member_id": "1", "email": "a@example.no",
                                "member_from": "2020-01-01"})])
    members_import(organisation=AV, rows=other, full=True, as_of=date(2026, 11, 30), actor="t")
    membership = Membership.objects.get(member_id="9")
    assert membership.valid_to == membership.valid_from == date(2027, 3, 1)


def test_a_full_feed_without_members_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run("members", "import", str(member_file(tmp_path, "1,a@example.no,,,2020-01-01,")),
        "--organisation", AV)
    empty = member_file(tmp_path, name="empty.csv")
    assert run("members", "import", str(empty), "--organisation", AV, "--full") == 1
    assert "would end every membership" in capsys.readouterr().err
    assert Membership.objects.get(member_id="1").valid_to is None


def test_postgresql_statistics_are_refreshed_after_a_load() -> None:
    rows = check_members([(2, {"member_id": "1", "email": "a@example.no",
                               "member_from": "2020-01-01"})])
    with CaptureQueriesContext(connection) as queries:
        members_import(organisation=AV, rows=rows, actor="t")
    analyzed = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        assert analyzed == ['ANALYZE "core_emailidentity"', 'ANALYZE "core_membership"',
                            'ANALYZE "core_person"']
    else:
        assert analyzed == []
    with CaptureQueriesContext(connection) as queries:
        members_import(organisation=AV, rows=rows, actor="t")
    # Nothing loaded, nothing to refresh.
    assert not [q for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]


@pytest.mark.req("R17")
def test_an_end_date_moved_into_the_past_ends_the_subscription_too() -> None:
    def feed(member_to: str) -> None:
        members_import(organisation=AV, rows=check_members([(2, {
            "member_id": "1", "email": "a@example.no", "member_from": "2020-01-01",
            "member_to": member_to})]), actor="t")

    feed("2099-12-31")
    person = Person.objects.get(emails__address="a@example.no")
    subscription = newsletter.newsletter_subscribe(
        person=person, source="member-organisation", organisation=AV, actor="t"
    )
    feed("2026-01-31")
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"
    assert subscription.unsubscribe_channel == "membership-ended"
