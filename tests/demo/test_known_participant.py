"""The demo's known participant, Kari Nordmann: a full record to try Min side with.

``personvern demo`` (the real command) makes her with something in every part
of Min side; signing in as her shows each part, her certificates and her access
file download; running the demo again adds nothing to her record; and the demo
prints how to sign in, and each sign-in link the worker writes to the mail folder.

The tests of :class:`TestTheBuiltDemo` start from one demo, built once for
the class (``tests/shared_data.py``, ADR 0034), each in its own transaction
rolled back to it; the others start from an empty database.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from rich.console import Console

from personvern.cli import main
from personvern.competitions.models import Entry
from personvern.core.models import (
    ConsentAction,
    ConsentEvent,
    EmailIdentity,
    Membership,
    Organisation,
    Person,
)
from personvern.courses.cle import cle_record
from personvern.courses.models import Registration, RegistrationStatus
from personvern.demo import cli as demo_cli
from personvern.demo import participant
from personvern.newsletter.models import Subscription, SubscriptionBasis, SubscriptionStatus
from personvern.portal.registry import sections
from personvern.portal.signin import sign_in_link_check, sign_in_link_send
from personvern.rights.engine.files import export_path
from personvern.rights.models import Request, RequestStatus, RequestType, VerificationMethod
from personvern.worker.outbox import deliver_due
from tests.portal.helpers import sign_in
from tests.shared_data import anchor_copy, built_once_fixture

AS_OF = "2026-06-01"
ARGS = ["demo", "--persons", "40", "--seed", "5", "--as-of", AS_OF]
NOW = datetime.combine(date.fromisoformat(AS_OF), time(12), tzinfo=ZoneInfo("Europe/Oslo"))


def _run_demo() -> None:
    assert main(ARGS) == 0


_demo_built = built_once_fixture("_demo_built", _run_demo, scope="class")


@pytest.fixture
def kari(_demo_built: Path, audit_anchor: Path, db: None) -> Person:
    """Kari Nordmann of the demo, built once for the class; the test's writes are rolled back."""
    anchor_copy(_demo_built, audit_anchor)
    found = participant.known_person()
    assert found is not None
    return found


def _record(kari: Person) -> dict[str, list[tuple[object, ...]]]:
    """Everything of Kari's the demo makes, without ids."""
    return {
        "emails": list(EmailIdentity.objects.filter(address=participant.EMAIL)
                       .values_list("address", "created_at")),
        "persons": list(Person.objects.filter(given_name="Kari", family_name="Nordmann",
                                              emails__address=participant.EMAIL)
                        .values_list("given_name")),
        "memberships": list(Membership.objects.filter(person=kari)
                            .values_list("organisation", "valid_from", "valid_to")),
        "registrations": sorted(Registration.objects.filter(person=kari).values_list(
            "course__slug", "status", "attended", "overnight_stay", "registered_at")),
        "consents": sorted(ConsentEvent.objects.filter(person=kari)
                           .values_list("scope", "action", "at")),
        "subscriptions": list(Subscription.objects.filter(person=kari)
                              .values_list("status", "subscribed_at")),
        "entries": list(Entry.objects.filter(person=kari).values_list("competition__slug")),
        "requests": sorted(Request.objects.filter(person=kari)
                           .values_list("type", "status", "received_at", "completed_at")),
    }


class TestTheBuiltDemo:
    """Tests that start from the demo (40 persons and Kari)."""

    def test_the_demo_makes_kari_nordmann_with_every_kind_of_record(self, kari: Person) -> None:

        assert (kari.given_name, kari.family_name) == ("Kari", "Nordmann")
        assert Membership.objects.filter(
            person=kari, organisation=Organisation.ADVOKATFORENINGEN, valid_to__isnull=True,
            valid_from__lte=NOW.date(),
        ).exists()

        # Registrations: upcoming with a hotel stay, wait-listed, cancelled, attended, missed.
        mine = Registration.objects.filter(person=kari).select_related("course")
        upcoming = mine.filter(course__starts_at__gt=NOW)
        stay = upcoming.get(status=RegistrationStatus.CONFIRMED)
        assert stay.course.is_physical and stay.course.hotel_stay_offered
        assert stay.overnight_stay and stay.arrival_date and stay.departure_date
        assert upcoming.filter(status=RegistrationStatus.WAITLISTED).count() == 1
        cancelled = upcoming.filter(status=RegistrationStatus.CANCELLED, cancelled_at__lt=NOW)
        assert cancelled.count() == 1
        past = mine.filter(course__ends_at__lt=NOW)
        assert past.filter(attended=True).count() >= 5
        assert past.filter(attended=False).count() == 1

        # The CLE record: legal, non-legal and ethics hours in both periods.
        record = cle_record(kari, NOW)
        for period in record.periods:
            assert period.courses >= 2, period
            assert period.legal > 0 and period.non_legal > 0 and period.ethics > 0, period
        assert record.periods[0].current and not record.periods[1].current
        # The previous period's requirement met, the current one's under way.
        assert record.periods[1].met and not record.periods[0].met

        # The newsletter on her consent; the ledger shows given, withdrawn, given again.
        subscription = Subscription.objects.get(person=kari)
        assert subscription.status == SubscriptionStatus.ACTIVE
        assert subscription.basis == SubscriptionBasis.CONSENT
        assert list(
            ConsentEvent.objects.filter(person=kari, scope="newsletter").order_by("at")
            .values_list("action", flat=True)
        ) == [ConsentAction.GIVEN, ConsentAction.WITHDRAWN, ConsentAction.GIVEN]

        entry = Entry.objects.get(person=kari)
        assert entry.competition.ends_at > NOW and entry.contribution

        # Privacy requests made on Min side: access fulfilled with its file, one in progress.
        access = Request.objects.get(person=kari, type=RequestType.ACCESS)
        assert access.status == RequestStatus.COMPLETED
        assert access.verification_method == VerificationMethod.SIGNED_IN
        path = export_path(access)
        assert path is not None and path.is_file()
        open_request = Request.objects.get(person=kari, type=RequestType.RECTIFICATION)
        assert open_request.status == RequestStatus.IN_PROGRESS
        assert open_request.due_legal > NOW.date()

        # Every part of Min side has something to show for her.
        empty = [s.key for s in sections() if s.context(kari, NOW) is None]
        assert empty == []

    def test_signed_in_as_kari_min_side_shows_her_record_and_files(self, kari: Person) -> None:
        client = Client()
        sign_in(client, kari)

        page = client.get("/me/", headers={"accept-language": "nb"})
        assert page.status_code == 200
        html = page.content.decode()
        for title in ("Arbeidsrett: fordypningsseminar", "Advokatetikk: interessekonflikter",
                      "Skatterett: årsoppdatering", "Kontraktsrett i praksis",
                      "Personvernrett: grunnkurs"):
            assert title in html, title

        attended = Registration.objects.filter(person=kari, attended=True).order_by("pk").first()
        assert attended is not None
        certificate = client.get(f"/me/courses/certificate/{attended.pk}.pdf")
        assert certificate.status_code == 200
        assert certificate["Content-Type"] == "application/pdf"

        access = Request.objects.get(person=kari, type=RequestType.ACCESS)
        assert f"/me/rights/requests/{access.public_id}/download/" in html
        download = client.get(f"/me/rights/requests/{access.public_id}/download/")
        assert download.status_code == 200
        assert b"".join(download.streaming_content)[:2] == b"PK"  # type: ignore[attr-defined]

    def test_running_the_demo_again_adds_nothing_to_karis_record(self, kari: Person) -> None:
        first = _record(kari)
        assert all(first.values()), first

        persons, registrations = Person.objects.count(), Registration.objects.count()

        assert main(ARGS) == 0  # the whole demo again, on its own data: nothing is added
        assert (Person.objects.count(), Registration.objects.count()) == (persons, registrations)
        demo_cli._ensure_known_participant(NOW)  # what it does on data made before Kari
        assert participant.generate(rng=random.Random(1), now=NOW) is None

        assert participant.known_person() == kari
        assert _record(kari) == first
        assert Person.objects.filter(given_name="Kari", family_name="Nordmann",
                                     emails__address=participant.EMAIL).count() == 1


def test_the_demo_without_other_persons_still_makes_kari(db: None) -> None:
    # No one to fill the full course: no waiting-list place, the rest is there.
    kari = participant.generate(rng=random.Random(1), now=NOW, persons=Person.objects.none())
    assert kari is not None
    statuses = set(Registration.objects.filter(person=kari).values_list("status", flat=True))
    assert statuses == {RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED}
    assert cle_record(kari, NOW).periods[1].counted > Decimal(0)


def test_the_demo_says_how_to_sign_in_as_kari(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    demo_cli._print_min_side(console, "http://127.0.0.1:8799/", str(tmp_path))
    text = console.export_text()
    assert "http://127.0.0.1:8799/me/" in text
    assert participant.EMAIL in text
    assert f"newest file in {tmp_path}/" in text


def test_the_demo_prints_each_new_sign_in_link_from_the_mail_folder(
    db: None, settings, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.PERSONVERN_BASE_URL = "http://127.0.0.1:8799"
    kari = participant.generate(rng=random.Random(1), now=NOW)
    assert kari is not None
    other = Person.objects.create(given_name="Ola", family_name="Nordmann")
    EmailIdentity.objects.create(person=other, address="ola@example.no")
    # Mail written before the demo started is not printed.
    mail.send_mail("Old", "http://127.0.0.1:8799/me/sign-in/link/old/", None, ["x@example.no"])
    deliver_due()  # Kari's queued mails (the file is ready, the cancellation)
    watcher = demo_cli.SignInLinkWatcher(tmp_path, Console(record=True))
    assert watcher.new_links() == []

    assert sign_in_link_send(email=participant.EMAIL)
    assert sign_in_link_send(email="ola@example.no")
    assert deliver_due()["sent"] == 2

    # Two files written in the same second come in no set order (the file backend
    # names them by time and object id): which link is whose is by recipient.
    links = dict(watcher.new_links())
    assert sorted(links) == sorted([participant.EMAIL, "ola@example.no"])
    token = links[participant.EMAIL].removeprefix("http://127.0.0.1:8799/me/sign-in/link/").rstrip("/")
    assert sign_in_link_check(token).person == kari
    assert watcher.new_links() == []  # each link once


def test_the_demo_links_mail_to_its_own_port(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PERSONVERN_BASE_URL", "")  # restored after the test
    monkeypatch.delenv("PERSONVERN_BASE_URL")
    settings.PERSONVERN_BASE_URL = demo_cli.DEFAULT_BASE_URL
    demo_cli._links_to_this_port("http://127.0.0.1:8799/")
    assert settings.PERSONVERN_BASE_URL == "http://127.0.0.1:8799"

    settings.PERSONVERN_BASE_URL = "https://demo.example"  # configured: kept
    demo_cli._links_to_this_port("http://127.0.0.1:8799/")
    assert settings.PERSONVERN_BASE_URL == "https://demo.example"
