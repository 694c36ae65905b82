"""Writes of the public site: a message sent through the secure channel (R20).

A message is either an inquiry (marketing's list) or, when it is a privacy
question, a privacy request for the data protection officer (R5, R32): one
whose topic is "privacy", or whose subject carries the policy's privacy marker
("Personvern"), as an e-mail to us would. Either way the sender gets a case
number on the page and in a receipt mail, which repeats nothing they wrote.

Case numbers name nothing and cannot be counted or guessed:

- a privacy request's is its ``public_id`` (a random UUID), the id the data
  protection officer's back office searches and the rights commands take;
- an inquiry has no public id, so it gets a random reference of eight
  characters (about 39 bits, from an alphabet without look-alike characters,
  ``7KQ2-X9DA``), written at the start of its subject, where the back office's
  inquiry search finds it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.core.policy import current_policy
from personvern.core.scanning import ScanResult, ScanStatus, audit_scan, scan_or_refuse
from personvern.core.services import person_get_or_create
from personvern.inquiries.models import Inquiry, InquiryChannel
from personvern.inquiries.services import ACTIVITY, inquiry_receive
from personvern.rights.models import Channel, Request, RequestType
from personvern.rights.services import request_create
from personvern.site.models import SecureUpload
from personvern.site.uploads import Upload, check_upload
from personvern.worker.outbox import queue_mail

#: Where a file came from, in the audit entries of its virus scan.
SCAN_CHANNEL = "secure-channel"

#: What a message is about; ``privacy`` makes it a privacy request, not an inquiry.
TOPIC_COURSE = "course"
TOPIC_INVOICE = "invoice"
TOPIC_PRIVACY = "privacy"
TOPIC_OTHER = "other"
TOPICS = {
    TOPIC_COURSE: _("Course or booking"),
    TOPIC_INVOICE: _("Invoice"),
    TOPIC_PRIVACY: _("Privacy (personvern): your personal data or your rights"),
    TOPIC_OTHER: _("Something else"),
}

#: Inquiry references: no 0/O, 1/I/L or U, so that one read aloud is written right.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8

NOT_A_TOPIC = _("Choose what your message is about.")
PRIVACY_NO_FILE = _(
    "A file cannot be sent with a privacy question. Send the question without it: our "
    "data protection officer will tell you if we need documents and how to send them."
)
REQUEST_NOTE = _(
    "Sent through the secure message form as a privacy question, with the subject "
    "“%(subject)s”. The message:"
)
NOT_CLEAN = _("This file has not been found clean by the virus scanner and cannot be downloaded.")
SUBJECT_RECEIPT = _("We have received your message (case %(case)s)")
SUBJECT_PRIVACY_RECEIPT = _("We have received your privacy question (case %(case)s)")


@dataclass(frozen=True)
class SecureMessageReceipt:
    """What became of a message: an inquiry or a privacy request, and its case number."""

    case_number: str
    inquiry: Inquiry | None = None
    request: Request | None = None

    @property
    def is_privacy_request(self) -> bool:
        return self.request is not None


def is_privacy_message(*, topic: str, subject: str) -> bool:
    """A privacy question: its topic says so, or its subject carries the privacy marker (R5)."""
    marker = current_policy().controller.privacy_marker.lower()
    return topic == TOPIC_PRIVACY or marker in subject.lower()


def new_reference() -> str:
    """A random inquiry reference such as ``7KQ2-X9DA``."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _i in range(REFERENCE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def _checked_file(
    attachment: tuple[str, bytes] | None, *, actor: str, now: datetime
) -> tuple[Upload, ScanResult] | None:
    if attachment is None:
        return None
    try:
        upload = check_upload(*attachment)
    except ValidationError as exc:
        raise ValidationError({"attachment": exc.error_list}) from exc
    result = scan_or_refuse(
        upload.content, name=upload.filename, field="attachment", actor=actor,
        activity=ACTIVITY, channel=SCAN_CHANNEL, now=now,
    )
    return upload, result


def secure_message_send(
    *,
    email: str,
    subject: str,
    message: str,
    actor: str,
    topic: str = TOPIC_OTHER,
    given_name: str = "",
    family_name: str = "",
    attachment: tuple[str, bytes] | None = None,
    now: datetime | None = None,
) -> SecureMessageReceipt:
    """Receive a message (and an optional file as ``(filename, content)``).

    A privacy question (:func:`is_privacy_message`) becomes an unclassified
    privacy request, with the message in its notes, for the data protection
    officer to classify; it takes no file (a request has nowhere to keep one).
    Anything else becomes an inquiry; its file is checked against the size limit
    and the type allow-list, then scanned for malware (R21), before anything is
    written: an infected file, or one the scanner could not check, is refused
    (the verdict is audited). The record, the file and the receipt mail are
    written in one transaction.
    """
    now = now or timezone.now()
    if topic not in TOPICS:
        raise ValidationError({"topic": NOT_A_TOPIC})
    if is_privacy_message(topic=topic, subject=subject):
        if attachment is not None:
            raise ValidationError({"attachment": PRIVACY_NO_FILE})
        return _privacy_request(
            email=email, given_name=given_name, family_name=family_name, subject=subject,
            message=message, actor=actor, now=now,
        )
    checked = _checked_file(attachment, actor=actor, now=now)
    reference = new_reference()
    with translation.override(settings.LANGUAGE_CODE):  # the back office's language
        label = str(TOPICS[topic])
    prefix = f"[{reference}] {label}: "
    with transaction.atomic():
        inquiry = inquiry_receive(
            email=email,
            given_name=given_name,
            family_name=family_name,
            subject=prefix + subject.strip()[: 200 - len(prefix)] if subject.strip() else "",
            message=message,
            channel=InquiryChannel.WEB,
            actor=actor,
            received_at=now,
        )
        if checked is not None:
            _store_file(inquiry, *checked, actor=actor, now=now)
        _receipt(email, str(SUBJECT_RECEIPT % {"case": reference}), case=reference,
                 person=inquiry.person, now=now)
    return SecureMessageReceipt(case_number=reference, inquiry=inquiry)


def _privacy_request(
    *, email: str, given_name: str, family_name: str, subject: str, message: str, actor: str,
    now: datetime,
) -> SecureMessageReceipt:
    if not message.strip():
        raise ValidationError({"message": _("Write your question.")})
    with translation.override(settings.LANGUAGE_CODE):  # the back office's language
        header = str(REQUEST_NOTE % {"subject": subject.strip()})
    with transaction.atomic():
        person, _created = person_get_or_create(
            email=email, given_name=given_name, family_name=family_name, actor=actor, now=now
        )
        request = request_create(
            type=RequestType.UNCLASSIFIED, person=person, channel=Channel.WEB, received_at=now,
            actor=actor, notes=f"{header}\n\n{message.strip()}", now=now,
        )
        case = str(request.public_id)
        _receipt(email, str(SUBJECT_PRIVACY_RECEIPT % {"case": case}), case=case,
                 person=person, now=now, due=request.due_legal)
    return SecureMessageReceipt(case_number=case, request=request)


def _store_file(
    inquiry: Inquiry, upload: Upload, result: ScanResult, *, actor: str, now: datetime
) -> None:
    row = SecureUpload.objects.create(
        inquiry=inquiry,
        filename=upload.filename,
        content_type=upload.content_type,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        content=upload.content,
        received_at=now,
        scan_status=result.status,
        scanned_at=now if result.status == ScanStatus.CLEAN else None,
    )
    audit_log(
        actor=actor,
        action="inquiry.upload_received",
        person=inquiry.person,
        activity=ACTIVITY,
        data={
            "inquiry": inquiry.pk,
            "upload": row.pk,
            "size": row.size,
            "content_type": row.content_type,
            "scan": str(result.status),
        },
        now=now,
    )
    audit_scan(
        result, actor=actor, activity=ACTIVITY, channel=SCAN_CHANNEL, size=row.size,
        person=inquiry.person, data={"inquiry": inquiry.pk, "upload": row.pk}, now=now,
    )


def secure_upload_open(
    *, upload: SecureUpload, actor: str, now: datetime | None = None
) -> bytes:
    """The bytes of a file received through the secure channel, for staff; audited.

    Only a file the virus scanner found clean is handed out (R21). The caller
    has already checked that the staff member may see the inquiry's person
    (the admin's scoped queryset, ADR 0017).
    """
    now = now or timezone.now()
    if upload.scan_status != ScanStatus.CLEAN:
        raise ValidationError({"upload": str(NOT_CLEAN)})
    inquiry = upload.inquiry
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="inquiry.upload_opened",
            person=inquiry.person,
            activity=ACTIVITY,
            data={"inquiry": inquiry.pk, "upload": upload.pk},
            now=now,
        )
    return bytes(upload.content)


def _receipt(
    email: str, subject: str, *, case: str, person: Person, now: datetime,
    due: date | None = None,
) -> None:
    """The receipt mail, in the sender's language: the case number, nothing they wrote.

    ``due``: a privacy request's legal deadline, which the receipt states.
    """
    body = render_to_string("site/email/secure_channel_receipt.txt", {"case": case, "due": due})
    queue_mail(to=email, subject=subject, body=body, kind="secure-message-receipt",
               person=person, now=now)
