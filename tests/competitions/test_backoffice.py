"""Competitions in the back office (R23): created, closed early, entries reviewed.

Closing ends the competition, so the entries' retention period (counted from
the end) starts; a review records feedback and winner and can mail the
feedback to the entrant through the outbox. Every write is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client

from personvern.competitions import services
from personvern.competitions.models import Competition, Entry
from personvern.core.models import AuditEntry
from personvern.core.roles import MARKETING
from personvern.retention.engine import retention_run

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 5, 1, 10, tzinfo=UTC)


def _competition_with_entry(now: datetime = T0) -> tuple[Competition, Entry]:
    competition = services.competition_create(
        title="Årets kursidé", ends_at=now + timedelta(days=60), actor="staff:mia"
    )
    entry = services.entry_submit(
        competition=competition, email="kari@example.no", given_name="Kari",
        contribution="Et kurs om personvern.", workplace="Advokatfirma AS", actor="site", now=now,
    )
    return competition, entry


def _marketing() -> Client:
    user = User.objects.create_user("mia", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.req("R23")
def test_closing_ends_the_competition_now_and_is_audited() -> None:
    competition, _entry = _competition_with_entry()
    closed_at = T0 + timedelta(days=10)
    services.competition_close(competition=competition, actor="staff:mia", now=closed_at)
    assert Competition.objects.get().ends_at == closed_at
    audit = AuditEntry.objects.get(action="competition.closed")
    assert audit.actor == "staff:mia" and audit.data["competition"] == competition.pk
    with pytest.raises(ValidationError, match="already ended"):
        services.competition_close(competition=competition, actor="t", now=closed_at)
    with pytest.raises(ValidationError, match="has ended"):
        services.entry_submit(competition=competition, email="ola@example.no",
                              contribution="For sent", actor="site", now=closed_at)


@pytest.mark.req("R23")
def test_closing_early_starts_the_entries_retention_period() -> None:
    competition, _entry = _competition_with_entry()
    closed_at = T0 + timedelta(days=10)
    # Not closed: a month and a half later the entry is still within the competition.
    report = retention_run(as_of=closed_at + timedelta(days=45), dry_run=True)
    assert report.rows == 0
    services.competition_close(competition=competition, actor="staff:mia", now=closed_at)
    retention_run(as_of=closed_at + timedelta(days=31))  # one month after the end: kept
    assert Entry.objects.exists()
    report = retention_run(as_of=closed_at + timedelta(days=45))
    assert [(line.rule, line.count) for line in report.lines if line.count] == [("entries", 1)]
    assert not Entry.objects.exists()


@pytest.mark.req("R23")
def test_review_records_winner_and_feedback_and_mails_the_entrant(smtp_server: Any) -> None:
    _competition, entry = _competition_with_entry()
    services.entry_review(
        entry=entry, feedback="Godt forslag, vi lager kurset!", is_winner=True,
        send_feedback=True, lang="nb", actor="staff:mia", now=T0 + timedelta(days=61),
    )
    stored = Entry.objects.get()
    assert stored.is_winner and stored.feedback == "Godt forslag, vi lager kurset!"
    assert stored.reviewed_at == stored.feedback_sent_at == T0 + timedelta(days=61)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"competition.entry_reviewed", "competition.feedback_sent"} <= actions
    reviewed = AuditEntry.objects.get(action="competition.entry_reviewed")
    assert "Godt forslag" not in str(reviewed.data)  # the text stays out of the log
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["kari@example.no"]
    assert "Tilbakemelding på bidraget ditt i Årets kursidé" in str(mail.message["Subject"])
    assert "Godt forslag, vi lager kurset!" in mail.body and "Gratulerer" in mail.body


@pytest.mark.req("R23")
def test_review_without_feedback_cannot_be_sent() -> None:
    _competition, entry = _competition_with_entry()
    with pytest.raises(ValidationError, match="Feedback cannot be empty"):
        services.entry_review(entry=entry, send_feedback=True, actor="t")
    assert Entry.objects.get().reviewed_at is None
    assert not AuditEntry.objects.filter(action="competition.entry_reviewed").exists()


@pytest.mark.req("R23")
def test_marketing_closes_and_reviews_in_the_back_office(smtp_server: Any) -> None:
    competition, entry = _competition_with_entry(datetime.now(UTC) - timedelta(days=1))
    client = _marketing()
    page = client.get(f"/admin/competitions/competition/{competition.pk}/change/")
    assert page.status_code == 200 and b"Advokatfirma AS" in page.content  # entries listed
    response = client.post("/admin/competitions/competition/",
                           {"action": "close", "_selected_action": [competition.pk]})
    assert response.status_code == 302
    assert Competition.objects.get().ends_at <= datetime.now(UTC)
    response = client.post(f"/admin/competitions/entry/{entry.pk}/change/", {
        "feedback": "Takk!", "is_winner": "on", "send_feedback": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = Entry.objects.get()
    assert stored.is_winner and stored.feedback_sent_at is not None
    assert AuditEntry.objects.get(action="competition.entry_reviewed").actor == "staff:mia"
    [mail] = smtp_server.wait_for(1)
    assert "Takk!" in mail.body
    listing = client.get("/admin/competitions/entry/?reviewed=winner")
    assert listing.status_code == 200 and b"Kari" in listing.content



@pytest.mark.req("R23")
def test_feedback_to_an_entrant_without_an_address_is_refused_beside_the_field() -> None:
    _competition, entry = _competition_with_entry(datetime.now(UTC) - timedelta(days=1))
    entry.person.emails.all().delete()
    response = _marketing().post(f"/admin/competitions/entry/{entry.pk}/change/", {
        "feedback": "Takk!", "send_feedback": "on",
    })
    assert response.status_code == 200  # the form again, the feedback kept in it
    form = response.context["adminform"].form
    assert form.errors["send_feedback"] == [str(services.NO_ADDRESS)]
    assert form["feedback"].value() == "Takk!"
    assert list(response.context["messages"]) == []  # no "changed successfully"
    assert Entry.objects.get().reviewed_at is None


@pytest.mark.req("R23")
def test_a_refused_review_shows_only_the_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service refuses after the form passed (the entry withdrawn meanwhile): the page
    says so and nothing else; no "changed successfully" beside it, no "changed" in the
    history."""
    _competition, entry = _competition_with_entry(datetime.now(UTC) - timedelta(days=1))

    def refuse(**kwargs: Any) -> None:
        raise ValidationError({"entry": services.ENTRY_GONE})

    monkeypatch.setattr(services, "entry_review", refuse)
    response = _marketing().post(f"/admin/competitions/entry/{entry.pk}/change/", {
        "feedback": "Takk!", "send_feedback": "on",
    }, follow=True)
    assert response.status_code == 200
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert shown == [("error", str(services.ENTRY_GONE))]
    assert response.redirect_chain[-1][0].endswith(f"/admin/competitions/entry/{entry.pk}/change/")
    assert not LogEntry.objects.exists()
