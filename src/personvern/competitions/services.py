"""Writes of competitions: create, enter, give feedback. Each is audited."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.competitions.models import Competition, Entry
from personvern.core.audit import audit_log
from personvern.core.services import person_get_or_create

ACTIVITY = "competitions"

TITLE_NEEDED = _("A competition needs a title.")
ENDED = _("The competition has ended.")
CONTRIBUTION_NEEDED = _("An entry needs a contribution.")
ALREADY_ENTERED = _("This person has already entered the competition.")
FEEDBACK_NEEDED = _("Feedback cannot be empty.")


def competition_create(*, title: str, ends_at: datetime, actor: str) -> Competition:
    """Create a competition that accepts entries until ``ends_at``."""
    if not title.strip():
        raise ValidationError({"title": TITLE_NEEDED})
    with transaction.atomic():
        competition = Competition.objects.create(title=title.strip(), ends_at=ends_at)
        audit_log(
            actor=actor,
            action="competition.created",
            activity=ACTIVITY,
            data={"competition": competition.pk},
        )
    return competition


def entry_submit(
    *,
    competition: Competition,
    email: str,
    contribution: str,
    actor: str,
    given_name: str = "",
    family_name: str = "",
    phone: str = "",
    workplace: str = "",
    now: datetime | None = None,
) -> Entry:
    """Enter ``competition`` (R23); one entry per person, only before it ends."""
    now = now or timezone.now()
    if now >= competition.ends_at:
        raise ValidationError({"competition": ENDED})
    if not contribution.strip():
        raise ValidationError({"contribution": CONTRIBUTION_NEEDED})
    try:
        with transaction.atomic():
            person, _created = person_get_or_create(
                email=email,
                given_name=given_name,
                family_name=family_name,
                phone=phone,
                actor=actor,
                now=now,
            )
            entry = Entry.objects.create(
                competition=competition,
                person=person,
                workplace=workplace.strip(),
                contribution=contribution.strip(),
                submitted_at=now,
            )
            audit_log(
                actor=actor,
                action="competition.entered",
                person=person,
                activity=ACTIVITY,
                data={"competition": competition.pk, "entry": entry.pk},
                now=now,
            )
    except IntegrityError as exc:
        raise ValidationError({"email": ALREADY_ENTERED}) from exc
    return entry


def entry_give_feedback(
    *, entry: Entry, feedback: str, actor: str, now: datetime | None = None
) -> Entry:
    """Record the feedback given to the entrant."""
    if not feedback.strip():
        raise ValidationError({"feedback": FEEDBACK_NEEDED})
    with transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(feedback=feedback.strip())
        entry.feedback = feedback.strip()
        audit_log(
            actor=actor,
            action="competition.feedback_given",
            person=entry.person,
            activity=ACTIVITY,
            data={"entry": entry.pk},
            now=now,
        )
    return entry
