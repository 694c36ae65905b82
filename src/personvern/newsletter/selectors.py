"""Reads of the newsletter: who receives a mailing, and unsubscribe links."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.models import ConsentAction, ConsentEvent, Membership, Objection
from personvern.core.selectors import objecting_person_ids, restricted_person_ids
from personvern.newsletter.models import Newsletter, Subscription, SubscriptionBasis

ACTIVITY = "newsletter"
_TOKEN_SALT = "personvern.newsletter.unsubscribe"  # noqa: S105 (a signing namespace, not a secret)
_OPEN_SALT = "personvern.newsletter.open"
_CLICK_SALT = "personvern.newsletter.click"


def recipients(*, as_of: datetime | None = None) -> QuerySet[Subscription]:
    """Subscriptions that may receive a mailing sent at ``as_of`` (R17, R36, R37).

    One query, whatever the number of subscribers. A subscription counts when
    it was active at ``as_of`` and its basis holds then: the latest consent
    ledger event for ``newsletter`` is a consent given, or (membership basis)
    the person is an active member of the organisation. Persons objecting to
    direct marketing or to the newsletter, and persons under an active
    restriction, are left out whatever the basis.
    """
    as_of = as_of or timezone.now()
    today = timezone.localdate(as_of)
    member = Membership.objects.filter(
        person=OuterRef("person"),
        organisation=OuterRef("organisation"),
        valid_from__lte=today,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    # The latest ledger event of the subscription's own person (an index lookup per
    # subscription looked at): a send reads a batch at a time, and a set of every
    # consenting person would be computed again for each batch.
    latest_consent = (
        ConsentEvent.objects.filter(person=OuterRef("person"), scope=ACTIVITY, at__lte=as_of)
        .order_by("-at", "-pk").values("action")[:1]
    )
    return (
        Subscription.objects.filter(subscribed_at__lte=as_of)
        .filter(Q(unsubscribed_at__isnull=True) | Q(unsubscribed_at__gt=as_of))
        .alias(latest_consent=Subquery(latest_consent))
        .filter(
            Q(basis=SubscriptionBasis.CONSENT, latest_consent=ConsentAction.GIVEN)
            | Q(Exists(member), basis=SubscriptionBasis.MEMBERSHIP)
        )
        .exclude(person__in=objecting_person_ids(Objection.DIRECT_MARKETING, now=as_of))
        .exclude(person__in=objecting_person_ids(ACTIVITY, now=as_of))
        .exclude(person__in=restricted_person_ids(now=as_of))
        .select_related("person")
        .order_by("pk")
    )


# --- The tokens in a copy's links (R16, R18) -------------------------------------------
#
# A keyed HMAC over the link's fields, the key derived once per purpose and secret
# (docs/decisions/0032): a mailing signs three or more tokens per copy, and Django's
# signing (JSON, zlib, a key derivation per token) was a tenth of the send. The
# purposes have keys of their own, so a token of one kind is nothing to another.
# Links mailed before carry Django-signed tokens; those are still read.

_TOKEN_VERSIONS = {_TOKEN_SALT: "u1", _OPEN_SALT: "o1", _CLICK_SALT: "c1"}


@functools.lru_cache(maxsize=32)
def _mac(salt: str, secret: str) -> Any:
    key = hashlib.sha256(f"{salt}:token-key:{secret}".encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _signature(salt: str, secret: str, fields: str) -> str:
    mac = _mac(salt, secret).copy()
    mac.update(fields.encode())
    return base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode()


class TokenMaker:
    """Signs the tokens of one purpose with the current secret (the key derived once)."""

    def __init__(self, salt: str) -> None:
        self.prefix = _TOKEN_VERSIONS[salt] + ":"
        self.salt, self.secret = salt, settings.SECRET_KEY
        self._mac = _mac(salt, self.secret)

    def __call__(self, *fields: object) -> str:
        text = ":".join("" if f is None else str(f) for f in fields)
        mac = self._mac.copy()
        mac.update(text.encode())
        signature = base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode()
        return f"{self.prefix}{text}:{signature}"


def token_makers() -> tuple[TokenMaker, TokenMaker, TokenMaker]:
    """The signers of a copy's unsubscribe, open and click tokens, keys derived once."""
    return TokenMaker(_TOKEN_SALT), TokenMaker(_OPEN_SALT), TokenMaker(_CLICK_SALT)


def _fields(token: str, salt: str, count: int) -> list[str] | None:
    """The ``count`` fields of a token of this purpose, or None if it is not ours."""
    version, _sep, rest = token.partition(":")
    if version != _TOKEN_VERSIONS[salt]:
        return None
    parts = rest.split(":")
    if len(parts) != count + 1:
        return None
    text, signature = ":".join(parts[:-1]), parts[-1]
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        key = secret if isinstance(secret, str) else secret.decode()
        if hmac.compare_digest(_signature(salt, key, text), signature):
            return parts[:-1]
    return None


def _key(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def encoded_url(url: str) -> str:
    """``url`` as a click token carries it (base64url, no padding)."""
    return base64.urlsafe_b64encode(url.encode()).rstrip(b"=").decode()


def _decoded_url(value: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def unsubscribe_token(subscription: Subscription) -> str:
    """The signed token of the unsubscribe link at the bottom of every newsletter (R18)."""
    return TokenMaker(_TOKEN_SALT)(subscription.pk)


def subscription_from_token(token: str) -> Subscription | None:
    """The subscription an unsubscribe token names; ``None`` if the token is not ours."""
    fields = _fields(token, _TOKEN_SALT, 1)
    if fields is not None:
        pk = _key(fields[0])
    else:
        try:  # a link mailed before 0032: Django's signing
            pk = signing.loads(token, salt=_TOKEN_SALT).get("s")
        except (signing.BadSignature, AttributeError):
            return None
    if pk is None:
        return None
    return Subscription.objects.filter(pk=pk).select_related("person").first()


def open_token(subscription: Subscription, newsletter: Newsletter) -> str:
    """The signed token of the image that records that a copy was opened (R16)."""
    return TokenMaker(_OPEN_SALT)(subscription.pk, newsletter.pk)


def click_token(subscription: Subscription, newsletter: Newsletter, url: str) -> str:
    """The signed token of a tracked link: who, which mailing, and where it leads (R16).

    The destination is inside the signature, so the redirect can only ever go
    where the newsletter's own text pointed: no open redirect.
    """
    return TokenMaker(_CLICK_SALT)(subscription.pk, newsletter.pk, encoded_url(url))


@dataclass(frozen=True)
class Tracked:
    subscription: Subscription | None
    newsletter: Newsletter | None
    url: str = ""


def tracked_from_token(token: str, *, click: bool) -> Tracked | None:
    """What an open or click token names; ``None`` if it is not ours.

    The subscription or mailing may be gone (erased, deleted by retention):
    then they are ``None`` and nothing is recorded, but a click still leads on.
    """
    salt = _CLICK_SALT if click else _OPEN_SALT
    fields = _fields(token, salt, 3 if click else 2)
    if fields is not None:
        payload: dict[str, Any] = {"s": _key(fields[0]), "n": _key(fields[1])}
        if click:
            payload["u"] = _decoded_url(fields[2]) or ""
    else:
        try:  # a link mailed before 0032: Django's signing
            payload = signing.loads(token, salt=salt)
        except signing.BadSignature:
            return None
        if not isinstance(payload, dict):
            return None
    url = str(payload.get("u", "")) if click else ""
    if click and not url.startswith(("https://", "http://")):
        return None
    subscription_pk, newsletter_pk = payload.get("s"), payload.get("n")
    return Tracked(
        subscription=Subscription.objects.filter(pk=subscription_pk)
        .select_related("person").first() if subscription_pk is not None else None,
        newsletter=Newsletter.objects.filter(pk=newsletter_pk).first()
        if newsletter_pk is not None else None,
        url=url,
    )


def live_send_task(newsletter: Newsletter) -> bool:
    """Whether a worker task is queued or running to send ``newsletter``."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    pending = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        task_path__endswith=".send_newsletter",
    ).values_list("args_kwargs", flat=True)
    return any((args.get("args") or [None])[0] == newsletter.pk for args in pending)


class SendState(models.TextChoices):
    """Where a mailing stands, as the back office shows it."""

    DRAFT = "draft", _("draft")
    QUEUED = "queued", _("waiting for the worker")
    SENDING = "sending", _("being sent")
    FAILED = "failed", _("sending failed")
    STOPPED = "stopped", _("sending stopped without finishing")
    SENT = "sent", _("sent")


@dataclass(frozen=True)
class SendProgress:
    state: SendState
    done: int
    total: int | None

    @property
    def label(self) -> str:
        return str(self.state.label)

    @property
    def under_way(self) -> bool:
        """Still moving by itself: the page refreshes to follow it."""
        return self.state in (SendState.QUEUED, SendState.SENDING)

    @property
    def resumable(self) -> bool:
        return self.state in (SendState.FAILED, SendState.STOPPED)


def send_progress(newsletter: Newsletter, *, now: datetime | None = None) -> SendProgress:
    """How far sending ``newsletter`` has come (copies handled of the total) and its state.

    A send that neither holds a lease nor has a worker task to carry it on is
    *stopped* (its worker died and the task is gone): shown as such, never as
    "being sent" for ever.
    """
    now = now or timezone.now()
    if newsletter.sent_at is not None:
        state = SendState.SENT
    elif newsletter.send_failed_at is not None:
        state = SendState.FAILED
    elif newsletter.send_cursor is None:
        state = SendState.DRAFT
    elif newsletter.send_lease_until is not None and newsletter.send_lease_until > now:
        state = SendState.SENDING
    elif live_send_task(newsletter):
        state = SendState.QUEUED if newsletter.send_done == 0 else SendState.SENDING
    else:
        state = SendState.STOPPED
    total = newsletter.send_total
    if state == SendState.SENT and total is None:
        total = newsletter.recipient_count  # sent before progress was recorded
    done = newsletter.send_done if state != SendState.SENT or newsletter.send_total else (
        newsletter.recipient_count)
    return SendProgress(state=state, done=done, total=total)
