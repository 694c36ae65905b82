"""What every step of a privacy request's life needs: the lock, the open check, the address."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from personvern.core.models import EmailIdentity, Person
from personvern.rights.models import OPEN_STATUSES, Request, RequestStatus

NOT_OPEN = _("Request %(id)s is %(status)s; it can no longer change.")


def _person_address(person: Person) -> str | None:
    """The address to write to: a verified identity first, else the oldest one."""
    identity = (
        EmailIdentity.objects.filter(person=person)
        .order_by("verified_at", "created_at", "pk")
        .values_list("address", flat=True)
    )
    verified = identity.filter(verified_at__isnull=False).first()
    return verified or identity.first()


def _lock(request: Request) -> Request:
    """Re-read the request under a row lock so two staff members cannot race."""
    return Request.objects.select_for_update().get(pk=request.pk)


def _require_open(request: Request) -> None:
    if request.status not in OPEN_STATUSES:
        raise ValidationError(
            {
                "status": ValidationError(
                    NOT_OPEN,
                    params={
                        "id": request.public_id,
                        "status": RequestStatus(request.status).label,
                    },
                )
            }
        )
