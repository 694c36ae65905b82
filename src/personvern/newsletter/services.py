"""Writes of the newsletter: subscribe, unsubscribe, mailings, interactions.

Each write is audited in its own transaction. Consent-based subscriptions go
through the core consent ledger, which is the proof of consent (Art. 7(1));
the subscription row only says whether mail should go out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log
from personvern.core.models import (
    ConsentAction,
    ConsentEvent,
    EmailIdentity,
    Membership,
    Organisation,
    Person,
)
from personvern.core.ratelimits import allow
from personvern.core.selectors import is_restricted, person_by_email
from personvern.core.services import consent_record, normalise_email, person_create
from personvern.newsletter.models import (
    Interaction,
    InteractionKind,
    Newsletter,
    OptOut,
    Subscription,
    SubscriptionBasis,
    SubscriptionSource,
    SubscriptionStatus,
)
from personvern.newsletter.selectors import Tracked
from personvern.worker import outbox

ACTIVITY = "newsletter"

NOT_A_SOURCE = _("'%(source)s' is not a subscription source.")
ORGANISATION_NEEDED = _("A subscription from a member organisation must name it.")
ORGANISATION_NOT_EXPECTED = _("Only a member-organisation subscription names an organisation.")
NO_BAR_MEMBERSHIP = _(
    "The person has no active membership of the Norwegian Bar Association, which is the "
    "basis of this subscription."
)
CONSENT_TEXT_NEEDED = _("A consent-based subscription must name the consent text.")
UNSUBSCRIBE_CHANNEL_NEEDED = _("An unsubscribe must say where it came from.")
SUBJECT_NEEDED = _("A newsletter needs a subject.")
CANNOT_CHANGE = _("This newsletter has gone out (or is going out) and cannot change.")
ALREADY_SENT = _("This newsletter has already been sent.")
BODY_NEEDED = _("A newsletter needs a text before it is sent.")
BEING_SENT = _("This newsletter is being sent: let the send finish (run it again to resume).")
SENT_ELSEWHERE = _("Another run is sending this newsletter; this one stopped.")
SUBJECT_ONE_LINE = _("The subject must be one line.")
NOT_AN_INTERACTION_KIND = _("'%(kind)s' is not an interaction kind.")
LINK_NEEDED = _("A click must name the link.")
OPTED_OUT = _(
    "The person has opted out of the newsletter: a membership does not subscribe them again. "
    "Only their own sign-up or consent does."
)


def _has_active_membership(person: Person, organisation: str, now: datetime) -> bool:
    today = timezone.localdate(now)
    return (
        Membership.objects.filter(person=person, organisation=organisation, valid_from__lte=today)
        .exclude(valid_to__lt=today)
        .exists()
    )


def link_granting_consents(subscriptions: QuerySet[Subscription]) -> int:
    """Point each consent-based subscription of ``subscriptions`` that has no link yet
    to the ledger entry that granted it: the latest consent given to the newsletter at
    or before it started (one UPDATE; for bulk-written rows, like the demo's)."""
    granting = (
        ConsentEvent.objects.filter(
            person_id=OuterRef("person_id"), scope=ACTIVITY, action=ConsentAction.GIVEN,
            at__lte=OuterRef("subscribed_at"),
        )
        .order_by("-at", "-pk")
        .values("pk")[:1]
    )
    return subscriptions.filter(basis=SubscriptionBasis.CONSENT, consent__isnull=True).update(
        consent=Subquery(granting)
    )


def newsletter_subscribe(
    *,
    person: Person,
    source: SubscriptionSource | str,
    actor: str,
    text_version: str = "",
    organisation: Organisation | str = "",
    basis_note: str = "",
    now: datetime | None = None,
) -> Subscription:
    """Subscribe ``person`` (or re-subscribe after an unsubscribe), per R17.

    - ``form`` and ``import``: the basis is consent; ``text_version`` names the
      consent text agreed to and goes into the consent ledger.
    - ``member-organisation`` with Advokatforeningen: the basis is the person's
      active membership, which must exist now; no consent is recorded.
    - ``member-organisation`` with Juristforbundet: the organisation collected
      the consent; it is recorded in the ledger with that channel.
    An already active subscription is returned unchanged.
    """
    now = now or timezone.now()
    if source not in SubscriptionSource.values:
        raise ValidationError({"source": ValidationError(NOT_A_SOURCE, params={"source": source})})
    organisation = str(organisation)
    if source == SubscriptionSource.MEMBER_ORGANISATION:
        if organisation not in Organisation.values:
            raise ValidationError({"organisation": ORGANISATION_NEEDED})
    elif organisation and not (
        # A member of Advokatforeningen who signs up on our own form gets it on the
        # basis of the membership, like one whose organisation passed them on.
        source == SubscriptionSource.FORM and organisation == Organisation.ADVOKATFORENINGEN
    ):
        raise ValidationError({"organisation": ORGANISATION_NOT_EXPECTED})
    if organisation == Organisation.ADVOKATFORENINGEN:
        basis = SubscriptionBasis.MEMBERSHIP
        if not _has_active_membership(person, organisation, now):
            raise ValidationError({"organisation": NO_BAR_MEMBERSHIP})
    else:
        basis = SubscriptionBasis.CONSENT
        if not text_version:
            raise ValidationError({"text_version": CONSENT_TEXT_NEEDED})

    # A subscription the person asked for themselves: their consent, or the sign-up
    # form (double opt-in) even where the membership is the basis. Only these undo
    # an opt-out; a member organisation passing its members on does not (R18).
    own_request = basis == SubscriptionBasis.CONSENT or source == SubscriptionSource.FORM
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(person=person).first()
        if subscription is not None and subscription.status == SubscriptionStatus.ACTIVE:
            return subscription
        optout = OptOut.objects.select_for_update().filter(person=person).first()
        if optout is not None and not own_request:
            raise ValidationError(OPTED_OUT, code="opted_out")
        if optout is not None:
            optout.delete()
            audit_log(
                actor=actor, action="newsletter.optout_lifted", person=person,
                activity=ACTIVITY,
                data={"opted_out_at": optout.at.isoformat(), "source": str(source)}, now=now,
            )
        consent = None
        if basis == SubscriptionBasis.CONSENT:
            consent = consent_record(
                person=person,
                scope=ACTIVITY,
                action=ConsentAction.GIVEN,
                channel=organisation or str(source),
                text_version=text_version,
                actor=actor,
                now=now,
            )
        values = {
            "status": SubscriptionStatus.ACTIVE,
            "source": source,
            "basis": basis,
            "organisation": organisation,
            "basis_note": basis_note,
            "consent": consent,
            "subscribed_at": now,
            "unsubscribed_at": None,
            "unsubscribe_channel": "",
        }
        if subscription is None:
            subscription = Subscription.objects.create(person=person, **values)
            action = "newsletter.subscribed"
        else:
            Subscription.objects.filter(pk=subscription.pk).update(**values)
            subscription.refresh_from_db()
            action = "newsletter.resubscribed"
        audit_log(
            actor=actor,
            action=action,
            person=person,
            activity=ACTIVITY,
            data={"subscription": subscription.pk, "source": str(source), "basis": str(basis)},
            now=now,
        )
    return subscription


# --- Sign-up on the public form, with double opt-in (docs/decisions/0022) -------------

#: Version of the sign-up form's consent text; bump it when the wording changes, so
#: the consent ledger shows which text a subscriber agreed to. Old versions stay in
#: :data:`CONSENT_TEXTS` while links made with them can still be confirmed.
CONSENT_TEXT_VERSION = "newsletter-signup-1"
CONSENT_TEXTS = {
    CONSENT_TEXT_VERSION: _(
        "Yes, send me the newsletter from Juristenes Utdanningssenter by e-mail, with news "
        "about courses and events. You may note whether I open it and which links I click, "
        "to make it more relevant. I can unsubscribe whenever I like, with the link at the "
        "bottom of every newsletter."
    ),
}
#: How long a confirmation link works.
CONFIRMATION_MAX_AGE = timedelta(days=2)
_SIGNUP_SALT = "personvern.newsletter.signup"

SUBJECT_CONFIRM = _("Confirm your newsletter subscription")
SUBJECT_ALREADY = _("You already receive our newsletter")
LINK_USED = _(
    "You unsubscribed after this link was sent, so it no longer works. "
    "Sign up again if you want the newsletter."
)
UNKNOWN_TEXT_VERSION = _("This link was made for a consent text we no longer use.")


@dataclass(frozen=True)
class SignUp:
    """What a confirmation link carries: who asked, with which consent text, and when.

    Nothing about a sign-up is stored before it is confirmed: the signed link is
    the only record, and an unconfirmed one simply expires.
    """

    email: str
    given_name: str
    family_name: str
    text_version: str
    issued_at: datetime

    @property
    def consent_text(self) -> str:
        return str(CONSENT_TEXTS.get(self.text_version, ""))


def member_basis(person: Person | None, now: datetime | None = None) -> str:
    """The member organisation whose membership ``person`` holds now, as far as the
    newsletter is concerned (R17): ``advokatforeningen`` (the membership is the
    basis), ``juristforbundet`` (consent is), or ``""`` (not a member)."""
    if person is None:
        return ""
    now = now or timezone.now()
    for organisation in (Organisation.ADVOKATFORENINGEN, Organisation.JURISTFORBUNDET):
        if _has_active_membership(person, organisation, now):
            return str(organisation)
    return ""


def signup_token(signup: SignUp) -> str:
    """The signed token of a confirmation link (it expires: :func:`signup_from_token`)."""
    return signing.dumps(
        {
            "e": signup.email, "g": signup.given_name, "f": signup.family_name,
            "v": signup.text_version, "i": int(signup.issued_at.timestamp()),
        },
        salt=_SIGNUP_SALT, compress=True,
    )


def signup_from_token(token: str, *, now: datetime | None = None) -> SignUp:
    """The sign-up a confirmation link carries.

    Raises :class:`django.core.signing.SignatureExpired` for a link older than
    :data:`CONFIRMATION_MAX_AGE` and :class:`django.core.signing.BadSignature`
    for one that is not ours (forged, cut short, or for a text we do not know).
    """
    now = now or timezone.now()
    payload = signing.loads(token, salt=_SIGNUP_SALT, max_age=CONFIRMATION_MAX_AGE)
    try:
        issued_at = datetime.fromtimestamp(int(payload["i"]), tz=UTC)
        signup = SignUp(
            email=str(payload["e"]), given_name=str(payload["g"]),
            family_name=str(payload["f"]), text_version=str(payload["v"]), issued_at=issued_at,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise signing.BadSignature("not a sign-up token") from exc
    if issued_at > now + timedelta(minutes=5):
        raise signing.BadSignature("issued in the future")
    if not signup.consent_text:
        raise signing.BadSignature(str(UNKNOWN_TEXT_VERSION))
    return signup


def confirm_url(signup: SignUp) -> str:
    """The absolute address of the confirmation link for ``signup``."""
    return _absolute(reverse("newsletter:confirm", args=[signup_token(signup)]))


def newsletter_signup_request(
    *,
    email: str,
    given_name: str = "",
    family_name: str = "",
    text_version: str = CONSENT_TEXT_VERSION,
    actor: str,
    now: datetime | None = None,
) -> bool:
    """Mail the owner of ``email`` a link to confirm a sign-up from the public form.

    Double opt-in (docs/decisions/0022): nothing is subscribed and nothing about
    the sign-up is stored here; the link carries the address, the name and the
    consent text version shown, signed and expiring. The mail says on which
    basis the person would receive the newsletter (R17). An address that
    already receives it is told so instead of getting a link. At most
    ``PERSONVERN_RATE_LIMIT_NEWSLETTER_CONFIRMATION`` mails go to one address
    (default one in 10 minutes); the form answers alike either way, so the
    caller must not tell the visitor the outcome. Returns whether a mail was queued.
    """
    now = now or timezone.now()
    address = normalise_email(email)
    if text_version not in CONSENT_TEXTS:
        raise ValidationError({"text_version": UNKNOWN_TEXT_VERSION})
    if not allow("newsletter-confirmation", address):
        return False
    person = person_by_email(address)
    subscription = (
        Subscription.objects.filter(person=person, status=SubscriptionStatus.ACTIVE).first()
        if person is not None else None
    )
    signup = SignUp(
        email=address, given_name=given_name.strip(), family_name=family_name.strip(),
        text_version=text_version, issued_at=now,
    )
    context = {
        "organisation": member_basis(person, now),
        "subscription": subscription,
        "url": None if subscription else confirm_url(signup),
        "hours": int(CONFIRMATION_MAX_AGE.total_seconds() // 3600),
        "consent_text": signup.consent_text,
    }
    with transaction.atomic():
        outbox.queue_mail(
            to=address,
            subject=str(SUBJECT_ALREADY if subscription else SUBJECT_CONFIRM),
            body=render_to_string("newsletter/email/signup_confirm.txt", context),
            kind="newsletter-signup-confirmation", person=person, now=now,
        )
        audit_log(
            actor=actor, action="newsletter.signup_link_sent", person=person,
            activity=ACTIVITY,
            data={"text_version": text_version, "already_subscribed": subscription is not None},
            now=now,
        )
    return True


def newsletter_signup_confirm(
    *, signup: SignUp, actor: str, now: datetime | None = None
) -> Subscription:
    """Confirm a sign-up from its link: the person (created if new, the address now
    verified) is subscribed.

    - A member of Advokatforeningen gets it on the basis of the active membership
      (R17): no consent is recorded; the basis note names the form and text.
    - Everyone else (Juristforbundet members, non-members) consents: the consent
      ledger records the text version the link carries, channel ``form``.
    An active subscription is left as it is. A link made before the person last
    unsubscribed is refused: an old link must not undo a later opt-out (R18).
    """
    now = now or timezone.now()
    with transaction.atomic():
        person = person_by_email(signup.email)
        if person is None:
            person = person_create(
                email=signup.email, given_name=signup.given_name,
                family_name=signup.family_name, actor=actor, verified=True, now=now,
            )
        subscription = Subscription.objects.filter(person=person).first()
        if subscription is not None and subscription.status == SubscriptionStatus.ACTIVE:
            return subscription
        if (
            subscription is not None and subscription.unsubscribed_at is not None
            and subscription.unsubscribed_at >= signup.issued_at
        ):
            raise ValidationError({"token": LINK_USED})
        if OptOut.objects.filter(person=person, at__gte=signup.issued_at).exists():
            raise ValidationError({"token": LINK_USED})
        if member_basis(person, now) == Organisation.ADVOKATFORENINGEN:
            return newsletter_subscribe(
                person=person, source=SubscriptionSource.FORM,
                organisation=Organisation.ADVOKATFORENINGEN,
                basis_note=f"form, text {signup.text_version}", actor=actor, now=now,
            )
        return newsletter_subscribe(
            person=person, source=SubscriptionSource.FORM, text_version=signup.text_version,
            actor=actor, now=now,
        )


def newsletter_unsubscribe(
    *,
    subscription: Subscription,
    channel: str,
    actor: str,
    now: datetime | None = None,
) -> Subscription:
    """End a subscription at once (R18) and record the withdrawal in the consent ledger.

    ``channel`` says where the opt-out came from: ``link`` (the link in every
    newsletter), ``portal``, ``staff``, or a member organisation
    (``advokatforeningen``, ``juristforbundet``) relaying an opt-out made on its
    member page. A withdrawal is recorded for membership-based subscriptions
    too, so the ledger shows every opt-out and where it came from. Unsubscribing
    twice changes nothing.
    """
    now = now or timezone.now()
    if not channel:
        raise ValidationError({"channel": UNSUBSCRIBE_CHANNEL_NEEDED})
    with transaction.atomic():
        updated = Subscription.objects.filter(
            pk=subscription.pk, status=SubscriptionStatus.ACTIVE
        ).update(
            status=SubscriptionStatus.UNSUBSCRIBED,
            unsubscribed_at=now,
            unsubscribe_channel=channel,
        )
        subscription.refresh_from_db()
        newsletter_optout_record(person=subscription.person, channel=channel, actor=actor,
                                 now=now)
        if not updated:
            return subscription
        consent_record(
            person=subscription.person,
            scope=ACTIVITY,
            action=ConsentAction.WITHDRAWN,
            channel=channel,
            actor=actor,
            now=now,
        )
        audit_log(
            actor=actor,
            action="newsletter.unsubscribed",
            person=subscription.person,
            activity=ACTIVITY,
            data={"subscription": subscription.pk, "channel": channel},
            now=now,
        )
    return subscription


def newsletter_optout_record(
    *, person: Person, channel: str, actor: str, now: datetime | None = None
) -> OptOut:
    """Remember that ``person`` opted out of the newsletter, subscribed or not (R18).

    While the opt-out stands no membership subscribes them again
    (:func:`newsletter_subscribe`); their own sign-up or consent lifts it. One
    row per person: the time and channel of the opt-out that started it (a
    repeated opt-out changes nothing; docs/decisions/0035). Audited when new.
    """
    now = now or timezone.now()
    if not channel:
        raise ValidationError({"channel": UNSUBSCRIBE_CHANNEL_NEEDED})
    with transaction.atomic():
        optout, created = OptOut.objects.get_or_create(
            person=person, defaults={"at": now, "channel": channel}
        )
        if created:
            audit_log(
                actor=actor, action="newsletter.optout_recorded", person=person,
                activity=ACTIVITY, data={"channel": channel}, now=now,
            )
    return optout


def newsletter_unsubscribe_email(
    *, email: str, channel: str, actor: str, now: datetime | None = None
) -> Subscription | None:
    """Unsubscribe whoever holds ``email`` (an opt-out relayed by a member organisation).

    Returns ``None`` when no subscription belongs to the address. A person known
    here by the address who is not subscribed has the opt-out remembered
    (:func:`newsletter_optout_record`), so a membership does not subscribe them
    later; of an address nobody here holds, nothing is stored.
    """
    from personvern.core.selectors import person_by_email

    person = person_by_email(email)
    if person is None:
        return None
    subscription = Subscription.objects.filter(person=person).first()
    if subscription is None:
        newsletter_optout_record(person=person, channel=channel, actor=actor, now=now)
        return None
    return newsletter_unsubscribe(subscription=subscription, channel=channel, actor=actor, now=now)


def _clean_subject(subject: str) -> str:
    """The subject, stripped; refused when empty or of more than one line (a mail header)."""
    if not subject.strip():
        raise ValidationError({"subject": SUBJECT_NEEDED})
    if "\n" in subject or "\r" in subject:
        raise ValidationError({"subject": SUBJECT_ONE_LINE})
    return subject.strip()


def newsletter_create(
    *, subject: str, body: str = "", actor: str, now: datetime | None = None
) -> Newsletter:
    """Create a mailing (not yet sent)."""
    subject = _clean_subject(subject)
    with transaction.atomic():
        newsletter = Newsletter.objects.create(subject=subject, body=body)
        audit_log(
            actor=actor,
            action="newsletter.created",
            activity=ACTIVITY,
            data={"newsletter": newsletter.pk},
            now=now,
        )
    return newsletter


def newsletter_update(
    *, newsletter: Newsletter, subject: str, body: str, actor: str, now: datetime | None = None
) -> Newsletter:
    """Change a mailing's subject or text; refused once it has started going out."""
    subject = _clean_subject(subject)
    with transaction.atomic():
        updated = Newsletter.objects.filter(
            pk=newsletter.pk, sent_at__isnull=True, send_cursor__isnull=True
        ).update(subject=subject, body=body)
        if not updated:
            raise ValidationError({"newsletter": CANNOT_CHANGE})
        audit_log(
            actor=actor, action="newsletter.changed", activity=ACTIVITY,
            data={"newsletter": newsletter.pk}, now=now,
        )
    newsletter.refresh_from_db()
    return newsletter


def newsletter_mark_sent(
    *, newsletter: Newsletter, actor: str, now: datetime | None = None
) -> Newsletter:
    """Record that ``newsletter`` went out now, to the recipients the selector gives.

    The delivery itself belongs to the mail worker; this records when and to
    how many, which is what the retention rules and the audit need.
    """
    from personvern.newsletter.selectors import recipients

    now = now or timezone.now()
    newsletter.refresh_from_db()
    if newsletter.sent_at is not None:
        raise ValidationError({"newsletter": ALREADY_SENT})
    if newsletter.send_cursor is not None:
        raise ValidationError({"newsletter": BEING_SENT})
    with transaction.atomic():
        count = recipients(as_of=now).count()
        Newsletter.objects.filter(pk=newsletter.pk).update(sent_at=now, recipient_count=count)
        newsletter.refresh_from_db()
        audit_log(
            actor=actor,
            action="newsletter.sent",
            activity=ACTIVITY,
            data={"newsletter": newsletter.pk, "recipients": count},
            now=now,
        )
    return newsletter


#: SMTP connections a send uses at once (``personvern newsletter send --connections``).
#: One connection carries one transaction at a time; a local mail server takes
#: about 1,100 copies a second on one, so several keep it busy (issue 10).
SEND_CONNECTIONS = 4


class MailingBusy(ValidationError):
    """Another run holds the mailing's lease: it is being sent right now, elsewhere."""


#: How long a run's hold on a mailing lasts without being renewed (it is renewed before
#: every batch, so one batch must go out within it). A run that died is taken over after.
SEND_LEASE = timedelta(minutes=10)
SEND_FAILED = _("Sending stopped: the mail server kept failing. Resume it when the server "
                "works again; nobody who got a copy gets a second one.")


def newsletter_queue_send(
    *, newsletter: Newsletter, actor: str, now: datetime | None = None
) -> None:
    """Have the worker send ``newsletter`` (the back office's "send"); nothing goes out here.

    Refused now if it is sent, being sent or empty, so staff hear of it at once.
    A mailing whose send gave up (or whose task is gone) is resumed: the worker
    goes on after the last batch the mail server accepted.
    """
    from personvern.newsletter.selectors import live_send_task
    from personvern.newsletter.tasks import send_newsletter

    now = now or timezone.now()
    newsletter.refresh_from_db()
    if newsletter.sent_at is not None:
        raise ValidationError({"newsletter": ALREADY_SENT})
    if not newsletter.body.strip():
        raise ValidationError({"body": BODY_NEEDED})
    resuming = newsletter.send_cursor is not None
    # A send under way (a task waiting or running, or a run holding the lease) is left
    # alone; one that gave up, or whose run died, is taken up again.
    if resuming and (
        live_send_task(newsletter)
        or (newsletter.send_lease_until is not None and newsletter.send_lease_until > now)
    ):
        raise ValidationError({"newsletter": BEING_SENT})
    with transaction.atomic():
        if resuming:
            claimed = Newsletter.objects.filter(
                pk=newsletter.pk, sent_at__isnull=True, send_cursor=newsletter.send_cursor,
                send_failed_at=newsletter.send_failed_at,
                send_queued_at=newsletter.send_queued_at,
            ).update(send_failed_at=None, send_error="", send_queued_at=now)
        else:
            # Claimed here (cursor 0, compare and set), so a second click or a second
            # member of staff cannot queue a second send; the task resumes from 0.
            claimed = Newsletter.objects.filter(
                pk=newsletter.pk, sent_at__isnull=True, send_cursor__isnull=True
            ).update(send_cursor=0, send_queued_at=now, send_done=0,
                     send_total=recipients_count(now))
        if not claimed:
            raise ValidationError({"newsletter": BEING_SENT})
        send_newsletter.enqueue(newsletter.pk, actor)
        audit_log(actor=actor, action="newsletter.send_resumed" if resuming
                  else "newsletter.send_queued", activity=ACTIVITY,
                  data={"newsletter": newsletter.pk}, now=now)
    newsletter.refresh_from_db()


def newsletter_send_failed(
    *, newsletter: Newsletter, error: str, actor: str, now: datetime | None = None
) -> None:
    """Record that sending ``newsletter`` gave up; staff see it failed and may resume it.

    ``error`` names the error's type only (messages may carry addresses).
    """
    now = now or timezone.now()
    with transaction.atomic():
        marked = Newsletter.objects.filter(pk=newsletter.pk, sent_at__isnull=True).update(
            send_failed_at=now, send_error=error[:200], send_lease_until=None, send_run=""
        )
        if marked:
            audit_log(actor=actor, action="newsletter.send_failed", activity=ACTIVITY,
                      data={"newsletter": newsletter.pk, "error": error[:200]}, now=now)


def recipients_count(now: datetime) -> int:
    """How many copies a mailing sent at ``now`` would go out in (those with an address)."""
    from personvern.newsletter.selectors import recipients

    first_address = EmailIdentity.objects.filter(person=OuterRef("person")).values("pk")
    return recipients(as_of=now).filter(Exists(first_address)).count()


def _absolute(path: str) -> str:
    return f"{settings.PERSONVERN_BASE_URL}{path}"


def unsubscribe_url(subscription: Subscription) -> str:
    """The absolute address of ``subscription``'s unsubscribe link (R18)."""
    from personvern.newsletter.selectors import unsubscribe_token

    return _absolute(reverse("newsletter:unsubscribe", args=[unsubscribe_token(subscription)]))


#: A link in a newsletter's text: up to white space or an angle bracket, without
#: the punctuation that ends the sentence around it.
_LINK = re.compile(r"https?://[^\s<>\"]+?(?=[.,;:!?)\]]*(?:\s|$|<))")


@dataclass(frozen=True)
class CopyTokens:
    """The tokens of one copy's links: unsubscribe, the open image, and each tracked link."""

    unsubscribe: str
    open: str
    click: Callable[[str], str]

    @classmethod
    def of(cls, subscription: Subscription, newsletter: Newsletter) -> CopyTokens:
        from personvern.newsletter.selectors import click_token, open_token, unsubscribe_token

        return cls(
            unsubscribe=unsubscribe_token(subscription),
            open=open_token(subscription, newsletter),
            click=lambda url: click_token(subscription, newsletter, url),
        )


def _tracked_text(text: str, click: Callable[[str], str]) -> str:
    """``text`` with each link replaced by this copy's tracked link to it (R16);
    ``click(url)`` gives the link's token."""
    return _LINK.sub(
        lambda m: _absolute(reverse("newsletter:click", args=[click(m.group(0))])), text
    )


def _copy_context(
    newsletter: Newsletter, subscription: Subscription, *, tracked: bool = True,
    tokens: CopyTokens | None = None,
) -> dict[str, Any]:
    tokens = tokens or CopyTokens.of(subscription, newsletter)
    text = _tracked_text(newsletter.body, tokens.click) if tracked else newsletter.body
    return {
        "newsletter": newsletter,
        "text": text,
        "unsubscribe_url": _absolute(reverse("newsletter:unsubscribe", args=[tokens.unsubscribe])),
        "open_url": _absolute(reverse("newsletter:open", args=[tokens.open])),
    }


def display_name(given_name: str, family_name: str) -> str:
    """A recipient's name as the To header shows it (one line, white space collapsed)."""
    return " ".join(f"{given_name} {family_name}".split())


def _copy(
    newsletter: Newsletter, subscription: Subscription, address: str, *,
    name: str | None = None, tokens: CopyTokens | None = None,
) -> mail.EmailMultiAlternatives:
    """One recipient's copy (R16, R18), built by Django's mail classes.

    Plain text with an HTML alternative, to the person's name and ``address``.
    Links in the text lead through this copy's tracked link (a click is
    recorded, then the reader goes on), the HTML part carries a 1×1 image whose
    loading records an open, and both end with the unsubscribe link, which the
    RFC 8058 headers repeat. A send builds its copies from a template made with
    this (:class:`personvern.newsletter.sending.CopyTemplate`); the preview, and
    a text that template cannot take, use it directly.
    """
    context = _copy_context(newsletter, subscription, tokens=tokens)
    url = context["unsubscribe_url"]
    if name is None:
        person = subscription.person
        name = display_name(person.given_name, person.family_name)
    message = mail.EmailMultiAlternatives(
        subject=newsletter.subject,
        body=render_to_string("newsletter/email/newsletter.txt", context),
        to=[formataddr((name, address))],
        headers={
            # RFC 2369 and RFC 8058: mail programs offer their own "unsubscribe"
            # button, which POSTs "List-Unsubscribe=One-Click" to this address.
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string("newsletter/email/newsletter.html", context), "text/html"
    )
    return message


#: The made-up recipient a preview is personalised for: no real subscriber's links.
SAMPLE_RECIPIENT = ("Kari", "Nordmann", "kari.nordmann@example.no")


@dataclass(frozen=True)
class Preview:
    """A mailing as a recipient receives it (subject, address, text and HTML parts)."""

    subject: str
    to: str
    text: str
    #: The HTML part's body (the part without its tracking image), safe to show in a page.
    html_body: str
    headers: dict[str, str]


def newsletter_preview(*, newsletter: Newsletter) -> Preview:
    """``newsletter`` rendered for a sample recipient, exactly as a copy is; nothing is sent.

    The sample is :data:`SAMPLE_RECIPIENT`, an unsaved subscription: its
    unsubscribe and tracked links name no subscription, so following them in
    the preview unsubscribes nobody and records nothing (a click still leads on).
    """
    given, family, address = SAMPLE_RECIPIENT
    sample = Subscription(person=Person(given_name=given, family_name=family))
    copy = _copy(newsletter, sample, address)
    context = _copy_context(newsletter, sample)
    return Preview(
        subject=str(copy.subject), to=f"{given} {family} <{address}>", text=str(copy.body),
        html_body=render_to_string("newsletter/email/_newsletter_body.html", context),
        headers={k: str(v) for k, v in copy.extra_headers.items()},
    )


def newsletter_send(
    *,
    newsletter: Newsletter,
    actor: str,
    batch_size: int | None = None,
    connections: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> Newsletter:
    """Send ``newsletter`` to everyone who may receive it now, one copy each (R16–R18).

    Who receives it is :func:`~personvern.newsletter.selectors.recipients`,
    decided again for each batch: consent or active membership, no objection,
    no restriction. The mailing is claimed first (its text can no longer
    change) and this run takes its lease (:data:`SEND_LEASE`), renewed before
    every batch: a second run (a second worker, the CLI beside the worker) is
    refused with :class:`MailingBusy` while the lease holds, so no batch goes
    out twice; a run that died is taken over once its lease ran out. Each
    copy goes to the person's first e-mail address and ends with their own
    unsubscribe link; the headers let mail programs unsubscribe in one click
    (RFC 8058). Copies go out in batches of ``batch_size``, each batch over
    ``connections`` SMTP connections at once (default :data:`SEND_CONNECTIONS`),
    built from one template per mailing (:mod:`personvern.newsletter.sending`,
    docs/decisions/0032); after each batch the mailing's ``send_cursor``, count and
    progress (``send_done`` of ``send_total``) are committed with an audit
    entry (counts only). If sending fails, the lease is let go, the error is
    raised and calling this again resumes after the last batch the mail server
    accepted. ``progress(sent, total)`` follows the batches of this run.
    """
    from personvern.newsletter.selectors import recipients
    from personvern.newsletter.sending import CopyTemplate, Recipient, send_batch

    now = now or timezone.now()
    size = batch_size or settings.PERSONVERN_BATCH_SIZE
    newsletter.refresh_from_db()
    if newsletter.sent_at is not None:
        raise ValidationError({"newsletter": ALREADY_SENT})
    if not newsletter.body.strip():
        raise ValidationError({"body": BODY_NEEDED})
    with_address = Exists(EmailIdentity.objects.filter(person_id=OuterRef("person_id")))
    run = uuid.uuid4().hex
    mine = Newsletter.objects.filter(pk=newsletter.pk, sent_at__isnull=True, send_run=run)

    def pending() -> QuerySet[Subscription]:
        # Decided again for every batch, as of that moment: whoever unsubscribes,
        # withdraws consent, objects or is restricted while a long send runs gets
        # nothing from the batches after (R18: at once).
        as_of = max(now, timezone.now())
        return recipients(as_of=as_of)

    # Take the mailing (cursor 0 if it was not claimed yet): from now on its text
    # cannot change, and a run started meanwhile is refused instead of sending again.
    clock = timezone.now()
    taken = Newsletter.objects.filter(pk=newsletter.pk, sent_at__isnull=True).filter(
        Q(send_lease_until__isnull=True) | Q(send_lease_until__lt=clock)
    ).update(send_run=run, send_lease_until=clock + SEND_LEASE,
             send_cursor=Coalesce(F("send_cursor"), 0), send_failed_at=None, send_error="")
    if not taken:
        newsletter.refresh_from_db()
        if newsletter.sent_at is not None:
            raise ValidationError({"newsletter": ALREADY_SENT})
        raise MailingBusy({"newsletter": SENT_ELSEWHERE})
    newsletter.refresh_from_db()
    cursor = newsletter.send_cursor or 0
    total = pending().filter(with_address, pk__gt=cursor).count()
    mine.update(send_total=newsletter.send_done + total)
    sent = 0
    if progress:
        progress(0, total)
    connections = max(1, connections or SEND_CONNECTIONS)
    pool = ThreadPoolExecutor(connections, "newsletter-send") if connections > 1 else None
    try:
        template = CopyTemplate(newsletter)
        while True:
            # A window of the next ``size`` subscriptions by id (a walk of the primary
            # key), and the recipients among them as plain values: whatever plan the
            # database picks, a batch looks at ``size`` rows, never at all the rest.
            upper = next(iter(Subscription.objects.filter(pk__gt=cursor).order_by("pk")
                              .values_list("pk", flat=True)[size - 1:size]), None)
            window = pending().filter(pk__gt=cursor)
            if upper is not None:
                window = window.filter(pk__lte=upper)
            rows = list(window.values_list(
                "pk", "person_id", "person__given_name", "person__family_name"))
            if not rows and upper is None:
                break
            # Renew the lease before the batch goes out: a run that lost it stops here.
            if not mine.filter(send_cursor=cursor).update(
                send_lease_until=timezone.now() + SEND_LEASE
            ):
                raise MailingBusy({"newsletter": SENT_ELSEWHERE})
            # Each person's first address, for the whole batch in one query (without
            # statistics PostgreSQL may read the address table once for it: once per
            # batch, never once per person). A person without any e-mail address (all
            # erased or never given) gets no copy.
            first: dict[int, str] = {}
            for person_id, address in EmailIdentity.objects.filter(
                person_id__in=[row[1] for row in rows]
            ).order_by("person_id", "pk").values_list("person_id", "address"):
                first.setdefault(person_id, address)
            batch = [
                Recipient(pk, person_id, display_name(given, family), first[person_id])
                for pk, person_id, given, family in rows if person_id in first
            ]
            delivered = refused = deferred = 0
            if batch:
                result = send_batch(template, batch, connections=connections, pool=pool)
                delivered = result.delivered
                for item in result.refused:
                    # A temporary answer (4xx, greylisting) goes to the outbox, which
                    # retries the copy with backoff; a final one is recorded against
                    # the copy there, for staff to see.
                    person = Person(pk=item.recipient.person_id)
                    outcome = None if not item.raw else outbox.refusal_of_copy(item.error)
                    if outcome is None or outcome.permanent:
                        detail = outcome.detail if outcome else (
                            "the address or name cannot be written in a mail header")
                        outbox.record_refused(template.stored(item.raw, item.recipient),
                                              kind="newsletter-copy", person=person,
                                              detail=detail)
                        refused += 1
                    else:
                        outbox.queue_message(template.stored(item.raw, item.recipient),
                                             kind="newsletter-copy", person=person)
                        deferred += 1
            previous, cursor = cursor, upper if upper is not None else rows[-1][0]
            handled = delivered + refused + deferred
            with transaction.atomic():
                # Compare and set: only the run holding the lease, from where it left off.
                if not mine.filter(send_cursor=previous).update(
                    send_cursor=cursor,
                    recipient_count=F("recipient_count") + delivered + deferred,
                    send_done=F("send_done") + handled,
                ):
                    raise MailingBusy({"newsletter": SENT_ELSEWHERE})
                if not rows:
                    continue  # a window without recipients: nothing went out to record
                audit_log(
                    actor=actor, action="newsletter.batch_sent", activity=ACTIVITY,
                    data={"newsletter": newsletter.pk, "copies": delivered,
                          "refused": refused, "retried_later": deferred},
                    now=now,
                )
            sent += handled
            if progress:
                progress(sent, total)
    except BaseException:
        mine.update(send_lease_until=None, send_run="")  # let a later run resume at once
        raise
    finally:
        if pool is not None:
            pool.shutdown()
    with transaction.atomic():
        if not mine.update(sent_at=now, send_cursor=None, send_lease_until=None, send_run="",
                           send_total=F("send_done")):
            raise MailingBusy({"newsletter": SENT_ELSEWHERE})
        newsletter.refresh_from_db()
        audit_log(
            actor=actor, action="newsletter.sent", activity=ACTIVITY,
            data={"newsletter": newsletter.pk, "recipients": newsletter.recipient_count},
            now=now,
        )
    return newsletter


def opened_or_clicked(tracked: Tracked, *, kind: InteractionKind, actor: str) -> None:
    """Record what a tracked link or image reports, if there is anything to record.

    Nothing for a subscription or mailing that no longer exists. An open is
    recorded once per copy: mail programs that load images ahead or again
    would otherwise count one reader many times.
    """
    if tracked.subscription is None or tracked.newsletter is None:
        return
    if kind == InteractionKind.OPEN and Interaction.objects.filter(
        subscription=tracked.subscription, newsletter=tracked.newsletter,
        kind=InteractionKind.OPEN,
    ).exists():
        return
    interaction_record(subscription=tracked.subscription, newsletter=tracked.newsletter,
                       kind=kind, url=tracked.url, actor=actor)


def interaction_record(
    *,
    subscription: Subscription,
    newsletter: Newsletter,
    kind: InteractionKind | str,
    url: str = "",
    actor: str,
    now: datetime | None = None,
) -> Interaction | None:
    """Record an open or a link click (R16).

    Nothing is recorded (``None``) for an ended subscription or while the
    person's processing is restricted (Art. 18): tracking is processing too.
    """
    now = now or timezone.now()
    if kind not in InteractionKind.values:
        raise ValidationError(
            {"kind": ValidationError(NOT_AN_INTERACTION_KIND, params={"kind": kind})}
        )
    if kind == InteractionKind.CLICK and not url:
        raise ValidationError({"url": LINK_NEEDED})
    if subscription.status != SubscriptionStatus.ACTIVE or is_restricted(subscription.person, now):
        return None
    with transaction.atomic():
        interaction = Interaction.objects.create(
            subscription=subscription,
            newsletter=newsletter,
            kind=kind,
            url=url if kind == InteractionKind.CLICK else "",
            at=now,
        )
        audit_log(
            actor=actor,
            action="newsletter.interaction_recorded",
            person=subscription.person,
            activity=ACTIVITY,
            data={"newsletter": newsletter.pk, "kind": str(kind)},
            now=now,
        )
    return interaction


#: The unsubscribe channel of a membership-based subscription whose membership ended.
MEMBERSHIP_ENDED_CHANNEL = "membership-ended"


def newsletter_end_lapsed_membership_basis(
    *,
    person_ids: Iterable[int],
    organisation: Organisation | str,
    actor: str,
    now: datetime | None = None,
    batch_size: int | None = None,
) -> int:
    """End the active membership-based subscriptions of ``person_ids`` whose basis is gone.

    A subscription on the basis of a membership of ``organisation`` (R17) loses it
    when the person is no longer an active member on ``now``'s day, unless a
    consent to the newsletter stands (the latest ledger event for it is a
    consent given: then the consent carries it on). Such a subscription is
    ended at ``now`` with the channel ``membership-ended``; no consent
    withdrawal is recorded, as none was given. Set-based: one UPDATE and one
    bulk insert of audit entries (one per person) per batch of persons; call it
    inside the transaction that ended the memberships. Returns how many ended.
    """
    from personvern.core.audit import entry_key, new_entry, pseudonym
    from personvern.core.models import AuditEntry

    now = now or timezone.now()
    today = timezone.localdate(now)
    size = batch_size or settings.PERSONVERN_BATCH_SIZE
    ids = sorted(set(person_ids))
    active_member = Membership.objects.filter(
        person_id=OuterRef("person_id"), organisation=OuterRef("organisation"),
        valid_from__lte=today,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    latest_consent = Subquery(
        ConsentEvent.objects.filter(person_id=OuterRef("person_id"), scope=ACTIVITY)
        .order_by("-at", "-pk")
        .values("action")[:1]
    )
    key = entry_key()
    ended = 0
    for start in range(0, len(ids), size):
        lapsed = list(
            Subscription.objects.filter(
                person_id__in=ids[start:start + size], status=SubscriptionStatus.ACTIVE,
                basis=SubscriptionBasis.MEMBERSHIP, organisation=str(organisation),
            )
            .annotate(member=Exists(active_member), consent_action=latest_consent)
            .filter(member=False)
            # No ledger event (NULL) or a withdrawal: no consent carries it on.
            .filter(Q(consent_action__isnull=True) | Q(consent_action=ConsentAction.WITHDRAWN))
            .values_list("pk", "person__public_id")
        )
        if not lapsed:
            continue
        Subscription.objects.filter(pk__in=[pk for pk, _public in lapsed]).update(
            status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=now,
            unsubscribe_channel=MEMBERSHIP_ENDED_CHANNEL,
        )
        AuditEntry.objects.bulk_create([
            new_entry(
                actor=actor, action="newsletter.basis_lapsed", subject=pseudonym(str(public)),
                activity=ACTIVITY,
                data={"subscription": pk, "organisation": str(organisation),
                      "channel": MEMBERSHIP_ENDED_CHANNEL},
                now=now, key=key,
            )
            for pk, public in lapsed
        ])
        ended += len(lapsed)
    return ended
