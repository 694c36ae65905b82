"""The public competition pages (R23): list, entry form, receipt, closed.

The form asks name, contact details, workplace and the entry; the page shows
how long entries are kept, read from the policy in force; a second entry from
the same address is answered like a first and stores nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from personvern import policy as policy_package
from personvern.competitions import services
from personvern.competitions.models import Competition, Entry
from personvern.core.models import Person
from personvern.core.policy import current_policy
from personvern.policy.render import retention_sentence
from personvern.worker.outbox import OutgoingMail

pytestmark = pytest.mark.django_db
DEFAULT_POLICY = Path(policy_package.__file__).parent / "default.toml"
DATA = {"given_name": "Kari", "family_name": "Nordmann", "email": "kari@example.no",
        "phone": "", "workplace": "Advokatfirma AS", "contribution": "Svar: 1 b, 2 a."}


def _client(lang: str = "en", ip: str = "127.0.0.1") -> Client:
    return Client(REMOTE_ADDR=ip, headers={"Accept-Language": lang})


def _open(title: str = "Årets kursidé", days: int = 10) -> Competition:
    return services.competition_create(
        title=title, ends_at=timezone.now() + timedelta(days=days), actor="t",
        description="Send oss din beste idé til et nytt kurs.\n\nPremie: et valgfritt kurs.",
    )


def _page(response: Any) -> str:
    return " ".join(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "",
                           response.content.decode()).split())


@pytest.mark.req("R23")
def test_the_list_shows_open_competitions_only() -> None:
    running = _open("Julequiz")
    ended = services.competition_create(
        title="Sommerquiz", ends_at=timezone.now() - timedelta(days=1), actor="t")
    html = _page(_client().get("/competitions/"))
    assert f'href="/competitions/{running.slug}/"' in html
    assert ended.title not in html
    Competition.objects.all().delete()
    assert "There are no open competitions" in _page(_client().get("/competitions/"))


@pytest.mark.req("R23")
@pytest.mark.parametrize("lang", ["en", "nb"])
def test_the_entry_page_shows_rules_and_the_retention_from_the_policy(lang: str) -> None:
    competition = _open()
    html = _page(_client(lang).get(f"/competitions/{competition.slug}/"))
    assert "Premie: et valgfritt kurs." in html
    for rule in current_policy().activity("competitions").retention:
        assert retention_sentence(rule, lang) in html
        assert rule.note.get(lang) in html
    for field in ("given_name", "family_name", "email", "phone", "workplace", "contribution"):
        assert f'name="{field}"' in html


@pytest.mark.req("R23")
def test_the_retention_shown_follows_the_policy_file_in_force(tmp_path: Path) -> None:
    competition = _open()
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    old = 'keep = "1m"  # our choice: time to give feedback and hand over prizes'
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, 'keep = "3m"'), encoding="utf-8")
    with override_settings(PERSONVERN_POLICY=str(path)):
        html = _page(_client().get(f"/competitions/{competition.slug}/"))
    assert "Kept for 3 months after the competition has ended, then deleted." in html
    assert "Kept for 1 month" not in html


@pytest.mark.req("R23")
def test_entering_stores_the_entry_and_mails_a_receipt(smtp_server: Any) -> None:
    competition = _open()
    response = _client().post(f"/competitions/{competition.slug}/",
                              {**DATA, "phone": "+47 912 34 567"})
    assert (response.status_code, response["Location"]) == (
        302, f"/competitions/{competition.slug}/entered/")
    entry = Entry.objects.get()
    assert (entry.person.given_name, entry.person.family_name, entry.person.phone) == (
        "Kari", "Nordmann", "+47 912 34 567")
    assert (entry.workplace, entry.contribution) == ("Advokatfirma AS", "Svar: 1 b, 2 a.")
    receipt = _page(_client().get(response["Location"]))
    assert "We have received your entry in Årets kursidé" in receipt
    assert "Kept for 1 month after the competition has ended, then deleted." in receipt
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["kari@example.no"]
    assert "Svar: 1 b, 2 a." in mail.body


@pytest.mark.req("R23")
def test_a_second_entry_gets_the_same_answer_and_changes_nothing(smtp_server: Any) -> None:
    competition = _open()
    url = f"/competitions/{competition.slug}/"
    first = _client().post(url, DATA)
    again = _client().post(url, {**DATA, "given_name": "Noen", "contribution": "Annet svar"})
    someone_new = _client().post(url, {**DATA, "email": "ny@example.no"})
    assert {(r.status_code, r["Location"]) for r in (first, again, someone_new)} == {
        (302, f"/competitions/{competition.slug}/entered/")}
    assert Entry.objects.count() == 2
    kept = Entry.objects.get(person__emails__address="kari@example.no")
    assert (kept.contribution, kept.person.given_name) == ("Svar: 1 b, 2 a.", "Kari")
    mails = [m for m in smtp_server.wait_for(3) if m.rcpt_tos == ["kari@example.no"]]
    assert "has already taken part" in mails[1].body


@pytest.mark.req("R23")
@pytest.mark.parametrize(("change", "field"), [
    ({"given_name": ""}, "given_name"),
    ({"family_name": " "}, "family_name"),
    ({"email": "kari.example.no"}, "email"),
    ({"email": ""}, "email"),
    ({"phone": "call me"}, "phone"),
    ({"phone": "123"}, "phone"),
    ({"contribution": "   "}, "contribution"),
    ({"workplace": "x" * 201}, "workplace"),
])
def test_bad_input_gets_a_message_next_to_the_field_and_stores_nothing(
    change: dict[str, str], field: str
) -> None:
    competition = _open()
    response = _client().post(f"/competitions/{competition.slug}/", {**DATA, **change})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', html), html
    assert 'class="errorlist' in html
    assert (Entry.objects.count(), Person.objects.count(), OutgoingMail.objects.count()) == (
        0, 0, 0)


@pytest.mark.req("R23")
def test_after_the_end_the_page_says_closed_and_takes_no_entry() -> None:
    competition = services.competition_create(
        title="Sommerquiz", ends_at=timezone.now() - timedelta(minutes=1), actor="t")
    url = f"/competitions/{competition.slug}/"
    html = _page(_client().get(url))
    assert "This competition closed on" in html
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<form" not in main  # no entry form
    assert 'name="contribution"' not in html
    response = _client().post(url, DATA)
    assert response.status_code == 200
    assert "This competition closed on" in _page(response)
    assert (Entry.objects.count(), Person.objects.count()) == (0, 0)
    assert "Denne konkurransen stengte" in _page(_client("nb").get(url))


def test_an_unknown_competition_is_404() -> None:
    assert _client().get("/competitions/no-such-thing/").status_code == 404


@pytest.mark.req("R23")
def test_entries_are_rate_limited_per_client() -> None:
    competition = _open()
    url = f"/competitions/{competition.slug}/"
    with override_settings(RATELIMIT_RATES={**settings.RATELIMIT_RATES,
                                            "competition-entry": "2/h"}):
        codes = [_client().post(url, {**DATA, "email": f"k{n}@example.no"}).status_code
                 for n in range(3)]
    assert codes == [302, 302, 429]
    assert Entry.objects.count() == 2


def test_competition_slugs_are_made_unique_and_checked() -> None:
    first = services.competition_create(title="Julequiz 2026", ends_at=timezone.now(), actor="t")
    second = services.competition_create(title="Julequiz 2026", ends_at=timezone.now(), actor="t")
    assert (first.slug, second.slug) == ("julequiz-2026", "julequiz-2026-2")
    with pytest.raises(Exception, match="already has this address"):
        services.competition_create(title="X", slug="julequiz-2026", ends_at=timezone.now(),
                                    actor="t")
    with pytest.raises(Exception, match="hyphens"):
        services.competition_create(title="X", slug="Jule quiz", ends_at=timezone.now(),
                                    actor="t")
