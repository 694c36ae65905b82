"""A request received by any staff member goes to the data protection officer (R40).

Anyone on the staff may be the one a person asks (on the phone, at a course, by
a letter on their desk): :func:`request_register_by_staff` registers it with
the time it was received, so the one-month deadline runs from then, and tells
the data protection officer by mail (no personal data in the mail: the case
number, the deadline and a link to the back office). Who registered it cannot
list or open requests afterwards (ADR 0017); only the data protection officer
verifies and fulfils it.

:func:`request_link_person`: a request registered without a person (an
e-mail whose sender we could not tell, a phone call with no address) is linked
to the person it concerns once the data protection officer knows who it is.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log, pseudonym
from personvern.core.models import Person
from personvern.rights.common import _lock, _require_open
from personvern.rights.deadlines import received_date
from personvern.rights.models import Channel, Request, RequestType

SUBJECT_NEW_REQUEST = _("New privacy request to handle")
NAME_GIVEN_NOTE = _("Name given when received: %(name)s")
NAME_OR_EMAIL_NEEDED = _("Give the person's name or e-mail address.")
ALREADY_LINKED = _("Request %(id)s already concerns a person.")


def request_register_by_staff(
    *,
    type: RequestType | str,  # noqa: A002 - the field's name, as in request_create
    channel: Channel | str,
    received_at: datetime,
    actor: str,
    given_name: str = "",
    family_name: str = "",
    email: str = "",
    notes: str = "",
    now: datetime | None = None,
) -> Request:
    """Register a request a staff member received on the person's behalf; tell the DPO.

    With an e-mail address the request concerns the person who holds it (created
    with the given names if unknown). Without one it is registered without a
    person and the name given goes into the notes, for the data protection
    officer to link (:func:`request_link_person`). The deadline runs from
    ``received_at``. One transaction: the request, its audit entry and the mail
    to the data protection officer.
    """
    from personvern.rights.services import request_create
    from personvern.worker.outbox import queue_mail_each
    from personvern.worker.recipients import dpo_addresses

    now = now or timezone.now()
    name = f"{given_name.strip()} {family_name.strip()}".strip()
    email = email.strip()
    if not name and not email:
        raise ValidationError({"email": NAME_OR_EMAIL_NEEDED})
    case_notes = notes.strip()
    if not email:
        with translation.override(settings.LANGUAGE_CODE):
            line = str(NAME_GIVEN_NOTE) % {"name": name}
        case_notes = f"{line}\n\n{case_notes}" if case_notes else line
    with transaction.atomic():
        request = request_create(
            type=type, email=email or None, channel=channel, received_at=received_at,
            actor=actor, notes=case_notes, unlinked=not email, given_name=given_name,
            family_name=family_name, now=now,
        )
        with translation.override(settings.LANGUAGE_CODE):
            body = render_to_string(
                "rights/email/new_request.txt",
                {
                    "request": request,
                    "received": formats.date_format(received_date(request.received_at)),
                    "due": formats.date_format(request.due_legal),
                    "by": actor.removeprefix("staff:"),
                    "url": settings.PERSONVERN_BASE_URL
                    + reverse("admin:rights_request_change", args=[request.pk]),
                },
            )
            queue_mail_each(
                to=dpo_addresses(), subject=str(SUBJECT_NEW_REQUEST), body=body,
                kind="rights-new-request", now=now,
            )
    return request


def request_link_person(
    *, request: Request, person: Person, actor: str, now: datetime | None = None
) -> Request:
    """Link an open request registered without a person to ``person``; audited.

    The deadline does not move. Once linked, the request can be verified and
    fulfilled like any other.
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = _lock(request)
        _require_open(request)
        if request.person_id is not None:
            raise ValidationError(
                {"person": ValidationError(ALREADY_LINKED, params={"id": request.public_id})}
            )
        Request.objects.filter(pk=request.pk).update(person=person, subject=pseudonym(person))
        audit_log(
            actor=actor,
            action="rights.request.linked",
            person=person,
            activity="privacy-requests",
            data={"request": str(request.public_id)},
            now=now,
        )
    request.refresh_from_db()
    return request
