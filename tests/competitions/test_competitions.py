"""Competitions (R23): name, contact, workplace and entry, deleted after the competition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.competitions import selectors, services
from personvern.competitions.models import Competition, Entry
from personvern.core.checks import check_holders
from personvern.retention.engine import retention_run

pytestmark = pytest.mark.django_db
ENDS = datetime(2025, 5, 31, 22, tzinfo=UTC)  # midnight 1 June in Oslo


def _competition() -> Competition:
    return services.competition_create(title="Årets juridiske quiz", ends_at=ENDS, actor="t")


@pytest.mark.req("R23")
def test_entry_stores_name_contact_workplace_and_the_entry() -> None:
    competition = _competition()
    entry = services.entry_submit(
        competition=competition,
        email="per@example.no",
        given_name="Per",
        phone="90000000",
        workplace="Advokatfirma AS",
        contribution="Svar: 42",
        actor="site",
        now=ENDS - timedelta(days=3),
    )
    assert (entry.person.given_name, entry.person.phone) == ("Per", "90000000")
    assert (entry.workplace, entry.contribution) == ("Advokatfirma AS", "Svar: 42")
    assert list(selectors.entries_of(competition)) == [entry]

    services.entry_give_feedback(entry=entry, feedback="Riktig svar!", actor="staff:anne")
    entry.refresh_from_db()
    assert entry.feedback == "Riktig svar!"


@pytest.mark.req("R23")
def test_entries_after_the_end_and_second_entries_are_refused() -> None:
    competition = _competition()
    with pytest.raises(ValidationError, match="ended"):
        services.entry_submit(
            competition=competition,
            email="per@example.no",
            contribution="x",
            actor="site",
            now=ENDS,
        )
    services.entry_submit(
        competition=competition,
        email="per@example.no",
        contribution="x",
        actor="site",
        now=ENDS - timedelta(days=1),
    )
    with pytest.raises(ValidationError, match="already entered"):
        services.entry_submit(
            competition=competition,
            email="per@example.no",
            contribution="y",
            actor="site",
            now=ENDS - timedelta(hours=1),
        )
    assert Entry.objects.count() == 1


@pytest.mark.req("R23")
def test_entries_are_deleted_once_the_period_after_the_competition_end_has_run() -> None:
    competition = _competition()
    services.entry_submit(
        competition=competition,
        email="per@example.no",
        contribution="x",
        actor="site",
        now=ENDS - timedelta(days=1),
    )
    # The policy keeps entries one month after the end (1 June Oslo): the month ends
    # with 1 July (Reg. 1182/71 Art. 3), so they go on 2 July.
    retention_run(as_of=datetime(2025, 7, 1, 12, tzinfo=UTC))
    assert Entry.objects.count() == 1
    retention_run(as_of=datetime(2025, 7, 2, 12, tzinfo=UTC))
    assert Entry.objects.count() == 0


def test_competition_holder_passes_the_system_check() -> None:
    problems = [e for e in check_holders() if e.obj is Entry or "'competitions'" in e.msg]
    assert problems == []
    # ... and the retention engine accepts every (rule, holder) target of the activity.
    report = retention_run(as_of=datetime(2030, 1, 1, tzinfo=UTC), dry_run=True)
    assert [r for r in report.refused if r.activity == "competitions"] == []


def test_refusals_are_in_norwegian_when_nb_is_active() -> None:
    competition = _competition()
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            services.entry_submit(
                competition=competition, email="per@example.no", contribution="x",
                actor="site", now=ENDS,
            )
        assert exc.value.message_dict["competition"] == ["Konkurransen er avsluttet."]
