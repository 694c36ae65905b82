"""The newsletter's background task: a mailing sent by the worker, resumed after a failure."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

#: Tries before a mailing that the mail server keeps failing is left for staff.
MAX_ATTEMPTS = 10


@task()
def send_newsletter(newsletter_id: int, actor: str, attempt: int = 1) -> dict[str, Any]:
    """Send (or resume) one mailing; a mail server that fails is tried again with backoff.

    ``newsletter_send`` resumes after the last batch the server accepted, so a
    retry, or a takeover after the worker was killed, sends nobody a second
    copy except at worst the batch that was in flight.
    """
    from personvern.newsletter.models import Newsletter
    from personvern.newsletter.services import newsletter_send
    from personvern.worker.outbox import retry_delay

    newsletter = Newsletter.objects.get(pk=newsletter_id)
    try:
        sent = newsletter_send(newsletter=newsletter, actor=actor)
    except ValidationError as exc:  # already sent, or sent by another run
        return {"outcome": "refused", "reason": "; ".join(exc.messages)}
    except (smtplib.SMTPException, OSError) as exc:
        if attempt >= MAX_ATTEMPTS:
            logger.error("Newsletter %s: giving up after %d attempts (%s)", newsletter_id,
                         attempt, type(exc).__name__)
            raise
        retry_at = timezone.now() + retry_delay(attempt)
        send_newsletter.using(run_after=retry_at).enqueue(newsletter_id, actor, attempt + 1)
        return {"outcome": "retry", "attempt": attempt, "retry_at": retry_at.isoformat()}
    return {"outcome": "sent", "recipients": sent.recipient_count}
