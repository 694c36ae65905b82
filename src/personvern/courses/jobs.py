"""Course jobs: following up hotels that should have deleted a guest list (R9)."""

from __future__ import annotations

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from personvern.worker.registry import Counts, Job, JobContext, daily, register

SUBJECT_HOTEL_FOLLOW_UP = _("Hotels that have not confirmed deleting a guest list")
LINE_HOTEL = _("%(hotel)s, %(course)s: should have deleted the list by %(date)s")
INTRO_HOTEL = _(
    "These hotels received a guest list from us and should have deleted it by now, but their "
    "deletion is not confirmed. Ask them to delete it and confirm, then record the "
    "confirmation on the hotel transfer in the back office."
)


def _hotel_follow_up(ctx: JobContext) -> Counts:
    from personvern.core.roles import COURSE_ADMIN
    from personvern.courses.selectors import LEGAL_TZ, hotel_deletions_overdue
    from personvern.worker.outbox import queue_mail_each
    from personvern.worker.recipients import dpo_addresses, role_addresses

    overdue = list(hotel_deletions_overdue(today=ctx.now.astimezone(LEGAL_TZ).date()))
    if not overdue:
        return {"overdue": 0, "mails": 0}
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            str(LINE_HOTEL) % {
                "hotel": transfer.hotel_name,
                "course": transfer.course.title,
                "date": formats.date_format(transfer.delete_by or "", "DATE_FORMAT"),
            }
            for transfer in overdue
        ]
        body = str(INTRO_HOTEL) + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
        mails = queue_mail_each(
            to=role_addresses(COURSE_ADMIN) or dpo_addresses(),
            subject=str(SUBJECT_HOTEL_FOLLOW_UP),
            body=body,
            kind="hotel-follow-up",
            now=ctx.now,
        )
    return {"overdue": len(overdue), "mails": len(mails)}


register(
    Job(
        name="hotel-deletion-follow-up",
        schedule=daily("08:00"),
        run=_hotel_follow_up,
        description=_("Remind course administrators of hotels that have not confirmed deletion"),
    )
)
