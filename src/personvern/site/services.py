"""Writes of the public site: a message sent through the secure channel (R20)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from personvern.core.audit import audit_log
from personvern.core.scanning import ScanStatus, audit_scan, scan_or_refuse
from personvern.inquiries.models import Inquiry, InquiryChannel
from personvern.inquiries.services import ACTIVITY, inquiry_receive
from personvern.site.models import SecureUpload
from personvern.site.uploads import check_upload

#: Where a file came from, in the audit entries of its virus scan.
SCAN_CHANNEL = "secure-channel"


def secure_message_send(
    *,
    email: str,
    subject: str,
    message: str,
    actor: str,
    given_name: str = "",
    family_name: str = "",
    attachment: tuple[str, bytes] | None = None,
    now: datetime | None = None,
) -> Inquiry:
    """Receive a message (and an optional file as ``(filename, content)``) as an inquiry.

    The file is checked against the size limit and the type allow-list, then
    scanned for malware (R21), before anything is written: an infected file, or
    one the scanner could not check, is refused (the verdict is audited). The
    inquiry and the file are stored in one transaction.
    """
    now = now or timezone.now()
    upload = None
    result = None
    if attachment is not None:
        try:
            upload = check_upload(*attachment)
        except ValidationError as exc:
            raise ValidationError({"attachment": exc.error_list}) from exc
        result = scan_or_refuse(
            upload.content, name=upload.filename, field="attachment", actor=actor,
            activity=ACTIVITY, channel=SCAN_CHANNEL, now=now,
        )
    with transaction.atomic():
        inquiry = inquiry_receive(
            email=email,
            given_name=given_name,
            family_name=family_name,
            subject=subject,
            message=message,
            channel=InquiryChannel.WEB,
            actor=actor,
            received_at=now,
        )
        if upload is not None:
            assert result is not None
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
    return inquiry
