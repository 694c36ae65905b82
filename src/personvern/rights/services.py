"""Writes on data-subject requests. Each one is audited in its own transaction.

Lifecycle: ``request_create`` (deadline fixed from the date of receipt) →
``request_classify`` (only for a request registered as ``unclassified``) →
``request_send_verification``/``request_verify`` → ``request_assign`` /
``request_extend`` → ``request_fulfil`` (calls the rights engine) or
``request_cancel``.

The clock does not pause while identity verification is pending: the deadline
is always counted from receipt (see docs/decisions/0006-request-verification-clock.md).
Audit entries name the person by pseudonym only; ``data`` carries ids of the
request, never personal data.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log, pseudonym
from personvern.core.models import Person
from personvern.core.services import normalise_email, person_get_or_create
from personvern.rights.common import NOT_OPEN, _lock, _person_address, _require_open
from personvern.rights.deadlines import (
    MAX_EXTRA_MONTHS,
    extended_deadline,
    received_date,
    response_deadline,
)
from personvern.rights.models import (
    CLASSIFIED_TYPES,
    OPEN_STATUSES,
    Channel,
    Request,
    RequestStatus,
    RequestType,
)
from personvern.rights.verification import (
    ALREADY_VERIFIED,
    CODE_EXPIRED,
    CODE_OR_NOTE,
    NO_ADDRESS,
    NO_CODE_SENT,
    NO_PERSON_TO_VERIFY,
    STAFF_NOTE_NEEDED,
    SUBJECT_VERIFICATION,
    TOO_MANY_CODES,
    VERIFICATION_CODE_TTL,
    VERIFICATION_MAX_ATTEMPTS,
    WRONG_CODE,
    WrongCode,
    request_send_verification,
    request_verify,
)
from personvern.worker.outbox import queue_mail

# Identity verification lives in personvern.rights.verification; its names stay importable here.
__all__ = [
    "ALREADY_VERIFIED", "CODE_EXPIRED", "CODE_OR_NOTE", "NO_ADDRESS", "NO_CODE_SENT",
    "NO_PERSON_TO_VERIFY", "STAFF_NOTE_NEEDED", "SUBJECT_VERIFICATION", "TOO_MANY_CODES",
    "VERIFICATION_CODE_TTL", "VERIFICATION_MAX_ATTEMPTS", "WRONG_CODE", "WrongCode",
    "request_send_verification", "request_verify", "NOT_OPEN", "_lock", "_person_address",
    "_require_open",
]

SUBJECT_EXTENSION = _("Your privacy request: we need more time")
CANCEL_NOTE = _("Cancelled: %(reason)s")
CLOSED_BY_ERASURE_NOTE = _(
    "Closed without being carried out: erasure request %(request)s erased the person's "
    "data, so this request no longer has a person it could be carried out for."
)

NOT_CLASSIFIED = _("Request %(id)s is not yet classified; classify it as one of %(types)s first.")
NOT_A_TYPE = _("'%(type)s' is not a request type (%(types)s).")
NOT_A_CHANNEL = _("'%(channel)s' is not a channel (%(channels)s).")
RECEIVED_NAIVE = _("The time of receipt needs a time zone.")
RECEIVED_IN_FUTURE = _("A request cannot be received in the future.")
PERSON_OR_EMAIL_NEEDED = _("Name the person or give their e-mail address.")
MESSAGE_ALREADY_REGISTERED = _("A request from this e-mail message already exists.")
NOT_A_CLASSIFY_TYPE = _("'%(type)s' is not a request type to classify as (%(types)s).")
ALREADY_CLASSIFIED = _(
    "Request %(id)s is already classified as %(type)s; only unclassified requests can be "
    "classified."
)
EXTENSION_REASON_NEEDED = _("An extension needs a reason the person is told.")
EXTENSION_TOO_LATE = _(
    "The first month ended on %(date)s; an extension had to be decided before then."
)
EXTENSION_MONTHS = _(
    "An extension adds 1 or 2 months and at most %(max)s in all; already extended by "
    "%(done)s."
)
VERIFY_FIRST = _("Verify the person's identity before fulfilling the request.")
NO_PERSON = _("The request has no person.")
CHANGES_NEEDED = _("Name the fields to correct and their values.")


def message_id_digest(message_id: str) -> str:
    """The stored form of an e-mail Message-ID (``source_message_id``)."""
    normalised = message_id.strip().strip("<>").strip().lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def _require_classified(request: Request) -> None:
    if request.type == RequestType.UNCLASSIFIED:
        raise ValidationError(
            {
                "type": ValidationError(
                    NOT_CLASSIFIED,
                    params={"id": request.public_id, "types": ", ".join(CLASSIFIED_TYPES)},
                )
            }
        )


def request_create(
    *,
    type: RequestType | str,  # noqa: A002 - the OpenGDPR field name
    email: str | None = None,
    person: Person | None = None,
    channel: Channel | str,
    received_at: datetime,
    actor: str,
    notes: str = "",
    source_message_id: str | None = None,
    unlinked: bool = False,
    given_name: str = "",
    family_name: str = "",
    now: datetime | None = None,
) -> Request:
    """Register a request. The deadline runs from ``received_at`` (Europe/Oslo date).

    Staff may register a request received earlier (post, phone, a colleague's
    inbox): ``received_at`` may lie in the past but not in the future. The person
    is ``person`` or the holder of ``email`` (created if unknown). A repeated
    ``source_message_id`` raises ValidationError on ``source_message_id``.
    ``type`` may be ``unclassified`` when the right asked for is not yet known:
    the deadline runs all the same, and :func:`request_classify` sets the type.
    ``unlinked``: register it without a person (e-mail intake, when whose
    request it is cannot be told from the message; ``notes`` say why): the
    deadline runs, and it can be neither verified nor fulfilled.
    ``given_name``/``family_name`` name a person created for ``email`` (an
    existing person's names are kept).
    """
    now = now or timezone.now()
    if type not in RequestType.values:
        raise ValidationError(
            {
                "type": ValidationError(
                    NOT_A_TYPE, params={"type": type, "types": ", ".join(RequestType.values)}
                )
            }
        )
    if channel not in Channel.values:
        raise ValidationError(
            {
                "channel": ValidationError(
                    NOT_A_CHANNEL,
                    params={"channel": channel, "channels": ", ".join(Channel.values)},
                )
            }
        )
    if timezone.is_naive(received_at):
        raise ValidationError({"received_at": RECEIVED_NAIVE})
    if received_at > now + timedelta(minutes=5):
        raise ValidationError({"received_at": RECEIVED_IN_FUTURE})
    if person is None and not email and not unlinked:
        raise ValidationError({"email": PERSON_OR_EMAIL_NEEDED})
    address = None
    if person is None and email:
        try:
            address = normalise_email(email)
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from exc
    digest = message_id_digest(source_message_id) if source_message_id else None
    deadline = response_deadline(received_date(received_at))
    with transaction.atomic():
        if digest and Request.objects.filter(source_message_id=digest).exists():
            raise ValidationError({"source_message_id": MESSAGE_ALREADY_REGISTERED})
        if person is None and address is not None:
            person, _created = person_get_or_create(
                email=address, given_name=given_name.strip(), family_name=family_name.strip(),
                actor=actor, now=now,
            )
        request = Request.objects.create(
            type=type,
            status=RequestStatus.PENDING,
            person=person,
            subject=pseudonym(person) if person is not None else "",
            channel=channel,
            received_at=received_at,
            created_at=now,
            created_by=actor,
            notes=notes,
            due_strict=deadline.strict,
            due_legal=deadline.legal,
            source_message_id=digest,
        )
        audit_log(
            actor=actor,
            action="rights.request.created",
            person=person,
            activity="privacy-requests",
            data={
                "request": str(request.public_id),
                "type": str(type),
                "channel": str(channel),
                "received": received_date(received_at).isoformat(),
                "due_legal": deadline.legal.isoformat(),
            },
            now=now,
        )
    return request


def request_classify(
    *,
    request: Request,
    type: RequestType | str,  # noqa: A002 - the field's name, as in request_create
    actor: str,
    now: datetime | None = None,
) -> Request:
    """Set the type of an open request that was registered as ``unclassified``.

    Staff have read the message and name the right it asks for. Only an open,
    unclassified request can be classified (a classified one keeps its type:
    its process may have started), and not to ``unclassified``. The deadline
    does not move: it still runs from receipt.
    """
    now = now or timezone.now()
    if type not in CLASSIFIED_TYPES:
        raise ValidationError(
            {
                "type": ValidationError(
                    NOT_A_CLASSIFY_TYPE,
                    params={"type": type, "types": ", ".join(CLASSIFIED_TYPES)},
                )
            }
        )
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        if request.type != RequestType.UNCLASSIFIED:
            raise ValidationError(
                {
                    "type": ValidationError(
                        ALREADY_CLASSIFIED,
                        params={"id": request.public_id, "type": RequestType(request.type).label},
                    )
                }
            )
        Request.objects.filter(pk=request.pk).update(type=type)
        audit_log(
            actor=actor,
            action="rights.request.classified",
            person=request.person,
            activity="privacy-requests",
            data={"request": str(request.public_id), "type": str(type)},
            now=now,
        )
    request.refresh_from_db()
    return request


def request_assign(
    *, request: Request, assignee: AbstractBaseUser | None, actor: str, now: datetime | None = None
) -> Request:
    """Route the request to a staff member (or back to nobody)."""
    now = now or timezone.now()
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        Request.objects.filter(pk=request.pk).update(assignee=assignee)
        audit_log(
            actor=actor,
            action="rights.request.assigned",
            person=request.person,
            activity="privacy-requests",
            data={
                "request": str(request.public_id),
                "assignee": assignee.get_username() if assignee is not None else None,
            },
            now=now,
        )
    request.refresh_from_db()
    return request


def request_extend(
    *,
    request: Request,
    months: int,
    reason: str,
    actor: str,
    now: datetime | None = None,
    lang: str = "nb",
) -> Request:
    """Extend the deadline by ``months`` (Art. 12(3)), telling the person by e-mail.

    Allowed only while the first month runs (up to its legal deadline), and to at
    most two further months in all. The person is told the new date and the
    reason; ``extension_notified_at`` records when. If the person has no e-mail
    address, the extension is recorded and staff must write by post
    (``extension_notified_at`` stays empty so the back office shows it).
    """
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": EXTENSION_REASON_NEEDED})
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        received = received_date(request.received_at)
        first_month = response_deadline(received)
        today = received_date(now)
        if today > first_month.legal:
            raise ValidationError(
                {
                    "months": ValidationError(
                        EXTENSION_TOO_LATE, params={"date": first_month.legal.isoformat()}
                    )
                }
            )
        total = request.extended_by_months + months
        if months < 1 or total > MAX_EXTRA_MONTHS:
            raise ValidationError(
                {
                    "months": ValidationError(
                        EXTENSION_MONTHS,
                        params={"max": MAX_EXTRA_MONTHS, "done": request.extended_by_months},
                    )
                }
            )
        deadline = extended_deadline(received, total)
        address = _person_address(request.person) if request.person else None
        Request.objects.filter(pk=request.pk).update(
            extended_by_months=total,
            extension_reason=reason.strip(),
            due_strict=deadline.strict,
            due_legal=deadline.legal,
            extension_notified_at=now if address else None,
        )
        audit_log(
            actor=actor,
            action="rights.request.extended",
            person=request.person,
            activity="privacy-requests",
            data={
                "request": str(request.public_id),
                "months": total,
                "due_legal": deadline.legal.isoformat(),
                "notified": bool(address),
            },
            now=now,
        )
        if address:
            with translation.override(lang):
                body = render_to_string(
                    "rights/email/extension.txt",
                    {"request": request, "due": deadline.legal, "reason": reason.strip()},
                )
                subject = str(SUBJECT_EXTENSION)
            queue_mail(
                to=address, subject=subject, body=body, kind="rights-extension-notice",
                person=request.person, now=now,
            )
    request.refresh_from_db()
    return request


def request_cancel(
    *, request: Request, actor: str, reason: str = "", now: datetime | None = None
) -> Request:
    """Close a request without fulfilling it (withdrawn, duplicate, identity not shown).

    The reason is free text that may name the person, so it goes into ``notes``
    (cleared when the person is erased), never into ``result``, which outlives
    the erasure (R35).
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        notes = request.notes
        if reason.strip():
            with translation.override(settings.LANGUAGE_CODE):
                line = str(CANCEL_NOTE) % {"reason": reason.strip()}
            notes = f"{notes.rstrip()}\n\n{line}" if notes.strip() else line
        Request.objects.filter(pk=request.pk).update(
            status=RequestStatus.CANCELLED,
            cancelled_at=now,
            notes=notes,
            result={"cancelled": True},
        )
        audit_log(
            actor=actor,
            action="rights.request.cancelled",
            person=request.person,
            activity="privacy-requests",
            data={"request": str(request.public_id)},
            now=now,
        )
    request.refresh_from_db()
    return request


def request_fulfil(
    *,
    request: Request,
    actor: str,
    now: datetime | None = None,
    changes: dict[str, dict[str, Any]] | None = None,
    ground: str | None = None,
    activity: str | None = None,
    lang: str = "nb",
) -> Request:
    """Carry out a verified request with the rights engine and complete it.

    ``changes`` (rectification): ``{"core.Person": {"family_name": "…"},
    "app.Model:<pk>": {"field": value}}``; ``ground`` (restriction): an
    Art. 18(1) letter; ``activity`` (objection): a policy activity id or
    ``direct-marketing``. Access writes the bundle to ``DATA_DIR/exports``
    (portability its JSON file), downloadable on Min side; the person is told
    by mail that it is ready (:mod:`personvern.rights.selfservice`).
    The result records what was done and, for erasure, what was kept and why.
    """
    from personvern.rights import engine

    now = now or timezone.now()
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        # Checked first: an unclassified request has no process to carry out yet.
        _require_classified(request)
        if request.verified_at is None:
            raise ValidationError({"verified_at": VERIFY_FIRST})
        person = request.person
        if person is None:
            raise ValidationError({"person": NO_PERSON})
        result: dict[str, Any]
        if request.type == RequestType.ACCESS:
            path = engine.access_bundle_write(person, request=request, lang=lang, now=now)
            result = {"bundle": path.name, "lang": lang}
        elif request.type == RequestType.PORTABILITY:
            path = engine.portability_write(person, request=request, now=now)
            result = {"export": path.name}
        elif request.type == RequestType.RECTIFICATION:
            if not changes:
                raise ValidationError({"changes": CHANGES_NEEDED})
            result = {"rectified": engine.rectify(person, changes, actor=actor, now=now)}
        elif request.type == RequestType.RESTRICTION:
            result = engine.restrict(person, ground=ground or "", actor=actor, now=now)
        elif request.type == RequestType.OBJECTION:
            result = engine.object_to(person, activity=activity or "", actor=actor, now=now)
        elif request.type == RequestType.ERASURE:
            result = _erase(request, person, actor=actor, now=now, lang=lang)
        else:  # pragma: no cover - the choices are exhaustive
            raise ValidationError({"type": f"Unknown request type {request.type!r}."})
        # The person row may be gone now (erasure): refer to the case by subject only.
        Request.objects.filter(pk=request.pk).update(
            status=RequestStatus.COMPLETED, completed_at=now, result=result
        )
        if request.type in (RequestType.ACCESS, RequestType.PORTABILITY):
            # The file is downloaded on Min side, never mailed: the mail says it is ready.
            from personvern.rights.selfservice import bundle_ready_notify

            request.completed_at = now
            bundle_ready_notify(request=request, now=now, lang=lang)
        audit_log(
            actor=actor,
            action="rights.request.completed",
            subject=request.subject,
            activity="privacy-requests",
            data={"request": str(request.public_id), "type": request.type},
            now=now,
        )
    request.refresh_from_db()
    return request


def _erase(
    request: Request, person: Person, *, actor: str, now: datetime, lang: str
) -> dict[str, Any]:
    """Carry out an erasure request (inside ``request_fulfil``'s transaction).

    The person's other open requests are de-identified by the erasure and could
    never be carried out: they are closed as cancelled, with a note and a result
    that name only the erasure request (docs/erasure.md). If the storage purge
    after commit stays pending, the result says so.
    """
    from personvern.rights import engine

    others = list(
        Request.objects.select_for_update()
        .filter(person=person, status__in=OPEN_STATUSES)
        .exclude(pk=request.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    report = engine.erase(person, actor=actor, now=now, lang=lang)
    result = report.as_result()
    # Only requests the erasure de-identified: a hold on the person keeps them open.
    closed = list(
        Request.objects.filter(pk__in=others, person__isnull=True).values_list(
            "pk", "public_id", "subject"
        )
    )
    if closed:
        with translation.override(settings.LANGUAGE_CODE):
            note = str(CLOSED_BY_ERASURE_NOTE) % {"request": request.public_id}
        Request.objects.filter(pk__in=[pk for pk, _id, _s in closed]).update(
            status=RequestStatus.CANCELLED,
            cancelled_at=now,
            notes=note,
            result={"cancelled": True, "closed_by_erasure": str(request.public_id)},
        )
        for _pk, public_id, subject in closed:
            audit_log(
                actor=actor,
                action="rights.request.cancelled",
                subject=subject,
                activity="privacy-requests",
                data={"request": str(public_id), "closed_by_erasure": str(request.public_id)},
                now=now,
            )
    result["requests_closed"] = [str(public_id) for _pk, public_id, _s in closed]

    def storage_purged() -> None:
        # Runs after engine.erase's own purge (callbacks run in order of registration).
        if report.storage_purge == engine.PURGE_PENDING:
            request_note_storage_pending(request=request, result=result, actor=actor)

    transaction.on_commit(storage_purged)
    return result


def request_note_storage_pending(
    *, request: Request, result: dict[str, Any], actor: str, now: datetime | None = None
) -> None:
    """Record on a completed erasure that freed storage is not yet purged (SQLite WAL busy).

    The next checkpoint (the next erasure, or SQLite's automatic one) completes it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Request.objects.filter(pk=request.pk).update(result={**result, "storage_purge": "pending"})
        audit_log(
            actor=actor,
            action="rights.request.storage_purge_pending",
            subject=request.subject,
            activity="privacy-requests",
            data={"request": str(request.public_id)},
            now=now,
        )

