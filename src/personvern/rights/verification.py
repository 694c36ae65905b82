"""Confirming that a privacy request comes from the person it is about.

Either by a one-time code e-mailed to an address the person holds
(:func:`request_send_verification`, then :func:`request_verify` with the code,
entered on the page the mail links to), by staff who confirmed the identity
another way and say how (a note), or by the person's sign-in to Min side when
they make the request there (:func:`request_verify_signed_in`, ADR 0018). Codes
are stored as a keyed digest only; wrong codes are counted outside the
rolled-back transaction so guessing stays bounded. The deadline does not move
while verification is pending (ADR 0006).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.rights.common import _lock, _person_address, _require_open
from personvern.rights.models import Request, RequestStatus, VerificationMethod
from personvern.worker.outbox import queue_mail

#: How long an e-mailed verification code stays valid.
VERIFICATION_CODE_TTL = timedelta(days=14)
#: Wrong codes accepted before the code is voided and a new one must be sent.
VERIFICATION_MAX_ATTEMPTS = 5

SUBJECT_VERIFICATION = _("Your privacy request: confirmation code")
ALREADY_VERIFIED = _("The request is already verified.")
NO_PERSON_TO_VERIFY = _("The request has no person to verify.")
NO_ADDRESS = _("The person has no e-mail address; confirm their identity as staff.")
CODE_OR_NOTE = _("Give either the code or a staff note, not both or neither.")
STAFF_NOTE_NEEDED = _("Say how the identity was confirmed.")
NO_CODE_SENT = _("No code has been sent for this request.")
CODE_EXPIRED = _("The code has expired; send a new one.")
TOO_MANY_CODES = _("Too many wrong codes; send a new one.")
WRONG_CODE = _("The code is wrong.")
NOT_THIS_PERSON = _("The request is not the signed-in person's.")


def _code_digest(request: Request, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    msg = f"rights-verification:{request.public_id}:{code.strip()}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def verify_url(request: Request) -> str:
    """The absolute address of the page where the person enters the code."""
    path = reverse("rights:verify", args=[request.public_id])
    return f"{settings.PERSONVERN_BASE_URL}{path}"


def request_send_verification(*, request: Request, actor: str, now: datetime | None = None) -> str:
    """E-mail a one-time code to an address the person holds; returns the code.

    A new code replaces any earlier one. The deadline does not move.
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        if request.verified_at is not None:
            raise ValidationError({"verified_at": ALREADY_VERIFIED})
        if request.person is None:
            raise ValidationError({"person": NO_PERSON_TO_VERIFY})
        address = _person_address(request.person)
        if address is None:
            raise ValidationError({"person": NO_ADDRESS})
        code = f"{secrets.randbelow(10**6):06d}"
        Request.objects.filter(pk=request.pk).update(
            verification_code_digest=_code_digest(request, code),
            verification_sent_at=now,
            verification_attempts=0,
        )
        audit_log(
            actor=actor,
            action="rights.request.verification_sent",
            person=request.person,
            activity="privacy-requests",
            data={"request": str(request.public_id)},
            now=now,
        )
        body = render_to_string(
            "rights/email/verification.txt",
            {
                "code": code, "request": request, "ttl_days": VERIFICATION_CODE_TTL.days,
                "verify_url": verify_url(request),
            },
        )
        # Queued in the transaction: the code is recorded as sent exactly when the
        # mail is queued; the worker sends it (ADR 0014).
        queue_mail(
            to=address, subject=str(SUBJECT_VERIFICATION), body=body,
            kind="rights-verification-code", person=request.person, now=now,
        )
    return code


def request_verify(
    *,
    request: Request,
    code: str | None = None,
    staff_note: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> Request:
    """Confirm the person's identity by the e-mailed code, or by staff with a note."""
    now = now or timezone.now()
    if (code is None) == (staff_note is None):
        raise ValidationError(CODE_OR_NOTE)
    try:
        return _verify(request=request, code=code, staff_note=staff_note, actor=actor, now=now)
    except WrongCode:
        # Counted outside the rolled-back transaction so guessing stays bounded.
        Request.objects.filter(pk=request.pk).update(
            verification_attempts=F("verification_attempts") + 1
        )
        raise


def _verify(
    *, request: Request, code: str | None, staff_note: str | None, actor: str, now: datetime
) -> Request:
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        if request.verified_at is not None:
            raise ValidationError({"verified_at": ALREADY_VERIFIED})
        if staff_note is not None:
            if not staff_note.strip():
                raise ValidationError({"staff_note": STAFF_NOTE_NEEDED})
            method = VerificationMethod.STAFF
            note = staff_note.strip()
        else:
            assert code is not None
            _check_code(request, code, now)
            method = VerificationMethod.CODE
            note = ""
        status = (
            RequestStatus.IN_PROGRESS if request.status == RequestStatus.PENDING else request.status
        )
        Request.objects.filter(pk=request.pk).update(
            verified_at=now,
            verification_method=method,
            verification_note=note,
            verification_code_digest="",
            status=status,
        )
        audit_log(
            actor=actor,
            action="rights.request.verified",
            person=request.person,
            activity="privacy-requests",
            data={"request": str(request.public_id), "method": str(method)},
            now=now,
        )
    request.refresh_from_db()
    return request


def request_verify_signed_in(
    *, request: Request, person: Person, actor: str, now: datetime | None = None
) -> Request:
    """Record that the request is verified by ``person``'s sign-in to Min side (ADR 0018).

    Only for a request of the signed-in person, made while signed in: the
    sign-in link went to an address the system holds for them.
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        if request.verified_at is not None:
            raise ValidationError({"verified_at": ALREADY_VERIFIED})
        if request.person_id != person.pk:
            raise ValidationError({"person": NOT_THIS_PERSON})
        status = (
            RequestStatus.IN_PROGRESS if request.status == RequestStatus.PENDING else request.status
        )
        Request.objects.filter(pk=request.pk).update(
            verified_at=now,
            verification_method=VerificationMethod.SIGNED_IN,
            verification_note="",
            verification_code_digest="",
            status=status,
        )
        audit_log(
            actor=actor,
            action="rights.request.verified",
            person=person,
            activity="privacy-requests",
            data={"request": str(request.public_id), "method": str(VerificationMethod.SIGNED_IN)},
            now=now,
        )
    request.refresh_from_db()
    return request


def _check_code(request: Request, code: str, now: datetime) -> None:
    if not request.verification_code_digest or request.verification_sent_at is None:
        raise ValidationError({"code": NO_CODE_SENT})
    if now - request.verification_sent_at > VERIFICATION_CODE_TTL:
        raise ValidationError({"code": CODE_EXPIRED})
    if request.verification_attempts >= VERIFICATION_MAX_ATTEMPTS:
        raise ValidationError({"code": TOO_MANY_CODES})
    if not hmac.compare_digest(_code_digest(request, code), request.verification_code_digest):
        raise WrongCode({"code": WRONG_CODE})


class WrongCode(ValidationError):
    """A wrong verification code (the failed attempt is still counted)."""
