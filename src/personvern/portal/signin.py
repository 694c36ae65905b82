"""Passwordless sign-in to Min side: a single-use link mailed to an address we hold.

Design (docs/decisions/0018-min-side-sign-in-verifies.md):

- The link's token is Django's signing (``TimestampSigner`` via
  :func:`django.core.signing.dumps`, salt :data:`SALT`) over the person's
  ``public_id``, a random nonce and the page to return to. Nothing is stored
  when a link is sent: the signature proves we issued it, its timestamp when.
- A link is valid for ``PORTAL_LINK_MINUTES`` (default 15) and once: using it
  stores the SHA-256 of its nonce (:class:`~personvern.portal.models.UsedSignInLink`,
  unique), so a second use fails. Only a POST uses it: mail scanners fetch
  links, and a GET must not spend one.
- The request form answers the same whether or not the address is known, and
  at most ``PERSONVERN_RATE_LIMIT_PORTAL_LINK`` links (one per 5 minutes) go to
  one address; a request over that limit is answered alike and mails nothing.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import EmailIdentity, Person
from personvern.core.ratelimits import allow
from personvern.core.services import normalise_email
from personvern.portal.auth import SELF_ACTOR
from personvern.portal.models import UsedSignInLink
from personvern.worker.outbox import queue_mail

#: The signing purpose: a token signed for anything else never signs anyone in.
SALT = "personvern.portal.sign-in"
#: Who sends the link, in the audit log.
SIGN_IN_ACTOR = "public:min-side-sign-in"
SUBJECT_SIGN_IN = _("Your sign-in link to My page")


class LinkProblem(enum.StrEnum):
    """Why a sign-in link does not sign anyone in."""

    INVALID = "invalid"  # not ours, altered or cut short
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN_PERSON = "unknown-person"  # erased since the link was sent


class LinkRefused(ValidationError):
    """A sign-in link that cannot be used; ``problem`` says why."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(str(problem), code=str(problem))
        self.problem = problem


@dataclass(frozen=True)
class SignInLink:
    """What a valid, unused link says: whom it signs in and where to go next."""

    person: Person
    nonce: str
    next: str


def link_lifetime() -> timedelta:
    return timedelta(minutes=int(settings.PORTAL_LINK_MINUTES))


def _nonce_digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def sign_in_token(person: Person, *, next_path: str = "") -> str:
    """A new sign-in token for ``person`` (the timestamp is the signing time)."""
    payload = {"p": str(person.public_id), "n": secrets.token_urlsafe(16), "x": next_path}
    return signing.dumps(payload, salt=SALT, compress=True)


def sign_in_url(token: str) -> str:
    """The absolute address of the sign-in link (``PERSONVERN_BASE_URL``)."""
    return f"{settings.PERSONVERN_BASE_URL}{reverse('portal:sign-in-link', args=[token])}"


def _address_holder(email: str) -> Person | None:
    try:
        address = normalise_email(email)
    except ValidationError:
        return None
    identity = EmailIdentity.objects.select_related("person").filter(address=address).first()
    return identity.person if identity is not None else None


def sign_in_link_send(*, email: str, next_path: str = "", now: datetime | None = None) -> bool:
    """Mail a sign-in link to ``email`` if a person holds it; True when one was queued.

    The caller answers the same either way. Nothing is stored when the address
    is unknown, or when the address had a link within the limit's window.
    """
    now = now or timezone.now()
    person = _address_holder(email)
    if person is None:
        return False
    address = normalise_email(email)
    if not allow("portal-link", address):
        return False
    token = sign_in_token(person, next_path=next_path)
    minutes = int(settings.PORTAL_LINK_MINUTES)
    body = render_to_string(
        "portal/email/sign_in_link.txt", {"url": sign_in_url(token), "minutes": minutes}
    )
    with transaction.atomic():
        audit_log(
            actor=SIGN_IN_ACTOR, action="portal.sign_in_link_sent", person=person,
            data={"minutes": minutes}, now=now,
        )
        queue_mail(
            to=address, subject=str(SUBJECT_SIGN_IN), body=body, kind="portal-sign-in-link",
            person=person, now=now,
        )
    return True


def sign_in_link_check(token: str, *, now: datetime | None = None) -> SignInLink:
    """What ``token`` says, if it can still sign someone in (raises :class:`LinkRefused`).

    Reads only: showing the page of a link does not use it.
    """
    now = now or timezone.now()
    try:
        payload = signing.loads(token, salt=SALT, max_age=link_lifetime())
    except signing.SignatureExpired as exc:
        raise LinkRefused(LinkProblem.EXPIRED) from exc
    except signing.BadSignature as exc:
        raise LinkRefused(LinkProblem.INVALID) from exc
    if not isinstance(payload, dict) or not {"p", "n"} <= payload.keys():
        raise LinkRefused(LinkProblem.INVALID)
    nonce = str(payload["n"])
    if UsedSignInLink.objects.filter(nonce_digest=_nonce_digest(nonce)).exists():
        raise LinkRefused(LinkProblem.USED)
    person = Person.objects.filter(public_id=str(payload["p"])).first()
    if person is None:
        raise LinkRefused(LinkProblem.UNKNOWN_PERSON)
    return SignInLink(person=person, nonce=nonce, next=str(payload.get("x") or ""))


def sign_in_link_use(token: str, *, now: datetime | None = None) -> SignInLink:
    """Spend the link (once) and return whom it signs in; audited as a sign-in."""
    now = now or timezone.now()
    link = sign_in_link_check(token, now=now)
    try:
        with transaction.atomic():
            UsedSignInLink.objects.create(nonce_digest=_nonce_digest(link.nonce), used_at=now)
            audit_log(
                actor=SELF_ACTOR, action="portal.signed_in",
                person=link.person, now=now,
            )
    except IntegrityError as exc:  # used by another request in the meantime
        raise LinkRefused(LinkProblem.USED) from exc
    return link


def signed_out_audit(person: Person, *, now: datetime | None = None) -> None:
    """Record that ``person`` signed out of Min side."""
    with transaction.atomic():
        audit_log(
            actor=SELF_ACTOR, action="portal.signed_out", person=person,
            now=now or timezone.now(),
        )


def used_links_purge(*, now: datetime | None = None) -> int:
    """Delete the records of used links that have expired anyway; returns how many."""
    now = now or timezone.now()
    # A link older than its lifetime is refused by its signature: its record is not needed.
    cutoff = now - link_lifetime() - timedelta(minutes=1)
    deleted, _per_model = UsedSignInLink.objects.filter(used_at__lt=cutoff).delete()
    return deleted
