"""Writes of recruitment. Each is audited; HR is the only role with access (roles.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.policy import current_policy
from personvern.core.scanning import ScanResult, ScanStatus, audit_scan, scan_or_refuse
from personvern.core.services import person_get_or_create
from personvern.policy.models import normalise_lang
from personvern.recruitment.models import (
    Application,
    ApplicationDocument,
    ApplicationNote,
    ApplicationSource,
    ApplicationStatus,
    DocumentKind,
    NoteKind,
    Position,
)
from personvern.worker.outbox import queue_mail

ACTIVITY = "recruitment"
#: The policy's retention rule of open applications (R27): the site shows its period.
OPEN_APPLICATION_RULE = "open-application"
SUBJECT_RECEIPT = _("We have received your application")
DOCUMENT_NOT_CLEAN = _(
    "This document has not been found clean by the virus scanner and cannot be opened."
)
#: Where a document came from, in the audit entries of its virus scan.
SCAN_CHANNEL = "recruitment"

#: Document types accepted from applicants; anything else is refused on arrival.
ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
        "text/plain",
        "image/png",
        "image/jpeg",
    }
)


@dataclass(frozen=True)
class DocumentUpload:
    """A document as it arrives: kind, original file name, content type and bytes.

    ``field`` is the form field a refusal of the document names (an infected CV
    is refused next to the CV field).
    """

    kind: str
    filename: str
    content_type: str
    content: bytes
    field: str = "documents"


def position_create(*, title: str, actor: str, posted_at: datetime | None = None) -> Position:
    """Post a position."""
    if not title.strip():
        raise ValidationError({"title": "A position needs a title."})
    posted_at = posted_at or timezone.now()
    with transaction.atomic():
        position = Position.objects.create(title=title.strip(), posted_at=posted_at)
        audit_log(
            actor=actor,
            action="recruitment.position_posted",
            activity=ACTIVITY,
            data={"position": position.pk},
            now=posted_at,
        )
    return position


def position_close_recruitment(
    *, position: Position, actor: str, now: datetime | None = None
) -> Position:
    """Close the recruitment process: the retention period of its applications starts (R27)."""
    now = now or timezone.now()
    if position.recruitment_closed_at is not None:
        raise ValidationError({"position": "The recruitment for this position is already closed."})
    if now < position.posted_at:
        raise ValidationError({"now": "A recruitment cannot close before the position is posted."})
    with transaction.atomic():
        Position.objects.filter(pk=position.pk).update(recruitment_closed_at=now)
        position.recruitment_closed_at = now
        audit_log(
            actor=actor,
            action="recruitment.position_closed",
            activity=ACTIVITY,
            data={"position": position.pk},
            now=now,
        )
    return position


def _validate_document(document: DocumentUpload, where: str) -> None:
    if document.kind not in DocumentKind.values:
        raise ValidationError({"kind": f"{where}: {document.kind!r} is not a document kind."})
    if document.content_type not in ACCEPTED_CONTENT_TYPES:
        raise ValidationError(
            {
                "content_type": f"{where}: {document.content_type!r} is not an accepted "
                "document type (PDF, Word, OpenDocument, text, PNG or JPEG)."
            }
        )
    if not document.content:
        raise ValidationError({"content": f"{where}: the document is empty."})
    if len(document.content) > ApplicationDocument.MAX_BYTES:
        raise ValidationError(
            {
                "content": f"{where}: the document is larger than "
                f"{ApplicationDocument.MAX_BYTES // (1024 * 1024)} MB."
            }
        )


def _scan_document(document: DocumentUpload, *, actor: str, now: datetime) -> ScanResult:
    """Scan a document for malware (R21); an infected or unscannable one is refused."""
    return scan_or_refuse(
        document.content, name=document.filename, field=document.field, actor=actor,
        activity=ACTIVITY, channel=SCAN_CHANNEL, now=now,
    )


def application_receive(
    *,
    email: str,
    source: ApplicationSource | str,
    actor: str,
    position: Position | None = None,
    given_name: str = "",
    family_name: str = "",
    phone: str = "",
    letter: str = "",
    documents: Iterable[DocumentUpload] = (),
    external_ref: str = "",
    received_at: datetime | None = None,
    then: Callable[[Application], object] | None = None,
) -> Application:
    """Register an application (with its documents), for a position or open (R24, R26).

    The person is found by e-mail or created. Everything is validated, and every
    document scanned for malware (R21), before anything is written, so a bad or
    infected document leaves nothing behind (the refused verdict is audited).
    ``then`` runs in the transaction that stores the application (its receipt
    is queued there).
    """
    received_at = received_at or timezone.now()
    if source not in ApplicationSource.values:
        raise ValidationError({"source": f"{source!r} is not an application source."})
    if (
        position is not None
        and position.recruitment_closed_at is not None
        and (received_at > position.recruitment_closed_at)
    ):
        raise ValidationError({"position": "The recruitment for this position is closed."})
    documents = list(documents)
    for number, document in enumerate(documents, start=1):
        _validate_document(document, f"document {number} ({document.filename})")
    scans = [_scan_document(d, actor=actor, now=received_at) for d in documents]
    with transaction.atomic():
        person, _created = person_get_or_create(
            email=email,
            given_name=given_name,
            family_name=family_name,
            phone=phone,
            actor=actor,
            now=received_at,
        )
        application = Application.objects.create(
            person=person,
            position=position,
            source=source,
            external_ref=external_ref,
            letter=letter,
            received_at=received_at,
        )
        rows = ApplicationDocument.objects.bulk_create(
            ApplicationDocument(
                application=application,
                kind=d.kind,
                filename=d.filename[:200],
                content_type=d.content_type,
                content=d.content,
                size=len(d.content),
                received_at=received_at,
                scan_status=result.status,
                scanned_at=received_at if result.status == ScanStatus.CLEAN else None,
            )
            for d, result in zip(documents, scans, strict=True)
        )
        for row, result in zip(rows, scans, strict=True):
            audit_scan(
                result, actor=actor, activity=ACTIVITY, channel=SCAN_CHANNEL, size=row.size,
                person=person, data={"application": application.pk, "document": row.pk},
                now=received_at,
            )
        audit_log(
            actor=actor,
            action="recruitment.application_received",
            person=person,
            activity=ACTIVITY,
            data={
                "application": application.pk,
                "position": position.pk if position else None,
                "source": str(source),
                "documents": len(documents),
            },
            now=received_at,
        )
        if then is not None:
            then(application)
    return application


def application_note_add(
    *,
    application: Application,
    kind: NoteKind | str,
    text: str,
    actor: str,
    now: datetime | None = None,
) -> ApplicationNote:
    """Add an interview or reference-check note (R24)."""
    now = now or timezone.now()
    if kind not in NoteKind.values:
        raise ValidationError({"kind": f"{kind!r} is not a note kind."})
    if not text.strip():
        raise ValidationError({"text": "A note needs text."})
    with transaction.atomic():
        note = ApplicationNote.objects.create(
            application=application,
            kind=kind,
            text=text.strip(),
            written_by=actor,
            written_at=now,
        )
        audit_log(
            actor=actor,
            action="recruitment.note_added",
            person=application.person,
            activity=ACTIVITY,
            data={"application": application.pk, "kind": str(kind)},
            now=now,
        )
    return note


_ALLOWED_STATUS = {
    ApplicationStatus.RECEIVED: {
        ApplicationStatus.INTERVIEW,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.HIRED,
    },
    ApplicationStatus.INTERVIEW: {
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.HIRED,
    },
}


def application_set_status(
    *,
    application: Application,
    status: ApplicationStatus | str,
    actor: str,
    now: datetime | None = None,
) -> Application:
    """Move an application on (interview, rejected, withdrawn, hired).

    Hiring records ``hired_at``: the application then belongs to the ``hired``
    cohort and is kept until the employment ends (R27).
    """
    now = now or timezone.now()
    allowed = _ALLOWED_STATUS.get(ApplicationStatus(application.status), set())
    if status not in allowed:
        raise ValidationError(
            {"status": f"An application that is {application.status!r} cannot become {status!r}."}
        )
    hired_at = now if status == ApplicationStatus.HIRED else None
    with transaction.atomic():
        Application.objects.filter(pk=application.pk).update(status=status, hired_at=hired_at)
        application.status = str(status)
        application.hired_at = hired_at
        audit_log(
            actor=actor,
            action="recruitment.application_status",
            person=application.person,
            activity=ACTIVITY,
            data={"application": application.pk, "status": str(status)},
            now=now,
        )
    return application


def application_hire(
    *, application: Application, actor: str, now: datetime | None = None
) -> Application:
    """Hire the applicant (R27): the application leaves its recruitment rule.

    Hiring records ``hired_at``, which puts the application (with its documents
    and notes) in the ``hired`` cohort: no retention clock runs for it until
    :func:`application_end_employment` records the end of the employment.
    """
    return application_set_status(
        application=application, status=ApplicationStatus.HIRED, actor=actor, now=now
    )


def application_end_employment(
    *,
    application: Application,
    ended_at: datetime,
    actor: str,
    now: datetime | None = None,
) -> Application:
    """Record the end of a hired applicant's employment: their retention period starts (R27).

    The ``hired`` rule counts from ``employment_ended_at`` (its anchor
    ``employment-end``); until this is recorded nothing about a hired applicant
    can fall due. An end already recorded is not moved: that would shift a
    retention clock that is already running.
    """
    now = now or timezone.now()
    if timezone.is_naive(ended_at):
        raise ValidationError({"ended_at": "The end of the employment needs a time zone."})
    current = Application.objects.filter(pk=application.pk).values(
        "hired_at", "employment_ended_at"
    ).first()
    if current is None or current["hired_at"] is None:
        raise ValidationError({"application": "Only a hired applicant has an employment to end."})
    if current["employment_ended_at"] is not None:
        raise ValidationError({"ended_at": "The end of this employment is already recorded."})
    if ended_at < current["hired_at"]:
        raise ValidationError({"ended_at": "The employment cannot end before the hiring."})
    with transaction.atomic():
        updated = Application.objects.filter(
            pk=application.pk, hired_at__isnull=False, employment_ended_at__isnull=True
        ).update(employment_ended_at=ended_at)
        if not updated:
            raise ValidationError({"ended_at": "The end of this employment is already recorded."})
        application.employment_ended_at = ended_at
        audit_log(
            actor=actor,
            action="recruitment.employment_ended",
            person=application.person,
            activity=ACTIVITY,
            data={"application": application.pk, "ended_on": ended_at.date().isoformat()},
            now=now,
        )
    return application


def application_document_open(
    *, document: ApplicationDocument, actor: str, now: datetime | None = None
) -> bytes:
    """The bytes of an application document, for HR to read (R24); audited as an access.

    Only a document the virus scanner found clean is handed out (R21): one not
    yet scanned, or one whose content was removed as infected, is refused.
    """
    now = now or timezone.now()
    if document.scan_status != ScanStatus.CLEAN:
        raise ValidationError({"document": str(DOCUMENT_NOT_CLEAN)})
    application = document.application
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="recruitment.document_opened",
            person=application.person,
            activity=ACTIVITY,
            data={"application": application.pk, "document": document.pk,
                  "kind": document.kind},
            now=now,
        )
    return bytes(document.content)


def open_application_keep(lang: str | None = None) -> str:
    """How long an open application is kept, in words ("210 days"), from the policy (R27)."""
    rule = current_policy().activity(ACTIVITY).rule(OPEN_APPLICATION_RULE)
    return rule.keep.describe(normalise_lang(lang or translation.get_language()))


def open_application_submit(
    *,
    email: str,
    given_name: str,
    family_name: str,
    message: str,
    cv: DocumentUpload,
    letter: DocumentUpload,
    actor: str,
    phone: str = "",
    now: datetime | None = None,
) -> Application:
    """An open application from the public form (R24, R27), with its receipt mail.

    Both documents are scanned before anything is written (R21); an infected or
    unscannable one is refused on its own field and nothing is stored. The
    receipt, queued in the same transaction, says that the application and how
    many documents arrived and how long we keep it; it repeats none of it.
    """
    now = now or timezone.now()

    def receipt(application: Application) -> None:
        body = render_to_string(
            "recruitment/email/application_receipt.txt", {"keep": open_application_keep()}
        )
        queue_mail(
            to=email, subject=str(SUBJECT_RECEIPT), body=body, kind="application-receipt",
            person=application.person, now=now,
        )

    return application_receive(
        email=email, source=ApplicationSource.DIRECT, actor=actor, given_name=given_name,
        family_name=family_name, phone=phone, letter=message, documents=[cv, letter],
        received_at=now, then=receipt,
    )
