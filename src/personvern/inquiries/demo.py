"""Demo data for inquiries (R15) and the files sent with them through the secure channel (R20).

Written set-based (bulk_create in batches) for ``personvern demo``, by the rules
of :mod:`personvern.inquiries.services` and :func:`personvern.site.services.secure_message_send`:
``last_contact_at`` starts at receipt and moves with each follow-up, closing is
a contact, and an attached file passes the secure channel's own check
(:func:`personvern.site.uploads.check_upload`) and carries its SHA-256.

The dates spread over the last two and a half years, so the retention rule
(one year after the last contact) has inquiries due now and others due within
the coming weeks and months. The same (persons, rng, now) gives the same data.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.demo.bulk import Progress, bulk_insert
from personvern.inquiries.models import Inquiry, InquiryChannel
from personvern.inquiries.services import ACTIVITY
from personvern.site.models import SecureUpload
from personvern.site.uploads import check_upload

#: Share of persons with at least one inquiry, and the least number of inquirers.
INQUIRER_SHARE = 0.08
MIN_INQUIRERS = 10
#: Share of web inquiries that came with a file.
UPLOAD_SHARE = 0.15
HISTORY_DAYS = 900

# (subject, message) pairs; {course} is filled in.
TOPICS = [
    ("Spørsmål om kursbevis", "Hei! Jeg deltok på {course} og finner ikke kursbeviset. "
     "Kan dere sende det på nytt?"),
    ("Faktura for kurs", "Hei, fakturaen for {course} er sendt til feil adresse. "
     "Kan dere sende en ny til regnskapsavdelingen vår?"),
    ("Bedriftsinternt kurs", "Vi er om lag 15 jurister som ønsker et internt kurs i {course}. "
     "Hva vil det koste, og når kan det holdes?"),
    ("Avbestilling", "Jeg blir dessverre forhindret fra å delta på {course}. "
     "Kan plassen overføres til en kollega?"),
    ("Etterutdanningstimer", "Teller {course} som obligatorisk etterutdanning for advokater, "
     "og hvor mange timer i etikk?"),
    ("Tilrettelegging", "Jeg bruker rullestol. Er lokalet for {course} tilgjengelig?"),
    ("Opptak av kurs", "Blir {course} tatt opp, slik at jeg kan se det i etterkant?"),
]
COURSES = [
    "Arbeidsrett 2025", "Kontraktsrett i praksis", "Personvernrett for virksomheter",
    "Skatterett – årets endringer", "Advokatetikk", "Forvaltningsrett for kommunejurister",
]
FILES = [
    ("faktura.pdf", b"%PDF-1.4\n% Faktura fra JUS, kopi sendt av kunden\n"),
    ("kursbevis.pdf", b"%PDF-1.4\n% Kursbevis, skannet kopi\n"),
    ("legeerklaering.pdf", b"%PDF-1.4\n% Legeerklaering ved avbestilling\n"),
    ("deltakerliste.txt", b"Deltakere til internt kurs:\nAvdeling for arbeidsrett, 15 personer\n"),
]


def _pick(people: list[tuple[int, datetime]], rng: random.Random, share: float,
          minimum: int) -> list[tuple[int, datetime]]:
    """A reproducible sample of about ``share`` of ``people`` (at least ``minimum``),
    in pk order."""
    k = min(len(people), max(minimum, round(len(people) * share)))
    return sorted(rng.sample(people, k))



def generate(
    *,
    persons: QuerySet[Person],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """Create one or two inquiries for about 8 % of ``persons`` (web form or account
    manager), some followed up or closed, some web inquiries with a file."""
    people = list(persons.values_list("pk", "created_at"))
    if not people:
        return
    earliest = now - timedelta(days=HISTORY_DAYS)
    with transaction.atomic():
        inquiries: list[Inquiry] = []
        for person_id, created_at in _pick(people, rng, INQUIRER_SHARE, MIN_INQUIRERS):
            for _ in range(1 if rng.random() < 0.8 else 2):
                lo = max(earliest, created_at)
                span = max(0, int((now - lo).total_seconds() // 60) - 60)
                received = lo + timedelta(minutes=rng.randint(0, span))
                subject, message = rng.choice(TOPICS)
                course = rng.choice(COURSES)
                # Follow-ups move the last contact on; closing is the last contact.
                contacted = min(now, received + timedelta(days=rng.choice([0, 0, 1, 3, 14, 45])))
                closed = contacted if rng.random() < 0.6 and contacted < now else None
                inquiries.append(
                    Inquiry(
                        person_id=person_id,
                        channel=(
                            InquiryChannel.WEB if rng.random() < 0.7
                            else InquiryChannel.ACCOUNT_MANAGER
                        ),
                        subject=f"{subject}: {course}",
                        message=message.format(course=course),
                        received_at=received,
                        last_contact_at=contacted,
                        closed_at=closed,
                    )
                )
        bulk_insert(Inquiry, inquiries, progress)

        uploads: list[SecureUpload] = []
        web = [i for i in inquiries if i.channel == InquiryChannel.WEB]
        for inquiry in web:
            if rng.random() >= UPLOAD_SHARE and (uploads or inquiry is not web[-1]):
                continue
            filename, content = rng.choice(FILES)
            upload = check_upload(filename, content)  # the secure channel's own check
            uploads.append(
                SecureUpload(
                    inquiry=inquiry,
                    filename=upload.filename,
                    content_type=upload.content_type,
                    size=len(upload.content),
                    sha256=hashlib.sha256(upload.content).hexdigest(),
                    content=upload.content,
                    received_at=inquiry.received_at,
                )
            )
        bulk_insert(SecureUpload, uploads, progress)
        audit_log(
            actor="system:demo",
            action="demo.inquiries_created",
            activity=ACTIVITY,
            data={"inquiries": len(inquiries), "uploads": len(uploads)},
            now=timezone.now(),
        )
