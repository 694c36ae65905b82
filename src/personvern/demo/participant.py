"""The demo's known participant: Kari Nordmann, with a full record to try Min side with.

The other demo modules make hundreds of people nobody knows the address of.
This one makes one person a visitor can sign in as (``kari.nordmann@example.no``,
an invented name), with something in every part of Min side:

- a member of Advokatforeningen since a few years before the previous CLE period;
- registrations: an upcoming physical course with a hotel stay, a place on the
  waiting list of a full course, a cancelled registration, and past courses
  (attended, with legal, non-legal and ethics hours) in the current and the
  previous CLE period (:mod:`personvern.courses.cle`), plus one she missed;
- a newsletter subscription on her consent (given, withdrawn, given again: the
  ledger shows all three);
- an entry in the first competition still open, if there is one;
- privacy requests made on Min side: an access request the data protection
  officer has fulfilled (its file is downloadable on Min side) and a
  rectification request in progress.

Unlike the set-based modules, every row is written by the apps' own services
(audited, validated), at times derived from ``now``: the same ``now`` gives the
same record. Idempotent: when the address is already known (an earlier run, or
someone used it), nothing is made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet

from personvern.core.models import EmailIdentity, Organisation, Person
from personvern.core.services import membership_add, person_create
from personvern.courses.cle_report import cle_report_export
from personvern.demo.people import MEMBER_NUMBERS_FROM
from personvern.portal.auth import SELF_ACTOR

if TYPE_CHECKING:
    from personvern.courses.models import Venue

EMAIL = "kari.nordmann@example.no"
GIVEN_NAME = "Kari"
FAMILY_NAME = "Nordmann"
PHONE = "+47 912 34 567"
EMPLOYER = "Advokatfirmaet Nordmann & Co AS"
ACTOR = "system:demo"
DPO = "staff:personvern"
COURSE_ADMIN = "staff:kursadmin"
OSLO_VENUE = ("Jus.no kurssenter", "Kristian Augusts gate 9, 0164 Oslo", "", "")
HOTEL_VENUE = ("Hotell Fjordtun", "Strandveien 1, 5003 Bergen", "Hotell Fjordtun",
               "booking@fjordtun.example")
MOUNTAIN_VENUE = ("Høyfjellshotellet", "Fjellvegen 2, 2640 Vinstra", "Høyfjellshotellet",
                  "post@hoyfjell.example")


@dataclass(frozen=True)
class Plan:
    """One of Kari's courses: what it is and what happened to her registration."""

    stem: str
    title: str
    subject: str
    summary: str
    starts: datetime
    days: int  # extra days after the first (0: a one-day course)
    venue: tuple[str, str, str, str] | None  # None: digital
    legal: str
    non_legal: str = "0"
    ethics: str = "0"
    outcome: str = "attended"  # attended | missed | upcoming | waitlisted | cancelled
    stay: bool = False


#: Course times are Norwegian times, whatever the server's time zone.
OSLO = ZoneInfo("Europe/Oslo")


def _local(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=OSLO)


def _plans(now: datetime) -> list[Plan]:
    """Kari's courses, dated around ``now`` and the CLE periods it falls in."""
    from personvern.courses.cle import CleRules, period_of

    today = now.astimezone(OSLO).date()
    current = period_of(today, CleRules.from_settings())
    previous = current.previous()

    def this_period(days_ago: int) -> date:
        # In the current period unless it began less than ``days_ago`` ago (then the previous).
        return today - timedelta(days=days_ago)

    ahead = [today + timedelta(days=d) for d in (24, 45, 60)]
    return [
        Plan("arbeidsrett-seminar", "Arbeidsrett: fordypningsseminar", "Arbeidsrett",
             "To dager om omstilling, nedbemanning og midlertidige ansettelser, med overnatting.",
             _local(ahead[0]), 1, HOTEL_VENUE, legal="10", ethics="1",
             outcome="upcoming", stay=True),
        Plan("advokatetikk-konflikter", "Advokatetikk: interessekonflikter", "Advokatetikk",
             "Når kan du ta oppdraget? Interessekonflikter i praksis, med case.",
             _local(ahead[1]), 0, OSLO_VENUE, legal="0", ethics="3", outcome="waitlisted"),
        Plan("skatterett-oppdatering", "Skatterett: årsoppdatering", "Skatterett",
             "Årets endringer i skatteretten på tre timer, digitalt.",
             _local(ahead[2], 13), 0, None, legal="3", outcome="cancelled"),
        Plan("kontraktsrett-praksis", "Kontraktsrett i praksis", "Kontraktsrett",
             "Avtaletolking og mislighold, med eksempler fra leveranseavtaler.",
             _local(this_period(40)), 0, OSLO_VENUE, legal="6"),
        Plan("advokatetikk-god-skikk", "Advokatetikk og god advokatskikk", "Advokatetikk",
             "Taushetsplikt, klientmidler og forholdet til motparten.",
             _local(this_period(130)), 0, None, legal="1", ethics="3"),
        Plan("klientkommunikasjon", "Kommunikasjon med klienter", "Kommunikasjon",
             "Å forklare juss enkelt, og å gi dårlige nyheter: et kurs i kommunikasjon.",
             _local(this_period(260)), 0, None, legal="0", non_legal="4"),
        Plan("strafferett-bevis", "Strafferett: bevis og straffutmåling", "Strafferett",
             "Bevisvurdering og straffutmåling i ny rettspraksis.",
             _local(this_period(200)), 0, None, legal="3", outcome="missed"),
        # The previous period: the requirement met (80 hours, 5 in ethics), the
        # current one under way.
        Plan("personvernrett-grunnkurs", "Personvernrett: grunnkurs", "Personvern",
             "Behandlingsgrunnlag, innsyn og sletting etter personvernforordningen.",
             _local(date(previous.first_year + 1, 3, 12)), 0, None, legal="6", ethics="1"),
        Plan("forvaltningsrett-fordypning", "Forvaltningsrett: fordypning", "Forvaltningsrett",
             "Tre dager om saksbehandling, begrunnelse og klage i forvaltningen.",
             _local(date(previous.first_year + 2, 4, 20)), 2, HOTEL_VENUE,
             legal="24", ethics="2", stay=True),
        Plan("prosedyre-sivile-saker", "Prosedyre i sivile saker", "Prosess",
             "Tre dager om saksforberedelse og prosedyre, med øvelser i rettssal.",
             _local(date(previous.first_year + 3, 10, 8)), 2, MOUNTAIN_VENUE,
             legal="18", non_legal="1.5", ethics="2", stay=True),
        Plan("arverett-skifte", "Arverett og skifte", "Arverett",
             "Arveloven i praksis: testamenter, pliktdel og skifte av dødsbo.",
             _local(date(previous.last_year, 2, 6)), 1, OSLO_VENUE, legal="14"),
        Plan("ledelse-advokatfirma", "Ledelse av advokatfirma", "Ledelse",
             "Økonomi, rekruttering og ledelse for partnere og kontorsjefer.",
             _local(date(previous.last_year, 5, 20)), 0, OSLO_VENUE, legal="0", non_legal="12"),
    ]


def known_person() -> Person | None:
    """The demo's known participant, once the demo has made her."""
    identity = EmailIdentity.objects.select_related("person").filter(address=EMAIL).first()
    return identity.person if identity is not None else None


def generate(
    *, rng: random.Random, now: datetime, persons: QuerySet[Person] | None = None
) -> Person | None:
    """Make Kari Nordmann and her record; nothing when the address is already known.

    ``rng`` is accepted like the other modules' but not used: the record is
    fixed, dated from ``now``. ``persons``: the other demo persons, two of whom
    fill the course she is on the waiting list for.
    """
    del rng
    if known_person() is not None:
        return None
    others = list((persons if persons is not None else Person.objects.all()).order_by("pk")
                  .filter(emails__isnull=False).distinct()[:2])
    plans = _plans(now)
    first_event = min(p.starts for p in plans) - timedelta(days=3 * 365)
    with transaction.atomic():
        kari = person_create(
            email=EMAIL, given_name=GIVEN_NAME, family_name=FAMILY_NAME, phone=PHONE,
            actor=ACTOR, verified=True, now=first_event,
        )
        member_since = date(first_event.year + 2, 9, 1)
        membership_add(person=kari, organisation=Organisation.ADVOKATFORENINGEN,
                       valid_from=member_since, member_id=f"{MEMBER_NUMBERS_FROM - 1}",
                       actor=ACTOR)
        _newsletter(kari, first_event)
        for plan in plans:
            _course(kari, plan, now=now, others=others)
        _competition(kari, now)
        _requests(kari, now)
    return kari


def _venue(spec: tuple[str, str, str, str]) -> Venue:
    from personvern.courses.models import Venue
    from personvern.courses.services import venue_create

    name, address, hotel, hotel_email = spec
    venue = Venue.objects.filter(name=name, hotel_name=hotel).order_by("pk").first()
    return venue or venue_create(name=name, address=address, hotel_name=hotel,
                                 hotel_email=hotel_email, actor=ACTOR)


def _course(kari: Person, plan: Plan, *, now: datetime, others: list[Person]) -> None:
    from personvern.courses import services
    from personvern.courses.models import Course, CourseKind

    starts = plan.starts
    # A physical course runs to 15:30 on its last day; a digital one three hours.
    ends = (
        starts + timedelta(hours=3) if plan.venue is None
        else (starts + timedelta(days=plan.days)).replace(hour=15, minute=30)
    )
    slug = f"{plan.stem}-{starts:%Y%m%d}"
    course = Course.objects.filter(slug=slug).first()
    if course is None:
        course = services.course_create(
            title=f"{plan.title} {starts:%Y}", slug=slug,
            kind=CourseKind.DIGITAL if plan.venue is None else CourseKind.PHYSICAL,
            starts_at=starts, ends_at=ends,
            capacity=len(others) if plan.outcome == "waitlisted" else 40,
            venue=_venue(plan.venue) if plan.venue else None,
            legal_hours=plan.legal, non_legal_hours=plan.non_legal, ethics_hours=plan.ethics,
            hotel_stay_offered=bool(plan.venue and plan.venue[2]),
            subject=plan.subject, summary=plan.summary,
            description=f"{plan.summary}\n\nKurset er en del av demoen.",
            programme="09:00 Velkommen\n09:15 Forelesning\n11:30 Gruppearbeid\n"
                      "12:30 Oppsummering",
            price=Decimal("0") if plan.venue is None else Decimal("4500"),
            digital_link=f"https://meet.example/jus/{slug}" if plan.venue is None else "",
            actor=COURSE_ADMIN, now=starts - timedelta(days=90),
        )
    # A month before the course; for one still to come, no later than ten days ago.
    registered = min(starts - timedelta(days=30), now - timedelta(days=10))
    if plan.outcome == "waitlisted":
        if not others:
            return  # nobody to fill the course: no waiting list to show
        for i, other in enumerate(others):
            services.registration_create(
                course=course, email=other.emails.order_by("pk")[0].address,
                given_name=other.given_name, family_name=other.family_name,
                language="nb", actor=ACTOR, now=registered - timedelta(days=5 - i),
            )
    local_start, local_end = starts.astimezone(OSLO).date(), ends.astimezone(OSLO).date()
    registration = services.registration_create(
        course=course, email=EMAIL, given_name=GIVEN_NAME, family_name=FAMILY_NAME,
        employer=EMPLOYER, invoice_reference="KN-2026" if plan.venue else "",
        dietary_needs="vegetar" if plan.venue else "",
        overnight_stay=plan.stay, arrival_date=local_start if plan.stay else None,
        departure_date=local_end if plan.stay else None,
        language="nb", actor=ACTOR, now=registered,
    )
    if plan.outcome == "cancelled":
        services.participant_cancel(
            registration=registration, actor=SELF_ACTOR,
            now=now - timedelta(days=3),
        )
    if plan.outcome in ("attended", "missed"):
        services.attendance_record(
            course=course, registration_ids=[registration.pk],
            attended=plan.outcome == "attended", actor=COURSE_ADMIN,
            now=ends + timedelta(hours=2),
        )
        services.course_update(course=course, changes={"registration_open": False},
                               actor=COURSE_ADMIN, now=ends + timedelta(hours=2))
    if plan.outcome == "attended" and ends + timedelta(days=2) < now:
        # Her hours reported to Advokatforeningen two days after the course (R3): a
        # recorded disclosure in her access report.
        cle_report_export(course=course, actor=COURSE_ADMIN, now=ends + timedelta(days=2))


def _newsletter(kari: Person, start: datetime) -> None:
    """Subscribed on the form (consent), unsubscribed by the link, subscribed again."""
    from personvern.newsletter.models import SubscriptionSource
    from personvern.newsletter.services import (
        CONSENT_TEXT_VERSION,
        newsletter_subscribe,
        newsletter_unsubscribe,
    )

    first = newsletter_subscribe(
        person=kari, source=SubscriptionSource.FORM, actor=ACTOR,
        text_version=CONSENT_TEXT_VERSION, now=start + timedelta(days=1),
    )
    newsletter_unsubscribe(subscription=first, channel="link", actor=ACTOR,
                           now=start + timedelta(days=200))
    newsletter_subscribe(
        person=kari, source=SubscriptionSource.FORM, actor=ACTOR,
        text_version=CONSENT_TEXT_VERSION, now=start + timedelta(days=420),
    )


def _competition(kari: Person, now: datetime) -> None:
    from personvern.competitions.models import Competition
    from personvern.competitions.services import entry_submit

    entered = now - timedelta(days=2)
    competition = (
        Competition.objects.filter(ends_at__gt=now).order_by("ends_at", "slug").first()
    )
    if competition is None:
        return
    entry_submit(
        competition=competition, email=EMAIL, given_name=GIVEN_NAME, family_name=FAMILY_NAME,
        phone=PHONE, workplace=EMPLOYER, actor=ACTOR, now=entered,
        contribution=(
            "Et kurs om kunstig intelligens i advokatpraksis: hva verktøyene kan brukes til, "
            "taushetsplikten, og hvordan man kontrollerer det de skriver."
        ),
    )


def _requests(kari: Person, now: datetime) -> None:
    """An access request fulfilled (its file ready on Min side), a rectification in progress."""
    from personvern.rights.models import RequestType
    from personvern.rights.selfservice import request_make_signed_in
    from personvern.rights.services import request_fulfil

    access = request_make_signed_in(
        person=kari, type=RequestType.ACCESS,
        details="Jeg vil se alt dere har registrert om meg, også kurshistorikken.",
        now=now - timedelta(days=9),
    )
    request_fulfil(request=access, actor=DPO, now=now - timedelta(days=4), lang="nb")
    request_make_signed_in(
        person=kari, type=RequestType.RECTIFICATION,
        details=(
            "Telefonnummeret mitt er endret. Riktig nummer er +47 987 65 432."
        ),
        now=now - timedelta(days=2),
    )
