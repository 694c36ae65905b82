"""Outgoing mail kinds and job names in words: the code a row records → a label staff read.

The outbox stores each message's ``kind`` as a short, stable code
(``registration-confirmed``) and each job run its job's ``name``
(``retention-run``); the back office shows :func:`mail_kind_label` and
:func:`job_label` instead, in Norwegian or English. Every kind queued anywhere
in ``src/`` and every declared job must have a label here:
``tests/worker/test_labels.py`` scans the source (and the job registry) when it
runs and fails on one without. A code with no label is shown as itself.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: Mail kind → what the message is (nb in the catalogue).
MAIL_KINDS: dict[str, Promise] = {
    # Courses
    "registration-confirmed": _("Course registration confirmed"),
    "registration-waitlisted": _("Course registration on the waiting list"),
    "registration-promoted": _("Place given from the waiting list"),
    "registration-cancelled": _("Course registration cancelled"),
    "registration-duplicate-notice": _("Notice of an existing course registration"),
    "hotel-list": _("Hotel list to the hotel"),
    "hotel-follow-up": _("Reminder of a hotel's unconfirmed deletion"),
    # Competitions
    "competition-entry-receipt": _("Competition entry receipt"),
    "competition-duplicate-notice": _("Notice of an existing competition entry"),
    "competition-feedback": _("Feedback on a competition entry"),
    # Newsletter
    "newsletter-signup-confirmation": _("Newsletter sign-up confirmation"),
    "newsletter-copy": _("Newsletter issue"),
    # Recruitment
    "application-receipt": _("Job application receipt"),
    # Privacy requests
    "rights-new-request": _("New privacy request to the data protection officer"),
    "rights-verification-code": _("Verification code for a privacy request"),
    "rights-extension-notice": _("Notice of an extended deadline"),
    "rights-bundle-ready": _("Access file ready on Min side"),
    "rights-reminder": _("Privacy request deadline reminder"),
    # Policy
    "processor-audits": _("Processor audits falling due"),
    # Site and Min side
    "secure-message-receipt": _("Secure message receipt"),
    "portal-sign-in-link": _("Min side sign-in link"),
}

#: Job name → what the job does, as a name (its description says more).
JOBS: dict[str, Promise] = {
    "scan-pending": _("Virus scan of waiting files"),
    "audit-seal": _("Sealing of the audit log"),
    "hotel-deletion-follow-up": _("Follow-up of hotels' deletion"),
    "mailbox-sweep": _("Clean-up of staff e-mail"),
    "processor-audits": _("Processor audit reminders"),
    "portal-sign-in-links": _("Clean-up of Min side sign-in links"),
    "retention-run": _("Retention run"),
    "rights-intake": _("Privacy requests from the intake mailbox"),
    "rights-deadline-reminders": _("Privacy request deadline reminders"),
    "rights-bundles-expire": _("Expiry of access files on Min side"),
    "login-failures-forget": _("Clean-up of failed back-office logins"),
    "mail-sweep": _("Outgoing mail sweep"),
    "worker-records-prune": _("Clean-up of task and job records"),
}


def mail_kind_label(kind: str) -> str:
    """The words for a mail kind, in the active language; the code if it has none."""
    label = MAIL_KINDS.get(kind)
    return str(label) if label is not None else kind


def job_label(name: str) -> str:
    """The words for a job's name, in the active language; the name if it has none."""
    label = JOBS.get(name)
    return str(label) if label is not None else name
