"""Demo data for recruitment (R24–R27): positions, applications, documents and notes.

Written set-based (bulk_create in batches) for ``personvern demo``, by the rules
of :mod:`personvern.recruitment.services`:

- an application for a position arrives before its recruitment closed; when it
  closed, one applicant was hired (``hired_at`` set with the status) and the
  others were rejected or withdrew; open positions have applications still
  being handled;
- open (general) applications have no position and are kept 210 days;
- a hired applicant whose employment ended has ``employment_ended_at`` after
  ``hired_at``;
- documents are of an accepted type, with their size, received with the
  application; Finn.no applications carry a unique portal reference (R25).

Positions and applications spread over the last three years, so the retention
forecast has applications due now and others due within the year. The same
(persons, rng, now) gives the same data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.demo.bulk import Progress, bulk_insert
from personvern.recruitment.models import (
    Application,
    ApplicationDocument,
    ApplicationNote,
    ApplicationSource,
    ApplicationStatus,
    DocumentKind,
    NoteKind,
    Position,
)
from personvern.recruitment.services import ACCEPTED_CONTENT_TYPES, ACTIVITY

#: Share of persons who applied for a job with us, and the least number of applicants.
APPLICANT_SHARE = 0.03
MIN_APPLICANTS = 14
OPEN_APPLICATION_SHARE = 0.3
HR = "staff:hr"

# (title, days before now it was posted, days it ran; None = still open)
POSITIONS = [
    ("Kursrådgiver", 1000, 35),
    ("Økonomikonsulent", 720, 30),
    ("Fagansvarlig arbeidsrett", 420, 45),
    ("Markedskoordinator", 230, 30),
    ("Juridisk rådgiver, etterutdanning", 150, 40),
    ("Sommervikar kundesenter", 40, None),
    ("Fagansvarlig personvern", 12, None),
]
LETTERS = [
    "Jeg søker stillingen som {title} og har fem års erfaring fra advokatbransjen.",
    "Med bakgrunn fra kommunal forvaltning vil jeg gjerne bidra som {title}.",
    "Jeg er nyutdannet master i rettsvitenskap og søker stillingen som {title}.",
    "Jeg har lang erfaring med kursadministrasjon og søker som {title}.",
]
OPEN_LETTERS = [
    "Jeg sender en åpen søknad i tilfelle dere får behov for en jurist med erfaring "
    "fra arbeidsrett.",
    "Jeg er interessert i å arbeide hos dere og sender en åpen søknad med CV.",
]
INTERVIEW_NOTES = [
    "Godt forberedt, konkrete eksempler fra kursutvikling. Anbefales videre.",
    "Solid faglig, noe mindre erfaring med kundekontakt.",
    "Gode svar om samarbeid og prioritering. Ønsker oppstart etter sommeren.",
]
REFERENCE_NOTES = [
    "Referanse (tidligere leder) bekrefter selvstendighet og god gjennomføringsevne.",
    "Referanse beskriver en strukturert og lojal medarbeider.",
]
DOCUMENTS = [
    (DocumentKind.CV, "cv.pdf", "application/pdf"),
    (DocumentKind.LETTER, "soknad.pdf", "application/pdf"),
    (DocumentKind.DIPLOMA, "vitnemal.pdf", "application/pdf"),
    (DocumentKind.REFERENCE, "attest.pdf", "application/pdf"),
    (DocumentKind.OTHER, "publikasjoner.txt", "text/plain"),
]



def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    minutes = int((end - start).total_seconds() // 60)
    return start + timedelta(minutes=rng.randint(0, max(0, minutes)))


def _document(kind: str, filename: str, content_type: str, text: str) -> bytes:
    body = text.encode()
    return b"%PDF-1.4\n% " + body + b"\n" if content_type == "application/pdf" else body + b"\n"


def generate(
    *,
    persons: QuerySet[Person],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """Create positions over the last three years and applications from about 3 % of
    ``persons``: for positions (one hire per closed position) and open applications."""
    people = list(persons.values_list("pk", flat=True))
    if not people:
        return
    k = min(len(people), max(MIN_APPLICANTS, round(len(people) * APPLICANT_SHARE)))
    applicants = sorted(rng.sample(people, k))
    with transaction.atomic():
        positions = [
            Position(
                title=title,
                posted_at=now - timedelta(days=posted, hours=rng.randint(0, 5)),
                recruitment_closed_at=(
                    now - timedelta(days=posted - ran) if ran is not None else None
                ),
            )
            for title, posted, ran in POSITIONS
        ]
        Position.objects.bulk_create(positions)

        applications: list[Application] = []
        finn_refs = 0
        for number, person_id in enumerate(applicants):
            # The first applicants are spread over the positions, so each has some.
            if number < len(positions) or rng.random() >= OPEN_APPLICATION_SHARE:
                position: Position | None = positions[number % len(positions)]
            else:
                position = None
            if position is not None:
                end = position.recruitment_closed_at or now
                received = _between(rng, position.posted_at, end - timedelta(hours=1))
                title = position.title
                letter = rng.choice(LETTERS).format(title=title.lower())
                status = (
                    rng.choice([ApplicationStatus.REJECTED, ApplicationStatus.REJECTED,
                                ApplicationStatus.WITHDRAWN])
                    if position.recruitment_closed_at
                    else rng.choice([ApplicationStatus.RECEIVED, ApplicationStatus.INTERVIEW])
                )
            else:
                received = now - timedelta(days=rng.randint(1, 420), minutes=rng.randint(0, 600))
                letter = rng.choice(OPEN_LETTERS)
                status = rng.choice([ApplicationStatus.RECEIVED, ApplicationStatus.REJECTED])
            source = ApplicationSource.FINN if rng.random() < 0.6 else ApplicationSource.DIRECT
            external_ref = ""
            if source == ApplicationSource.FINN:
                finn_refs += 1
                external_ref = f"FINN-{received:%Y}-{finn_refs:06d}"
            applications.append(
                Application(
                    person_id=person_id,
                    position=position,
                    source=source,
                    external_ref=external_ref,
                    letter=letter,
                    received_at=received,
                    status=status,
                )
            )
        # One hire per closed position: kept until the employment ends (R27).
        for position in positions:
            if position.recruitment_closed_at is None:
                continue
            candidates = [a for a in applications if a.position is position]
            if not candidates:
                continue
            hired = candidates[0]
            hired.status = ApplicationStatus.HIRED
            hired.hired_at = position.recruitment_closed_at
            if position.recruitment_closed_at < now - timedelta(days=365) and rng.random() < 0.6:
                hired.employment_ended_at = _between(
                    rng, position.recruitment_closed_at + timedelta(days=120), now
                )
        bulk_insert(Application, applications, progress)

        documents: list[ApplicationDocument] = []
        notes: list[ApplicationNote] = []
        for application in applications:
            kinds = [DOCUMENTS[0], DOCUMENTS[1]] + rng.sample(DOCUMENTS[2:], rng.randint(0, 2))
            for kind, filename, content_type in kinds:
                assert content_type in ACCEPTED_CONTENT_TYPES
                content = _document(kind, filename, content_type, f"{kind} til søknad")
                documents.append(
                    ApplicationDocument(
                        application=application,
                        kind=kind,
                        filename=filename,
                        content_type=content_type,
                        content=content,
                        size=len(content),
                        received_at=application.received_at,
                    )
                )
            interviewed = application.status in (
                ApplicationStatus.INTERVIEW, ApplicationStatus.HIRED
            ) or (application.status == ApplicationStatus.REJECTED and rng.random() < 0.3
                  and application.position is not None)
            if interviewed:
                notes.append(
                    ApplicationNote(
                        application=application,
                        kind=NoteKind.INTERVIEW,
                        text=rng.choice(INTERVIEW_NOTES),
                        written_by=HR,
                        written_at=min(now, application.received_at + timedelta(days=10)),
                    )
                )
            if application.status == ApplicationStatus.HIRED:
                assert application.hired_at is not None
                notes.append(
                    ApplicationNote(
                        application=application,
                        kind=NoteKind.REFERENCE_CHECK,
                        text=rng.choice(REFERENCE_NOTES),
                        written_by=HR,
                        written_at=max(application.received_at,
                                   application.hired_at - timedelta(days=2)),
                    )
                )
        bulk_insert(ApplicationDocument, documents, progress)
        bulk_insert(ApplicationNote, notes, progress)
        audit_log(
            actor="system:demo",
            action="demo.recruitment_created",
            activity=ACTIVITY,
            data={
                "positions": len(positions),
                "applications": len(applications),
                "documents": len(documents),
                "notes": len(notes),
            },
            now=timezone.now(),
        )
