"""Audit actions in words: the code an entry records → a label staff can read.

The audit log stores short, stable codes (``registration.moved_up``); the back
office, the data protection officer's pages and anything else that shows an
entry to a person shows :func:`action_label` instead. Every code written
anywhere in ``src/`` must have a label here: ``tests/core/test_audit_labels.py``
scans the source at test time and fails on a code without one. Codes built with
an f-string are declared as a family (:data:`FAMILIES`) whose members are
listed from the enum that fills them in.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from personvern.core.models import ConsentAction
from personvern.core.scanning import Verdict

#: Action code → what happened, as a short sentence fragment (nb in the catalogue).
LABELS: dict[str, Promise] = {
    # Persons and their privacy facts (core)
    "person.created": _("Person created"),
    "person.email_added": _("E-mail address added to a person"),
    "membership.added": _("Membership added"),
    "membership.ended": _("Membership ended"),
    "membership.changed": _("Membership changed"),
    "consent.given": _("Consent given"),
    "consent.withdrawn": _("Consent withdrawn"),
    "hold.placed": _("Hold placed"),
    "hold.lifted": _("Hold lifted"),
    "restriction.placed": _("Processing restricted"),
    "restriction.lifted": _("Restriction of processing lifted"),
    "objection.recorded": _("Objection recorded"),
    "objection.lifted": _("Objection lifted"),
    "file.scan_clean": _("File scanned: clean"),
    "file.scan_infected": _("File scanned: malware found"),
    "file.scan_error": _("File scan failed"),
    "file.scan_disabled": _("File not scanned (scanning switched off)"),
    # Courses
    "venue.created": _("Venue created"),
    "venue.changed": _("Venue changed"),
    "course.created": _("Course created"),
    "course.changed": _("Course changed"),
    "courses.relationships_refreshed": _("Customer relationships from courses refreshed"),
    "registration.created": _("Course registration received"),
    "registration.receipt_sent": _("Registration receipt sent"),
    "registration.receipt_not_sent": _("Registration receipt could not be sent"),
    "registration.duplicate_notice_sent": _("Notice of an existing registration sent"),
    "registration.changed": _("Course registration changed"),
    "registration.cancelled": _("Course registration cancelled"),
    "registration.moved_up": _("Moved up from the waiting list"),
    "registration.cancellation_receipt_sent": _("Cancellation receipt sent"),
    "registration.certificate_downloaded": _("Course certificate downloaded"),
    "attendance.recorded": _("Attendance recorded"),
    "evaluation.submitted": _("Course evaluation submitted"),
    "participant_list.exported": _("Participant list exported"),
    "hotel_transfer.recorded": _("Hotel list handover recorded"),
    "hotel_transfer.deletion_confirmed": _("Hotel confirmed deleting the hotel list"),
    "hotel_list.mailed": _("Hotel list e-mailed to the hotel"),
    "checkin_list.viewed": _("Check-in list viewed"),
    "dietary_list.viewed": _("List of dietary needs viewed"),
    "hotel_list.viewed": _("Hotel list viewed before sending"),
    "cle_report.recorded": _("Course hours reported to the Bar Association"),
    # Rights requests
    "rights.request.created": _("Privacy request registered"),
    "rights.request.verification_sent": _("Identity check sent for a privacy request"),
    "rights.request.verified": _("Requester's identity verified"),
    "rights.request.classified": _("Privacy request classified"),
    "rights.request.assigned": _("Privacy request assigned"),
    "rights.request.linked": _("Privacy request linked to a person"),
    "rights.request.extended": _("Deadline of a privacy request extended"),
    "rights.request.cancelled": _("Privacy request cancelled"),
    "rights.request.completed": _("Privacy request completed"),
    "rights.request.file_published": _("Access file made available on Min side"),
    "rights.request.file_downloaded": _("Access file downloaded by the person"),
    "rights.request.file_downloaded_by_staff": _("Access file downloaded by staff"),
    "rights.request.bundle_downloaded": _("Access file downloaded through the API"),
    "rights.request.file_deleted": _("Access file deleted"),
    "rights.request.storage_purge_pending": _("Stored files of a request awaiting deletion"),
    "rights.erased": _("Personal data erased"),
    "rights.rectified": _("Personal data corrected"),
    # Retention
    "retention.batch": _("Retention: data deleted or anonymised"),
    "retention.persons": _("Retention: persons with nothing left deleted"),
    "retention.persons_minimised": _("Retention: persons reduced to what is still needed"),
    "retention.stale_holds": _("Retention: holds on data already gone removed"),
    # Newsletter
    "newsletter.subscribed": _("Subscribed to the newsletter"),
    "newsletter.resubscribed": _("Subscribed to the newsletter again"),
    "newsletter.unsubscribed": _("Unsubscribed from the newsletter"),
    "newsletter.optout_recorded": _("Newsletter opt-out remembered"),
    "newsletter.optout_lifted": _("Newsletter opt-out lifted by the person's own sign-up"),
    "newsletter.signup_link_sent": _("Newsletter confirmation link sent"),
    "newsletter.created": _("Newsletter issue created"),
    "newsletter.changed": _("Newsletter issue changed"),
    "newsletter.send_queued": _("Newsletter issue queued for sending"),
    "newsletter.batch_sent": _("Newsletter batch sent"),
    "newsletter.sent": _("Newsletter issue sent"),
    "newsletter.send_failed": _("Sending of a newsletter issue failed"),
    "newsletter.send_resumed": _("Sending of a newsletter issue resumed"),
    "newsletter.basis_lapsed": _("Basis for a newsletter subscription lapsed"),
    "newsletter.interaction_recorded": _("Newsletter opening or click recorded"),
    # Inquiries and the secure channel
    "inquiry.received": _("Inquiry received"),
    "inquiry.upload_received": _("File received through the secure channel"),
    "inquiry.upload_opened": _("File received through the secure channel downloaded by staff"),
    "inquiry.contacted": _("Inquirer contacted"),
    "inquiry.closed": _("Inquiry closed"),
    # Recruitment
    "recruitment.position_posted": _("Position posted"),
    "recruitment.position_closed": _("Position closed"),
    "recruitment.application_received": _("Job application received"),
    "recruitment.note_added": _("Note added to a job application"),
    "recruitment.application_status": _("Job application status changed"),
    "recruitment.employment_ended": _("Employment ended"),
    "recruitment.document_opened": _("Application document opened"),
    # Competitions
    "competition.created": _("Competition created"),
    "competition.closed": _("Competition closed"),
    "competition.entry_reviewed": _("Competition entry reviewed"),
    "competition.feedback_sent": _("Feedback on a competition entry sent"),
    "competition.entered": _("Competition entry received"),
    "competition.feedback_given": _("Feedback on a competition entry given"),
    "competition.entry_withdrawn": _("Competition entry withdrawn"),
    "competition.receipt_sent": _("Competition entry receipt sent"),
    "competition.duplicate_notice_sent": _("Notice of an existing competition entry sent"),
    # Customers
    "customer.created": _("Customer created"),
    "customer.relationship_ended": _("Customer relationship ended"),
    "customer.contact_added": _("Contact person added to a customer"),
    "customer.invoice_recorded": _("Invoice recorded"),
    "customer.agreed_term_set": _("Retention term agreed with a customer recorded"),
    # Staff mailboxes
    "mail.recorded": _("E-mail recorded"),
    "mail.kept": _("E-mail kept on hold"),
    "mail.released": _("E-mail hold released"),
    "mail.deleted": _("E-mail deleted from the mailbox"),
    "mail.gone": _("E-mail no longer in the mailbox; its record removed"),
    # Member organisations
    "members.imported": _("Member list imported"),
    "members.optouts_applied": _("Opt-outs from a member organisation applied"),
    "members.feed_user_ensured": _("Member organisation's feed user set up"),
    # Min side
    "portal.sign_in_link_sent": _("Min side sign-in link sent"),
    "portal.signed_in": _("Signed in to Min side"),
    "portal.signed_out": _("Signed out of Min side"),
    # API and web statistics
    "api.token_created": _("API token created"),
    "api.token_revoked": _("API token revoked"),
    "analytics.consent_given": _("Consent to web analytics given"),
    "analytics.consent_withdrawn": _("Consent to web analytics withdrawn"),
    "webstats.log_imported": _("Web server log imported into the statistics"),
    # The demo's data
    "demo.persons_created": _("Demo: persons created"),
    "demo.rights_created": _("Demo: privacy requests created"),
    "demo.customers_created": _("Demo: customers created"),
    "demo.mailbox_created": _("Demo: e-mails created"),
    "demo.competitions_created": _("Demo: competitions created"),
    "demo.recruitment_created": _("Demo: job applications created"),
    "demo.inquiries_created": _("Demo: inquiries created"),
    "demo.newsletter_created": _("Demo: newsletter created"),
    "demo.webstats_created": _("Demo: web statistics created"),
    "demo.course_followup_created": _("Demo: course follow-up created"),
}

#: Codes built with an f-string, by their template (each ``{…}`` written as ``*``):
#: the codes it can produce, listed from the enum that fills it in.
FAMILIES: dict[str, list[str]] = {
    "consent.*": [f"consent.{action}" for action in ConsentAction.values],
    "file.scan_*": [f"file.scan_{verdict}" for verdict in Verdict],
}


def action_label(code: str) -> str:
    """The words for an audit action, in the active language; the code if it has none."""
    label = LABELS.get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, label) for every known action, sorted by label: a filter's choices."""
    return sorted(((code, str(label)) for code, label in LABELS.items()), key=lambda c: c[1])
