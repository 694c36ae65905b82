"""Writes of recruitment. Each is audited; HR is the only role with access (roles.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from personvern.core.audit import audit_log
from personvern.core.scanning import ScanResult, ScanStatus, audit_scan, scan_or_refuse
from personvern.core.services import person_get_or_create
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

ACTIVITY = "recruitment"
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
    """A document as it arrives: kind, original file name, content type and bytes."""

    kind: str
    filename: str
    content_type: str
    content: bytes


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
        document.content, name=document.filename, field="documents", actor=actor,
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
) -> Application:
    """Register an application (with its documents), for a position or open (R24, R26).

    The person is found by e-mail or created. Everything is validated, and every
    document scanned for malware (R21), before anything is written, so a bad or
    infected document leaves nothing behind (the refused verdict is audited).
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


def application_end_employment(
    *, application: Application, ended_at: datetime, actor: str
) -> Application:
    """Record the end of a hired applicant's employment: their retention period starts."""
    if application.hired_at is None:
        raise ValidationError({"application": "Only a hired applicant has an employment to end."})
    if ended_at < application.hired_at:
        raise ValidationError({"ended_at": "The employment cannot end before the hiring."})
    with transaction.atomic():
        Application.objects.filter(pk=application.pk).update(employment_ended_at=ended_at)
        application.employment_ended_at = ended_at
        audit_log(
            actor=actor,
            action="recruitment.employment_ended",
            person=application.person,
            activity=ACTIVITY,
            data={"application": application.pk},
        )
    return application


#: Columns of a Finn.no applicant export that the import reads (R25).
FINN_COLUMNS = ("finn_id", "email", "given_name", "family_name", "phone", "received_at", "letter")


@dataclass(frozen=True)
class ImportResult:
    created: int
    skipped: int


def applications_import_finn(
    *, text: str, position: Position | None, actor: str, source_name: str = "<input>"
) -> ImportResult:
    """Import applications exported from Finn.no as CSV (R25); all or nothing.

    Every row is checked before anything is written; a bad row raises a
    ValidationError naming the file, the row number and the column. Rows whose
    ``finn_id`` was imported before are skipped, so the import can be re-run.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("finn_id", "email", "received_at") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"{source_name}: missing column(s) {', '.join(missing)}.")
    rows: list[tuple[int, dict[str, str], datetime]] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        where = f"{source_name}, row {number}"
        finn_id = (row.get("finn_id") or "").strip()
        if not finn_id:
            raise ValidationError(f"{where}, column finn_id: empty.")
        if finn_id in seen:
            raise ValidationError(f"{where}, column finn_id: {finn_id!r} appears twice.")
        seen.add(finn_id)
        if not (row.get("email") or "").strip():
            raise ValidationError(f"{where}, column email: empty.")
        raw = (row.get("received_at") or "").strip()
        received = parse_datetime(raw) if raw else None
        if received is None:
            raise ValidationError(f"{where}, column received_at: {raw!r} is not a date and time.")
        if timezone.is_naive(received):
            received = timezone.make_aware(received)
        rows.append((number, row, received))

    existing = set(
        Application.objects.filter(
            source=ApplicationSource.FINN, external_ref__in=seen
        ).values_list("external_ref", flat=True)
    )
    created = 0
    with transaction.atomic():
        for number, row, received in rows:
            if row["finn_id"].strip() in existing:
                continue
            try:
                application_receive(
                    email=row["email"],
                    given_name=row.get("given_name") or "",
                    family_name=row.get("family_name") or "",
                    phone=row.get("phone") or "",
                    letter=row.get("letter") or "",
                    source=ApplicationSource.FINN,
                    external_ref=row["finn_id"].strip(),
                    position=position,
                    received_at=received,
                    actor=actor,
                )
            except ValidationError as exc:
                raise ValidationError(
                    f"{source_name}, row {number}: {'; '.join(exc.messages)}"
                ) from exc
            created += 1
    return ImportResult(created=created, skipped=len(rows) - created)
