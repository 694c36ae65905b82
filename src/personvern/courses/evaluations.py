"""Course evaluations: submitted by participants, summarised for course development.

Writes and reads for :class:`~personvern.courses.models.Evaluation`, kept apart
from registrations because they serve another activity (``market-research``,
legitimate interest) and honour objections (Art. 21).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.core.selectors import objecting_person_ids, restricted_person_ids
from personvern.courses.models import Course, Evaluation, Registration, RegistrationStatus

ACTIVITY = "market-research"
NOT_PARTICIPANT = _("Only a confirmed participant can evaluate the course.")
BAD_RATING = _("The rating must be a whole number from 1 to 5.")
ALREADY_EVALUATED = _("This person has already evaluated the course.")


def evaluation_submit(
    *,
    course: Course,
    person: Person,
    rating: int,
    comment: str = "",
    actor: str,
    now: datetime | None = None,
) -> Evaluation:
    """Record a participant's evaluation (one per person and course)."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": BAD_RATING})
    now = now or timezone.now()
    with transaction.atomic():
        if not Registration.objects.filter(
            course=course, person=person, status=RegistrationStatus.CONFIRMED
        ).exists():
            raise ValidationError(NOT_PARTICIPANT)
        if Evaluation.objects.filter(course=course, person=person).exists():
            raise ValidationError(ALREADY_EVALUATED)
        evaluation = Evaluation.objects.create(
            course=course, person=person, rating=rating, comment=comment.strip(),
            submitted_at=now,
        )
        audit_log(
            actor=actor,
            action="evaluation.submitted",
            person=person,
            activity=ACTIVITY,
            data={"course": course.pk, "evaluation": evaluation.pk},
            now=now,
        )
    return evaluation


@dataclass(frozen=True)
class EvaluationSummary:
    answers: int
    average: float | None


def evaluation_summary(course: Course, *, now: datetime | None = None) -> EvaluationSummary:
    """Statistics for course development: one query, leaving out persons who object
    to market research and persons whose processing is restricted."""
    rows = (
        Evaluation.objects.filter(course=course)
        .exclude(person_id__in=objecting_person_ids(ACTIVITY, now))
        .exclude(person_id__in=restricted_person_ids(now=now))
        .aggregate(answers=Count("pk"), average=Avg("rating"))
    )
    average = rows["average"]
    return EvaluationSummary(
        answers=rows["answers"], average=round(float(average), 2) if average else None
    )
