"""Registering one message as a privacy request, and intake from files."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.policy import current_policy
from personvern.core.scanning import Verdict, audit_scan
from personvern.rights.intake.message import (
    NOTE_CONTROL_CHARACTERS,
    date_received,
    guess_type,
    parse_message,
    readable_text,
    scan_parts,
    sender_address,
    storable,
)
from personvern.rights.intake.report import IntakeItem, IntakeReport, Outcome
from personvern.rights.intake.sources import Source, sources_in
from personvern.rights.models import Channel, RequestType
from personvern.rights.selectors import request_by_source_message
from personvern.rights.services import request_create

#: Activity and channel of intake's audit entries of virus scans.
ACTIVITY = "privacy-requests"
SCAN_CHANNEL = "e-mail-intake"

NOTE_NO_DATE = _("The message has no Date header; the file's modification time was used.")
NOTE_NO_TYPE = _(
    "No right is named in the message; read it and classify the request in the back office "
    "or with: personvern rights classify ID TYPE."
)
NOTE_MANY_TYPES = _(
    "The message names several rights (%(types)s); read it and classify the request in the "
    "back office or with: personvern rights classify ID TYPE."
)
NOTE_STILL_UNCLASSIFIED = _(
    "The request is not yet classified; classify it in the back office or with: "
    "personvern rights classify ID TYPE."
)
CASE_NOTE = _(
    "Registered from the e-mail with the subject “%(subject)s”, Message-ID %(message_id)s "
    "(file %(file)s)."
)
NOTE_NO_MESSAGE_ID = _("The message has no Message-ID; its content identifies it instead.")
NOTE_INFECTED = _(
    "The attachment %(name)s contains malware (%(signature)s) and was not taken in. "
    "Do not open the original message's attachments."
)
NOTE_TOO_LARGE = _(
    "The attachment %(name)s is too large for the virus scanner and was not taken in. "
    "Do not open the original message's attachments; ask the sender for a smaller file "
    "or use the secure message form."
)
NOTE_NOT_SCANNED = _(
    "The virus scanner could not check the message; it is left untaken and will be "
    "taken by the next run once the scanner answers."
)
NOTE_SCAN_DISABLED = _("Virus scanning is disabled: the message was not scanned.")
ERROR_NOT_A_MESSAGE = _("The file is not an e-mail message (no headers).")
NOTE_FAILED = _(
    "Registering the message failed (%(error)s); nothing of it was written. The next run "
    "tries again; if it keeps failing, register the request by hand with the message's "
    "received date."
)

#: Longest header value quoted in a request's notes, and longest error in a report.
QUOTED_MAX = 300

logger = logging.getLogger(__name__)


def intake_path(
    path: Path,
    *,
    actor: str,
    now: datetime | None = None,
    dry_run: bool = False,
    request_type: str | None = None,
) -> IntakeReport:
    """Register the privacy requests found in ``path`` (.eml file, directory or maildir).

    ``request_type`` forces the type of every marked message not yet taken
    (staff have read them); without it, a message whose right cannot be guessed
    becomes an ``unclassified`` request. A message taken before is left alone,
    whatever ``request_type`` says: an existing request is classified with
    :func:`personvern.rights.services.request_classify`. With ``dry_run``
    nothing is written; the report says what would be.
    """
    now = now or timezone.now()
    check_type(request_type)
    report = IntakeReport(path=path, dry_run=dry_run)
    for source in sources_in(path):
        report.items.append(
            take_message(source, marker=privacy_marker(), actor=actor, now=now, dry_run=dry_run,
                         request_type=request_type)
        )
    return report


def privacy_marker() -> str:
    """The policy's privacy marker, lower-cased: a message's Subject must carry it."""
    return current_policy().controller.privacy_marker.lower()


def check_type(request_type: str | None) -> None:
    """Refuse a forced request type that is not one."""
    if request_type is not None and request_type not in RequestType.values:
        raise ValidationError(
            {"type": f"{request_type!r} is not a request type ({', '.join(RequestType.values)})."}
        )



def take_message(
    source: Source,
    *,
    marker: str,
    actor: str,
    now: datetime,
    dry_run: bool,
    request_type: str | None,
) -> IntakeItem:
    """Register one message as a privacy request (or report why not): one unit of work.

    Whatever goes wrong with one message (the database refuses a value, say) is
    reported against its file or IMAP UID with nothing of it written, and never
    stops the others; the next run tries it again.
    """
    try:
        return _take(source, marker=marker, actor=actor, now=now, dry_run=dry_run,
                     request_type=request_type)
    except Exception as exc:  # one message must not stop the run (defect: 3.1 of issue 7)
        logger.exception("E-mail intake: registering the message %s failed", source.name)
        error = _quoted(storable(f"{type(exc).__name__}: {exc}"))
        return IntakeItem(source.name, Outcome.FAILED,
                          notes=(str(NOTE_FAILED % {"error": error}),))


def _quoted(text: str) -> str:
    return text if len(text) <= QUOTED_MAX else text[: QUOTED_MAX - 1] + "…"


def _take(
    source: Source,
    *,
    marker: str,
    actor: str,
    now: datetime,
    dry_run: bool,
    request_type: str | None,
) -> IntakeItem:
    if source.read is None:
        return IntakeItem(source.name, Outcome.MALFORMED, notes=(source.error,))
    message = parse_message(source.read)
    if not message.keys():
        return IntakeItem(source.name, Outcome.MALFORMED, notes=(str(ERROR_NOT_A_MESSAGE),))
    try:
        subject = str(message.get("Subject", "") or "")
    except (ValueError, TypeError):
        subject = ""
    if marker not in subject.lower():
        return IntakeItem(source.name, Outcome.NOT_MARKED)

    sender = sender_address(message)
    if sender.problem:
        return IntakeItem(source.name, Outcome.MALFORMED, notes=(sender.problem,))
    notes: list[str] = []
    # What staff must know when they open the request, not only in this report.
    case_notes: list[str] = []
    if storable(subject) != subject:
        subject = storable(subject)
        case_notes.append(str(NOTE_CONTROL_CHARACTERS))
    if sender.unlinked_note:
        case_notes.append(sender.unlinked_note)
    received_at, date_note = date_received(message, arrived_at=source.arrival(), now=now)
    if date_note:
        case_notes.append(date_note)
    if received_at is None:
        received_at = source.arrival() or now
        if not date_note:
            notes.append(str(NOTE_NO_DATE))
    notes.extend(case_notes)

    message_id = storable(str(message.get("Message-ID", "") or "")).strip()
    if not message_id:
        # Content identifies a message without an id as well as anything can.
        message_id = "sha256:" + hashlib.sha256(source.read).hexdigest()
        notes.append(str(NOTE_NO_MESSAGE_ID))
    taken = request_by_source_message(message_id)
    if taken is not None:
        if taken.is_open and taken.type == RequestType.UNCLASSIFIED:
            notes.append(str(NOTE_STILL_UNCLASSIFIED))
        return IntakeItem(
            source.name,
            Outcome.ALREADY_TAKEN,
            request_type=taken.type,
            received_at=received_at,
            request_id=taken.public_id,
            notes=tuple(notes),
        )

    if request_type is None:
        types = guess_type(subject + "\n" + readable_text(message))
        if len(types) == 1:
            request_type = types[0]
        else:
            # Registered all the same, so that the deadline runs from receipt
            # and the request is in the back office's work list from the start.
            request_type = RequestType.UNCLASSIFIED
            note = (
                NOTE_NO_TYPE
                if not types
                else NOTE_MANY_TYPES % {"types": ", ".join(str(t) for t in types)}
            )
            notes.append(str(note))
    outcome = (
        Outcome.CREATED_UNCLASSIFIED
        if request_type == RequestType.UNCLASSIFIED
        else Outcome.CREATED
    )

    scans = scan_parts(message)
    # A part too large for the scanner will never be scanned: it is not taken in
    # (as an infected one), and the request is registered so its deadline runs.
    failed = [(index, result) for index, (_name, size, result) in enumerate(scans)
              if result.verdict == Verdict.ERROR and not result.too_large]
    if failed:
        if not dry_run:
            with transaction.atomic():
                for index, result in failed:
                    audit_scan(result, actor=actor, activity=ACTIVITY, channel=SCAN_CHANNEL,
                               size=scans[index][1], data={"part": index}, now=now)
        return IntakeItem(
            source.name,
            Outcome.NOT_SCANNED,
            received_at=received_at,
            notes=(*notes, str(NOTE_NOT_SCANNED)),
        )
    infected = tuple(name for name, _size, result in scans
                     if result.verdict == Verdict.INFECTED or result.too_large)
    for name, _size, result in scans:
        if result.verdict == Verdict.INFECTED or result.too_large:
            note = str(
                NOTE_INFECTED % {"name": name, "signature": result.signature}
                if result.verdict == Verdict.INFECTED else NOTE_TOO_LARGE % {"name": name}
            )
            notes.append(note)
            case_notes.append(note)
    if any(result.verdict == Verdict.DISABLED for _n, _s, result in scans):
        notes.append(str(NOTE_SCAN_DISABLED))

    unlinked = bool(sender.unlinked_note)
    if dry_run:
        return IntakeItem(
            source.name,
            outcome,
            request_type=request_type,
            received_at=received_at,
            notes=tuple(notes),
            infected=infected,
            unlinked=unlinked,
        )
    try:
        # One transaction per message: a failure leaves nothing of this message.
        with transaction.atomic():
            request = request_create(
                type=request_type,
                email=sender.address or None,
                unlinked=unlinked,
                channel=Channel.EMAIL,
                received_at=received_at,
                actor=actor,
                source_message_id=message_id,
                # Where staff find the message to read (and classify) it: the
                # stored id is only a digest.
                notes=storable(
                    "\n".join(
                        [
                            str(
                                CASE_NOTE
                                % {
                                    "subject": _quoted(subject.strip()),
                                    "message_id": _quoted(message_id),
                                    "file": source.name,
                                }
                            ),
                            *case_notes,
                        ]
                    )
                ),
                now=now,
            )
            for index, (_name, size, result) in enumerate(scans):
                audit_scan(
                    result, actor=actor, activity=ACTIVITY, channel=SCAN_CHANNEL, size=size,
                    person=request.person,
                    data={"request": str(request.public_id), "part": index}, now=now,
                )
    except ValidationError as exc:
        if "source_message_id" in getattr(exc, "error_dict", {}):
            # Taken by a concurrent run between our check and the insert.
            return IntakeItem(source.name, Outcome.ALREADY_TAKEN, received_at=received_at)
        return IntakeItem(
            source.name,
            Outcome.MALFORMED,
            received_at=received_at,
            notes=(*notes, *_messages(exc)),
        )
    return IntakeItem(
        source.name,
        outcome,
        request_type=request_type,
        received_at=received_at,
        request_id=request.public_id,
        notes=tuple(notes),
        infected=infected,
        unlinked=unlinked,
    )


def _messages(exc: ValidationError) -> tuple[str, ...]:
    if hasattr(exc, "error_dict"):
        return tuple(
            f"{name}: {message}" for name, messages in exc.message_dict.items()
            for message in messages
        )
    return tuple(exc.messages)
