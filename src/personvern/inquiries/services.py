"""Writes of inquiries: receive, follow up, close. Each is audited."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.services import person_get_or_create
from personvern.inquiries.models import Inquiry, InquiryChannel

ACTIVITY = "inquiries"

NOT_A_CHANNEL = _("'%(channel)s' is not an inquiry channel.")
SUBJECT_NEEDED = _("An inquiry needs a subject.")
MESSAGE_NEEDED = _("An inquiry needs a message.")
CONTACT_BEFORE_INQUIRY = _("A follow-up cannot precede the inquiry.")
CLOSED_BEFORE_INQUIRY = _("An inquiry cannot be closed before it arrived.")


def inquiry_receive(
    *,
    email: str,
    subject: str,
    message: str,
    channel: InquiryChannel | str,
    actor: str,
    given_name: str = "",
    family_name: str = "",
    company: str = "",
    received_at: datetime | None = None,
) -> Inquiry:
    """Register an inquiry; creates the person (customer profile) if the address is new.

    An existing person is linked, names unchanged. ``company`` is where the
    inquirer works (the activity's "workplace" data).

    ``received_at`` is when the inquiry arrived (staff may register one that came
    in earlier through an account manager); it defaults to now.
    """
    received_at = received_at or timezone.now()
    if channel not in InquiryChannel.values:
        raise ValidationError(
            {"channel": ValidationError(NOT_A_CHANNEL, params={"channel": channel})}
        )
    if not subject.strip():
        raise ValidationError({"subject": SUBJECT_NEEDED})
    if not message.strip():
        raise ValidationError({"message": MESSAGE_NEEDED})
    with transaction.atomic():
        person, _created = person_get_or_create(
            email=email,
            given_name=given_name,
            family_name=family_name,
            actor=actor,
            now=received_at,
        )
        inquiry = Inquiry.objects.create(
            person=person,
            channel=channel,
            company=company.strip(),
            subject=subject.strip(),
            message=message.strip(),
            received_at=received_at,
            last_contact_at=received_at,
        )
        audit_log(
            actor=actor,
            action="inquiry.received",
            person=person,
            activity=ACTIVITY,
            data={"inquiry": inquiry.pk, "channel": str(channel)},
            now=received_at,
        )
    return inquiry


def inquiry_record_contact(*, inquiry: Inquiry, actor: str, now: datetime | None = None) -> Inquiry:
    """Record a follow-up contact: the inquiry stays relevant from ``now``."""
    now = now or timezone.now()
    if now < inquiry.received_at:
        raise ValidationError({"now": CONTACT_BEFORE_INQUIRY})
    with transaction.atomic():
        Inquiry.objects.filter(pk=inquiry.pk).update(last_contact_at=now)
        inquiry.last_contact_at = now
        audit_log(
            actor=actor,
            action="inquiry.contacted",
            person=inquiry.person,
            activity=ACTIVITY,
            data={"inquiry": inquiry.pk},
            now=now,
        )
    return inquiry


def inquiry_close(*, inquiry: Inquiry, actor: str, now: datetime | None = None) -> Inquiry:
    """Close an inquiry that needs no more follow-up: it is no longer relevant (R15).

    Closing is a contact too. From now the policy's ``closed-inquiry`` rule
    governs it (a shorter period after ``closed_at``) instead of the period
    after the last contact.
    """
    now = now or timezone.now()
    if inquiry.closed_at is not None:
        return inquiry
    if now < inquiry.received_at:
        raise ValidationError({"now": CLOSED_BEFORE_INQUIRY})
    with transaction.atomic():
        Inquiry.objects.filter(pk=inquiry.pk).update(closed_at=now, last_contact_at=now)
        inquiry.closed_at = now
        inquiry.last_contact_at = now
        audit_log(
            actor=actor,
            action="inquiry.closed",
            person=inquiry.person,
            activity=ACTIVITY,
            data={"inquiry": inquiry.pk},
            now=now,
        )
    return inquiry
