"""Demo data that follows the courses: evaluations (market research) and hotel lists (R11).

Runs after :mod:`personvern.courses.demo` (list it after it in DEMO_MODULES) and
works from the courses and registrations that module created. Set-based
(bulk_create), by the rules of the services:

- :func:`personvern.courses.evaluations.evaluation_submit`: only a confirmed
  participant evaluates, once per course, rating 1–5, after the course;
- :func:`personvern.courses.services.hotel_list_export`: one transfer per
  course with a hotel stay, a week before it starts, built from the real
  selector :func:`personvern.courses.selectors.hotel_rows` (overnight,
  confirmed, unrestricted participants, hotel fields only) and with
  ``delete_by`` from :func:`personvern.courses.services.hotel_deletion_date`;
  most hotels past that date have confirmed the deletion (R9).

One query per course (a fixed, small number), never per person.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.courses.models import (
    Course,
    Evaluation,
    HotelTransfer,
    HotelTransferEntry,
    Registration,
    RegistrationStatus,
)
from personvern.courses.selectors import HOTEL_LIST_FIELDS, hotel_rows
from personvern.courses.services import hotel_deletion_date
from personvern.demo.bulk import BATCH, Progress

EVALUATION_SHARE = 0.4
COMMENTS = [
    "", "", "",
    "Svært nyttig, gode eksempler fra praksis.",
    "Foreleser var god, men det ble litt mye stoff på kort tid.",
    "Gjerne mer tid til spørsmål.",
    "Lokalet var for varmt, ellers bra.",
    "Det beste kurset jeg har tatt i år.",
]
RATINGS = [5, 5, 4, 4, 4, 3, 2]


def generate(*, rng: random.Random, now: datetime, progress: Progress | None = None) -> None:
    """Evaluations from about 40 % of the participants of past courses, and the hotel
    list hand-over of each course with a hotel stay whose list is due."""
    with transaction.atomic():
        evaluations: list[Evaluation] = []
        past = Registration.objects.filter(
            status=RegistrationStatus.CONFIRMED, course__ends_at__lt=now
        ).exclude(attended=False).order_by("pk").values_list("pk", "course_id", "person_id",
                                                             "course__ends_at")
        for _pk, course_id, person_id, ends_at in past.iterator(chunk_size=BATCH):
            if rng.random() >= EVALUATION_SHARE:
                continue
            delay = timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 8))
            submitted = min(now, ends_at + delay)
            evaluations.append(
                Evaluation(course_id=course_id, person_id=person_id, rating=rng.choice(RATINGS),
                           comment=rng.choice(COMMENTS), submitted_at=submitted)
            )
        Evaluation.objects.bulk_create(evaluations, batch_size=BATCH)
        if progress:
            progress(len(evaluations))

        disclosed = ", ".join(str(label) for _name, label in HOTEL_LIST_FIELDS)[:300]
        field_names = [name for name, _label in HOTEL_LIST_FIELDS]
        transfers = 0
        entries: list[HotelTransferEntry] = []
        courses = Course.objects.filter(
            hotel_stay_offered=True, venue__isnull=False, starts_at__lte=now + timedelta(days=7)
        ).exclude(venue__hotel_name="").select_related("venue").order_by("pk")
        for course in courses:
            assert course.venue is not None
            sent_at = course.starts_at - timedelta(days=7)
            rows = hotel_rows(course, now=sent_at)
            if not rows:
                continue
            delete_by = hotel_deletion_date(course, rows)
            confirmed = None
            if timezone.localdate(now) > delete_by and rng.random() < 0.85:
                confirmed = timezone.make_aware(
                    datetime.combine(delete_by, datetime.min.time())
                ) + timedelta(hours=rng.randint(9, 40))
            transfer = HotelTransfer.objects.create(
                course=course, hotel_name=course.venue.hotel_name,
                hotel_email=course.venue.hotel_email, sent_at=sent_at, actor="staff:kursadmin",
                row_count=len(rows), fields_sent=field_names, delete_by=delete_by,
                deletion_confirmed_at=confirmed,
            )
            transfers += 1
            entries += [
                HotelTransferEntry(transfer=transfer, registration_id=row["id"],
                                   person_id=row["person_id"], recipient=transfer.hotel_name,
                                   sent_at=sent_at, fields_sent=disclosed)
                for row in rows
            ]
        HotelTransferEntry.objects.bulk_create(entries, batch_size=BATCH)
        if progress:
            progress(len(entries))
        audit_log(
            actor="system:demo", action="demo.course_followup_created",
            data={"evaluations": len(evaluations), "hotel_transfers": transfers,
                  "hotel_transfer_entries": len(entries)},
            now=timezone.now(),
        )
