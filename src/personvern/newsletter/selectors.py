"""Reads of the newsletter: who receives a mailing, and unsubscribe links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.models import Membership, Objection
from personvern.core.selectors import (
    consenting_persons,
    objecting_person_ids,
    restricted_person_ids,
)
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
    consenting = consenting_persons(ACTIVITY, at=as_of).values("pk")
    return (
        Subscription.objects.filter(subscribed_at__lte=as_of)
        .filter(Q(unsubscribed_at__isnull=True) | Q(unsubscribed_at__gt=as_of))
        .filter(
            Q(basis=SubscriptionBasis.CONSENT, person__in=consenting)
            | Q(Exists(member), basis=SubscriptionBasis.MEMBERSHIP)
        )
        .exclude(person__in=objecting_person_ids(Objection.DIRECT_MARKETING, now=as_of))
        .exclude(person__in=objecting_person_ids(ACTIVITY, now=as_of))
        .exclude(person__in=restricted_person_ids(now=as_of))
        .select_related("person")
        .order_by("pk")
    )


def unsubscribe_token(subscription: Subscription) -> str:
    """The signed token of the unsubscribe link at the bottom of every newsletter (R18)."""
    return signing.dumps({"s": subscription.pk}, salt=_TOKEN_SALT, compress=True)


def subscription_from_token(token: str) -> Subscription | None:
    """The subscription an unsubscribe token names; ``None`` if the token is not ours."""
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT)
    except signing.BadSignature:
        return None
    return Subscription.objects.filter(pk=payload.get("s")).select_related("person").first()


def open_token(subscription: Subscription, newsletter: Newsletter) -> str:
    """The signed token of the image that records that a copy was opened (R16)."""
    return signing.dumps({"s": subscription.pk, "n": newsletter.pk}, salt=_OPEN_SALT)


def click_token(subscription: Subscription, newsletter: Newsletter, url: str) -> str:
    """The signed token of a tracked link: who, which mailing, and where it leads (R16).

    The destination is inside the signature, so the redirect can only ever go
    where the newsletter's own text pointed: no open redirect.
    """
    return signing.dumps(
        {"s": subscription.pk, "n": newsletter.pk, "u": url}, salt=_CLICK_SALT, compress=True
    )


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
    try:
        payload = signing.loads(token, salt=_CLICK_SALT if click else _OPEN_SALT)
    except signing.BadSignature:
        return None
    url = str(payload.get("u", "")) if click else ""
    if click and not url.startswith(("https://", "http://")):
        return None
    return Tracked(
        subscription=Subscription.objects.filter(pk=payload.get("s"))
        .select_related("person").first(),
        newsletter=Newsletter.objects.filter(pk=payload.get("n")).first(),
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
