"""The newsletter's background task: a mailing sent by the worker, resumed after a failure.

Every way the task can end leaves the mailing in a state staff can read in the
back office: sent; waiting for a retry (the mail server failed, tried again with
backoff); failed (given up after :data:`MAX_ATTEMPTS`, or an unexpected error),
which staff may resume; or left to another run that holds the mailing's lease.
"""

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


def _error_name(exc: BaseException) -> str:
    # The type only: an SMTP error's message may carry a recipient's address.
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


@task()
def send_newsletter(newsletter_id: int, actor: str, attempt: int = 1) -> dict[str, Any]:
    """Send (or resume) one mailing; a mail server that fails is tried again with backoff.

    ``newsletter_send`` resumes after the last batch the server accepted, so a
    retry, or a takeover after the worker was killed, sends nobody a second
    copy except at worst the batch that was in flight.
    """
    from personvern.newsletter.models import Newsletter
    from personvern.newsletter.services import (
        SEND_LEASE,
        MailingBusy,
        newsletter_send,
        newsletter_send_failed,
    )
    from personvern.worker.outbox import retry_delay

    newsletter = Newsletter.objects.filter(pk=newsletter_id).first()
    if newsletter is None:
        return {"outcome": "gone"}

    def retry(at: Any) -> dict[str, Any]:
        send_newsletter.using(run_after=at).enqueue(newsletter_id, actor, attempt + 1)
        return {"outcome": "retry", "attempt": attempt, "retry_at": at.isoformat()}

    try:
        sent = newsletter_send(newsletter=newsletter, actor=actor)
    except MailingBusy:
        # Another run holds the lease (a worker that may have died, or the CLI): look
        # again once it has run out, unless that run finishes the mailing first.
        if attempt >= MAX_ATTEMPTS:
            return {"outcome": "refused", "reason": "being sent by another run"}
        return retry(timezone.now() + SEND_LEASE)
    except ValidationError as exc:  # already sent, or nothing to send
        return {"outcome": "refused", "reason": "; ".join(exc.messages)}
    except (smtplib.SMTPException, OSError) as exc:
        if attempt >= MAX_ATTEMPTS:
            logger.error("Newsletter %s: giving up after %d attempts (%s)", newsletter_id,
                         attempt, type(exc).__name__)
            newsletter_send_failed(newsletter=newsletter, error=_error_name(exc), actor=actor)
            raise
        return retry(timezone.now() + retry_delay(attempt))
    except Exception as exc:
        # A fault of ours: shown as failed (not "being sent" for ever), resumable.
        logger.exception("Newsletter %s: sending failed", newsletter_id)
        newsletter_send_failed(newsletter=newsletter, error=_error_name(exc), actor=actor)
        raise
    return {"outcome": "sent", "recipients": sent.recipient_count}
