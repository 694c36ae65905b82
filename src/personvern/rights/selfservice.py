"""The person's own side of privacy requests: made on Min side, answered there.

- :func:`request_make_signed_in`: a request the signed-in person makes on Min
  side; it counts as verified by the sign-in (ADR 0018) and goes to the data
  protection officer's list like any other.
- :func:`bundle_ready_notify`: when an access or portability request is
  fulfilled, the person is told by e-mail that the file is ready on Min side.
  The mail links to Min side and carries none of the data: the file is never
  attached to a mail.
- :func:`bundle_download`: the file of the person's own fulfilled request
  (audited), while it is kept: ``PORTAL_BUNDLE_DAYS`` (default 30) after the
  request was completed; then :func:`bundles_expire` (the worker's
  ``rights-bundles-expire`` job) deletes it and notes that on the request.
- :func:`bundle_publish`: the data protection officer makes the file of a
  fulfilled request available on Min side again (written afresh if it was
  deleted) for another period, and the person is told by the same mail.
- :func:`bundle_file_for_staff`: the file, for the data protection officer
  (audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.portal.auth import person_actor
from personvern.rights.common import _person_address
from personvern.rights.engine.files import export_path
from personvern.rights.models import Channel, Request, RequestStatus, RequestType
from personvern.rights.verification import request_verify_signed_in
from personvern.worker.outbox import queue_mail

#: Request types whose answer is a file the person downloads on Min side.
FILE_TYPES = (RequestType.ACCESS, RequestType.PORTABILITY)
SUBJECT_READY = _("Your privacy request: your data is ready on My page")



def bundle_days() -> timedelta:
    return timedelta(days=int(settings.PORTAL_BUNDLE_DAYS))


def request_make_signed_in(
    *, person: Person, type: RequestType | str, details: str = "",  # noqa: A002
    now: datetime | None = None,
) -> Request:
    """Register ``person``'s request made on Min side, verified by their sign-in."""
    from personvern.rights.services import request_create

    now = now or timezone.now()
    actor = person_actor(person)
    with transaction.atomic():
        request = request_create(
            type=type, person=person, channel=Channel.PORTAL, received_at=now, actor=actor,
            notes=details.strip(), now=now,
        )
        return request_verify_signed_in(request=request, person=person, actor=actor, now=now)


def available_until(request: Request) -> datetime | None:
    """Until when the file of a completed access or portability request is kept."""
    start = file_available_from(request)
    if start is None or request.type not in FILE_TYPES:
        return None
    return start + bundle_days()


def file_available_from(request: Request) -> datetime | None:
    """Since when the file is on Min side: completion, or when it was published anew."""
    return request.file_available_from or request.completed_at


def bundle_ready_notify(*, request: Request, now: datetime, lang: str) -> bool:
    """Queue the "your data is ready" mail (inside ``request_fulfil``'s transaction).

    Only when the person has an e-mail address; the mail links to Min side.
    """
    if request.person is None:
        return False
    address = _person_address(request.person)
    if address is None:
        return False
    until = file_available_from(request) or now
    with translation.override(lang):
        body = render_to_string(
            "rights/email/bundle_ready.txt",
            {
                "url": f"{settings.PERSONVERN_BASE_URL}{reverse('portal:home')}",
                "request": request,
                "until": until + bundle_days(),
                "days": bundle_days().days,
            },
        )
        subject = str(SUBJECT_READY)
    queue_mail(
        to=address, subject=subject, body=body, kind="rights-bundle-ready",
        person=request.person, now=now,
    )
    return True


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    content_type: str


def bundle_download(
    *, person: Person, public_id: str, now: datetime | None = None
) -> Download | None:
    """The file of ``person``'s own fulfilled request, audited; None if there is none."""
    now = now or timezone.now()
    request = Request.objects.filter(
        public_id=public_id, person=person, status=RequestStatus.COMPLETED, type__in=FILE_TYPES
    ).first()
    if request is None:
        return None
    path = export_path(request)
    if path is None:
        return None
    with transaction.atomic():
        audit_log(
            actor=person_actor(person), action="rights.request.file_downloaded", person=person,
            activity="privacy-requests", data={"request": str(request.public_id)}, now=now,
        )
    content_type = "application/zip" if path.suffix == ".zip" else "application/json"
    return Download(path=path, filename=path.name, content_type=content_type)


def bundles_expire(*, now: datetime | None = None) -> int:
    """Delete the files of access and portability requests completed over
    ``PORTAL_BUNDLE_DAYS`` ago; returns how many were deleted."""
    now = now or timezone.now()
    due = (
        Request.objects.alias(since=Coalesce("file_available_from", "completed_at"))
        .filter(
            status=RequestStatus.COMPLETED, type__in=FILE_TYPES,
            since__lt=now - bundle_days(), person__isnull=False,
        )
        .exclude(result__has_key="file_deleted")
        .select_related("person")
    )
    deleted = 0
    for request in due.iterator():
        path = export_path(request)
        with transaction.atomic():
            if path is not None:
                path.unlink(missing_ok=True)
                deleted += 1
            Request.objects.filter(pk=request.pk).update(
                result={**(request.result or {}), "file_deleted": now.date().isoformat()}
            )
            audit_log(
                actor="worker:rights-bundles-expire", action="rights.request.file_deleted",
                subject=request.subject, activity="privacy-requests",
                data={"request": str(request.public_id)}, now=now,
            )
    return deleted


NOT_A_FILE_ANSWER = _(
    "Request %(id)s is not a fulfilled access or portability request of a person we still "
    "hold; it has no file."
)
NO_ADDRESS_TO_TELL = _(
    "The person has no e-mail address: the file is on My page, but tell them by post or phone."
)


def _require_file_answer(request: Request) -> None:
    if (
        request.status != RequestStatus.COMPLETED
        or request.type not in FILE_TYPES
        or request.person is None
    ):
        raise ValidationError(NOT_A_FILE_ANSWER, params={"id": request.public_id})


def bundle_publish(
    *, request: Request, actor: str, lang: str = "nb", now: datetime | None = None
) -> bool:
    """Make the file of a fulfilled access or portability request available on Min side
    for ``PORTAL_BUNDLE_DAYS`` from ``now`` and queue the "ready" mail; audited.

    Used by the data protection officer when the person did not get or lost the
    mail, or the file was deleted after its period: a deleted file is written
    afresh from the data we hold now (``result`` records the new name and that it
    was re-made). Returns whether a mail was queued (False: no address; staff
    must tell the person another way).
    """
    from personvern.rights import engine

    now = now or timezone.now()
    with transaction.atomic():
        # No join: PostgreSQL cannot lock the nullable side of an outer join.
        request = Request.objects.select_for_update().get(pk=request.pk)
        _require_file_answer(request)
        person = request.person
        assert person is not None  # checked above
        result = dict(request.result or {})
        remade = export_path(request) is None
        if remade:
            if request.type == RequestType.ACCESS:
                lang = result.get("lang", lang)
                path = engine.access_bundle_write(person, request=request, lang=lang, now=now)
                result["bundle"] = path.name
            else:
                path = engine.portability_write(person, request=request, now=now)
                result["export"] = path.name
            result.pop("file_deleted", None)
            result["file_remade"] = now.date().isoformat()
        Request.objects.filter(pk=request.pk).update(file_available_from=now, result=result)
        request.file_available_from = now
        request.result = result
        told = bundle_ready_notify(request=request, now=now, lang=lang)
        audit_log(
            actor=actor, action="rights.request.file_published", person=person,
            activity="privacy-requests",
            data={"request": str(request.public_id), "remade": remade, "mailed": told},
            now=now,
        )
    return told


def bundle_file_for_staff(
    *, request: Request, actor: str, now: datetime | None = None
) -> Download | None:
    """The file of a fulfilled access or portability request, for the data protection
    officer (audited); None if it is no longer kept."""
    now = now or timezone.now()
    _require_file_answer(request)
    path = export_path(request)
    if path is None:
        return None
    with transaction.atomic():
        audit_log(
            actor=actor, action="rights.request.file_downloaded_by_staff",
            person=request.person, activity="privacy-requests",
            data={"request": str(request.public_id)}, now=now,
        )
    content_type = "application/zip" if path.suffix == ".zip" else "application/json"
    return Download(path=path, filename=path.name, content_type=content_type)
