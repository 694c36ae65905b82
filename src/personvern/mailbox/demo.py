"""Demo data for e-mail correspondence (R19): filed messages, some kept for a reason.

Written set-based (bulk_create in batches) for ``personvern demo``, by the rules
of :mod:`personvern.mailbox.services`: a message is filed in a named mailbox
with its direction; a message kept beyond the normal year has a ``keep_reason``
and ``keep_until`` (not in the past when decided) and a core row hold with the
same reason text and expiry that ``mail_message_keep`` places.

Messages spread over the last two years, so retention (one year after receipt)
has messages due now, others due within the year, and some held back with a
reason the forecast shows. The same (persons, rng, now) gives the same data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.models import Hold, HoldScope, Person
from personvern.demo.bulk import Progress, bulk_insert
from personvern.mailbox.apps import KEPT_PREFIX
from personvern.mailbox.models import Direction, KeepReason, MailMessage
from personvern.mailbox.services import ACTIVITY, _end_of_day

#: Share of persons who e-mailed with staff, and the least number of correspondents.
CORRESPONDENT_SHARE = 0.25
MIN_CORRESPONDENTS = 20
#: Messages kept beyond the normal year: this share of the old ones, at least a few.
KEEP_SHARE = 0.04
MIN_KEPT = 3
HISTORY_DAYS = 730

MAILBOXES = ["juspost@jus.no", "kurs@jus.no", "faktura@jus.no", "kundesenter@jus.no",
             "marked@jus.no"]
SUBJECTS = [
    "Påmelding til kurs i arbeidsrett",
    "SV: Spørsmål om faktura",
    "Kursbevis etter fagdag",
    "Tilbud på bedriftsinternt kurs",
    "SV: Endring av påmelding",
    "Forespørsel om foredrag",
    "Avtale om leie av møtelokaler",
    "SV: Tilbakemelding på kurset",
    "Purring: utestående faktura",
    "Samarbeid om høstkonferansen",
]
REASONS = [KeepReason.SALES_PROCESS, KeepReason.CUSTOMER, KeepReason.PARTNER, KeepReason.OTHER]
KEEPER = "staff:kundesenter"



def generate(
    *,
    persons: QuerySet[Person],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """File one to four messages to or from about a quarter of ``persons`` over the last
    two years, and keep a few of the older ones for a reason (with a row hold)."""
    people = list(persons.values_list("pk", "created_at"))
    if not people:
        return
    k = min(len(people), max(MIN_CORRESPONDENTS, round(len(people) * CORRESPONDENT_SHARE)))
    earliest = now - timedelta(days=HISTORY_DAYS)
    with transaction.atomic():
        messages: list[MailMessage] = []
        for person_id, created_at in sorted(rng.sample(people, k)):
            lo = max(earliest, created_at)
            span = max(0, int((now - lo).total_seconds() // 60) - 1)
            mailbox = rng.choice(MAILBOXES)
            subject = rng.choice(SUBJECTS)
            reply_subject = subject if subject.startswith("SV: ") else f"SV: {subject}"
            for reply in range(rng.randint(1, 4)):
                received = lo + timedelta(minutes=rng.randint(0, span))
                messages.append(
                    MailMessage(
                        person_id=person_id,
                        direction=Direction.IN if reply % 2 == 0 else Direction.OUT,
                        mailbox=mailbox,
                        subject=subject if reply == 0 else reply_subject,
                        received_at=received,
                    )
                )
        # Keep some messages older than the normal year, decided shortly before it ran out.
        old = [m for m in messages if m.received_at < now - timedelta(days=330)]
        kept = sorted(
            rng.sample(range(len(old)), min(len(old), max(MIN_KEPT, round(len(old) * KEEP_SHARE))))
        )
        decisions: list[tuple[MailMessage, datetime]] = []
        for index in kept:
            message = old[index]
            decided = min(now, message.received_at + timedelta(days=rng.randint(300, 360)))
            # The ground still holds: kept until a date ahead (some ending within weeks).
            keep_until = max(timezone.localdate(decided), timezone.localdate(now)) + timedelta(
                days=rng.choice([20, 75, 200, 300])
            )
            message.keep_reason = rng.choice(REASONS)
            message.keep_until = keep_until
            decisions.append((message, decided))
        bulk_insert(MailMessage, messages, progress)

        content_type = ContentType.objects.get_for_model(MailMessage)
        holds = [
            Hold(
                scope=HoldScope.ROW,
                reason=f"{KEPT_PREFIX}{message.keep_reason}",
                person_id=message.person_id,
                activity=ACTIVITY,
                content_type=content_type,
                object_id=message.pk,
                expires_at=_end_of_day(message.keep_until) if message.keep_until else None,
                created_by=KEEPER,
                created_at=decided,
            )
            for message, decided in decisions
        ]
        bulk_insert(Hold, holds, progress)
        audit_log(
            actor="system:demo",
            action="demo.mailbox_created",
            activity=ACTIVITY,
            data={"messages": len(messages), "kept": len(holds)},
            now=timezone.now(),
        )
