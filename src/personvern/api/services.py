"""Writes of the API front door: tokens, and the audit of what the API hands out.

Each write is audited in its own transaction, like every service of the system.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.api.models import ApiToken
from personvern.core.audit import audit_log
from personvern.rights.models import Request, RequestStatus, RequestType

# Prefix so that a leaked token is recognisable by secret scanners and by people.
TOKEN_PREFIX = "pvt_"  # noqa: S105 - a public prefix, not a secret

# last_used_at is informational; writing it on every call would make each read a
# write (and serialise readers on SQLite), so it is refreshed at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=5)

ERROR_NOT_ACCESS = _("Only an access request has an access bundle.")
ERROR_UNCLASSIFIED = _(
    "The request is not yet classified; staff must classify it as an access request first."
)
ERROR_CANCELLED = _("The request was cancelled.")
ERROR_NOT_VERIFIED = _("The person's identity has not been verified yet.")
ERROR_NO_PERSON = _("The request's person no longer exists (erased).")
TOKEN_NAME_NEEDED = _("A token needs a name.")
TOKEN_USER_NOT_STAFF = _("Only active staff users can have API tokens.")
TOKEN_NAME_TAKEN = _("This user already has a token with that name.")


def token_digest(plain: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(plain.encode()).hexdigest()


def api_token_create(
    *, user: User, name: str, actor: str, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for a staff user; returns the row and the plain token (shown once)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": TOKEN_NAME_NEEDED})
    if not user.is_active or not user.is_staff:
        raise ValidationError({"user": TOKEN_USER_NOT_STAFF})
    now = now or timezone.now()
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        if ApiToken.objects.filter(user=user, name=name).exists():
            raise ValidationError({"name": TOKEN_NAME_TAKEN})
        token = ApiToken.objects.create(
            user=user, name=name, token_hash=token_digest(plain), created_at=now
        )
        audit_log(
            actor=actor,
            action="api.token_created",
            data={"token": token.pk, "user": user.pk},
            now=now,
        )
    return token, plain


def api_token_revoke(*, token: ApiToken, actor: str, now: datetime | None = None) -> ApiToken:
    """Revoke a token; it stops working at once."""
    now = now or timezone.now()
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        token.refresh_from_db(fields=["revoked_at"])
        audit_log(
            actor=actor,
            action="api.token_revoked",
            data={"token": token.pk, "user": token.user_id},
            now=now,
        )
    return token


def api_token_authenticate(plain: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token for ``plain`` with its user, or None; refreshes ``last_used_at``.

    A token works only while it is not revoked and its user is active staff.
    """
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            token_hash=token_digest(plain),
            revoked_at__isnull=True,
            user__is_active=True,
            user__is_staff=True,
        )
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


class BundleUnavailable(Exception):
    """The access bundle of this request cannot be handed out (yet)."""


def request_bundle_download(
    *, request: Request, actor: str, lang: str = "nb", now: datetime | None = None
) -> bytes:
    """The access bundle (zip) of a verified access request; the hand-over is audited.

    The bundle is built fresh from the holders, so it shows the data as it is
    now. Raises :class:`BundleUnavailable` for any other type of request (an
    unclassified one included), an unverified one, a cancelled one, or one
    whose person no longer exists.
    """
    from personvern.rights import engine

    if request.type == RequestType.UNCLASSIFIED:
        raise BundleUnavailable(str(ERROR_UNCLASSIFIED))
    if request.type != RequestType.ACCESS:
        raise BundleUnavailable(str(ERROR_NOT_ACCESS))
    if request.status == RequestStatus.CANCELLED:
        raise BundleUnavailable(str(ERROR_CANCELLED))
    if request.verified_at is None:
        raise BundleUnavailable(str(ERROR_NOT_VERIFIED))
    person = request.person
    if person is None:
        raise BundleUnavailable(str(ERROR_NO_PERSON))
    now = now or timezone.now()
    with transaction.atomic():
        bundle = engine.access_bundle(person, lang=lang, now=now)
        audit_log(
            actor=actor,
            action="rights.request.bundle_downloaded",
            person=person,
            activity="privacy-requests",
            data={"request": str(request.public_id), "lang": lang, "bytes": len(bundle)},
            now=now,
        )
    return bundle
