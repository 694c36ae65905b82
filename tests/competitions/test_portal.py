"""Competition entries on Min side (R23): listed with how long they are kept, withdrawn by
their entrant while the competition runs (deleted, audited), never anyone else's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from personvern.competitions import selectors, services
from personvern.competitions.models import Competition, Entry
from personvern.core.models import AuditEntry, Person
from personvern.portal import auth
from personvern.portal.auth import SELF_ACTOR
from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}


def _competition(title: str = "Årets juridiske quiz", *, days: int = 10) -> Competition:
    return services.competition_create(
        title=title, ends_at=timezone.now() + timedelta(days=days), actor="t"
    )


def _enter(competition: Competition, email: str = "per@example.no", **kwargs: Any) -> Entry:
    return services.entry_submit(
        competition=competition, email=email, contribution="Svar: 42", actor="site",
        now=kwargs.pop("now", None) or min(timezone.now(), competition.ends_at - timedelta(1)),
        **kwargs,
    )


def _signed_in(entry: Entry) -> Client:
    client = Client()
    sign_in(client, entry.person)
    return client


@pytest.mark.req("R23")
def test_min_side_lists_the_entries_with_when_and_how_long_they_are_kept() -> None:
    entry = _enter(_competition())
    ended = _competition("Fjorårets quiz", days=-2)
    old = services.entry_submit(
        competition=ended, email="per@example.no", contribution="x", actor="site",
        now=ended.ends_at - timedelta(days=5),
    )
    other = _enter(_competition("Andres konkurranse"), email="kari@example.no")
    client = _signed_in(entry)
    html = client.get("/me/", headers=EN).content.decode()
    text = " ".join(html.split())
    assert 'id="competitions.entries"' in html and "My competition entries" in text
    assert "Årets juridiske quiz" in text and "Fjorårets quiz" in text
    assert "Andres konkurranse" not in text
    with translation.override("en"):
        retention = selectors.entry_retention("en")
    assert retention and all(line["text"] in text for line in retention)
    # Withdrawal is offered while a competition runs, not after it has ended.
    assert f"/me/competitions/entries/{entry.pk}/withdraw/" in html
    assert f"/me/competitions/entries/{old.pk}/withdraw/" not in html
    assert f"/me/competitions/entries/{other.pk}/withdraw/" not in html
    assert 'Withdraw the entry<span class="ds-sr-only"> – Årets juridiske quiz</span>' in text
    nb = " ".join(client.get("/me/", headers={"accept-language": "nb"}).content.decode().split())
    assert "Mine konkurransebidrag" in nb and "Trekk bidraget" in nb
    assert all(line["text"] in nb for line in selectors.entry_retention("nb"))


def test_a_person_without_entries_gets_no_competition_section() -> None:
    person = Person.objects.create(given_name="Kari")
    client = Client()
    sign_in(client, person)
    assert "competitions.entries" not in client.get("/me/").content.decode()


@pytest.mark.req("R23")
def test_withdrawing_an_entry_deletes_it_and_is_audited() -> None:
    entry = _enter(_competition())
    client = Client(enforce_csrf_checks=True)
    session = client.session  # the session the mailed link leaves (its POST needs a token)
    session[auth.SESSION_PERSON] = str(entry.person.public_id)
    session[auth.SESSION_SIGNED_IN_AT] = timezone.now().isoformat()
    session.save()
    url = f"/me/competitions/entries/{entry.pk}/withdraw/"
    page = client.get(url, headers=EN)
    assert page.status_code == 200
    assert b"Withdraw your competition entry" in page.content
    assert Entry.objects.filter(pk=entry.pk).exists()  # a GET changes nothing
    assert client.post(url).status_code == 403  # no CSRF token: nothing happens
    assert Entry.objects.filter(pk=entry.pk).exists()
    done = client.post(url, {"csrfmiddlewaretoken": str(page.context["csrf_token"])})
    assert done.status_code == 302 and done["Location"] == "/me/competitions/withdrawn/"
    assert not Entry.objects.filter(pk=entry.pk).exists()
    audit = AuditEntry.objects.get(action="competition.entry_withdrawn")
    assert audit.actor == SELF_ACTOR
    assert audit.data == {"competition": entry.competition_id, "entry": entry.pk}
    assert audit.subject  # names the person by the keyed pseudonym
    answer = client.get(done["Location"], headers=EN).content.decode()
    assert "We have deleted your competition entry" in answer
    assert "competitions.entries" not in client.get("/me/").content.decode()
    # Withdrawn, the person may enter again while the competition runs.
    _enter(entry.competition)


@pytest.mark.req("R23")
def test_an_entry_cannot_be_withdrawn_after_the_competition_ended() -> None:
    competition = _competition(days=1)
    entry = _enter(competition)
    client = _signed_in(entry)
    url = f"/me/competitions/entries/{entry.pk}/withdraw/"
    Competition.objects.filter(pk=competition.pk).update(
        ends_at=timezone.now() - timedelta(minutes=1)
    )
    page = client.get(url, headers=EN).content.decode()
    assert "can no longer be withdrawn here" in page and 'type="submit"' not in page.split(
        "<main")[1].split("</main>")[0]
    response = client.post(url, headers=EN)
    assert response.status_code == 409
    assert "The competition has ended: the entry can no longer be withdrawn." in (
        response.content.decode()
    )
    assert Entry.objects.filter(pk=entry.pk).exists()
    assert not AuditEntry.objects.filter(action="competition.entry_withdrawn").exists()


@pytest.mark.req("R23")
def test_no_one_sees_or_withdraws_another_persons_entry() -> None:
    mine = _enter(_competition("Min konkurranse"))
    theirs = _enter(_competition("Deres konkurranse"), email="kari@example.no")
    client = _signed_in(mine)
    url = f"/me/competitions/entries/{theirs.pk}/withdraw/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert client.get("/me/competitions/entries/999999/withdraw/").status_code == 404
    assert Entry.objects.filter(pk=theirs.pk).exists()
    anonymous = Client()
    response = anonymous.post(f"/me/competitions/entries/{mine.pk}/withdraw/")
    assert response.status_code == 302 and "/me/sign-in/" in response["Location"]
    assert Entry.objects.filter(pk=mine.pk).exists()


def test_entry_withdraw_refuses_a_deleted_entry() -> None:
    entry = _enter(_competition())
    services.entry_withdraw(entry=entry, actor="t")
    with pytest.raises(services.ValidationError):
        services.entry_withdraw(entry=entry, actor="t")
    assert AuditEntry.objects.filter(action="competition.entry_withdrawn").count() == 1
