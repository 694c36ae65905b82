"""Newsletter subscriptions, mailings and interactions (R16–R18).

A person has at most one subscription; unsubscribing keeps the row (with
``unsubscribed_at``) so that the retention rule can run from the withdrawal and
a later re-subscription reuses it. Who may receive a mailing is decided by
:func:`personvern.newsletter.selectors.recipients`, never by a flag here alone:
the consent ledger, memberships, objections and restrictions all count.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal
from personvern.core.models import Organisation, Person


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    UNSUBSCRIBED = "unsubscribed", _("unsubscribed")


class SubscriptionSource(models.TextChoices):
    FORM = "form", _("sign-up form")
    MEMBER_ORGANISATION = "member-organisation", _("member organisation")
    IMPORT = "import", _("import")


class SubscriptionBasis(models.TextChoices):
    """Why the person may receive the newsletter (R17)."""

    CONSENT = "consent", _("consent")
    MEMBERSHIP = "membership", _("active membership of the Norwegian Bar Association")


class Subscription(models.Model):
    """A person's newsletter subscription."""

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, related_name="newsletter_subscription"
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    source = models.CharField(_("source"), max_length=24, choices=SubscriptionSource.choices)
    basis = models.CharField(_("basis"), max_length=16, choices=SubscriptionBasis.choices)
    organisation = models.CharField(
        _("member organisation"), max_length=40, choices=Organisation.choices, blank=True
    )
    basis_note = models.CharField(_("basis note"), max_length=200, blank=True)
    #: The consent-ledger entry that grants a consent-based subscription (R17):
    #: the proof of consent the access report points to. Empty for a membership basis.
    consent = models.ForeignKey(
        "core.ConsentEvent", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("consent"),
    )
    subscribed_at = models.DateTimeField(_("subscribed"), default=timezone.now)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    unsubscribe_channel = models.CharField(_("unsubscribed through"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [
            models.Index(fields=["status", "basis"]),
            models.Index(fields=["unsubscribed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="active", unsubscribed_at__isnull=True)
                | models.Q(status="unsubscribed", unsubscribed_at__isnull=False),
                name="newsletter_subscription_status_matches_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(basis="membership") | ~models.Q(organisation=""),
                name="newsletter_membership_basis_names_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_status_display()})"


class OptOut(models.Model):
    """The person said no to the newsletter (R18), whether or not they were subscribed.

    While it stands, no subscription on the basis of a membership is made for
    them (a member organisation passing its members on): the membership would
    otherwise bring back the mail they refused. Their own sign-up or consent
    lifts it (the row goes). Only when and through which channel: the person
    is the link, no address or name is kept here (docs/decisions/0035).
    """

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, related_name="newsletter_optout"
    )
    at = models.DateTimeField(_("opted out"), default=timezone.now)
    channel = models.CharField(_("opted out through"), max_length=40)

    class Meta:
        verbose_name = _("newsletter opt-out")
        verbose_name_plural = _("newsletter opt-outs")

    def __str__(self) -> str:
        return f"{self.person} ({self.channel})"


class Newsletter(models.Model):
    """One mailing of the newsletter. Holds no personal data."""

    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(
        _("text"), blank=True,
        help_text=_("Plain text. The unsubscribe link is added at the bottom of every copy."),
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    #: While a mailing goes out: the last subscription (in primary-key order) whose
    #: copy was handed to the mail server, so an interrupted send resumes after it.
    send_cursor = models.BigIntegerField(null=True, blank=True, editable=False)
    #: When staff had the worker send it (the back office's "send"); empty for a CLI send.
    send_queued_at = models.DateTimeField(_("sending queued"), null=True, blank=True)
    #: Progress of the send: copies handled so far (delivered, refused or left to the
    #: outbox's retries) out of the recipients counted when the latest run started.
    send_done = models.PositiveIntegerField(_("copies handled"), default=0)
    send_total = models.PositiveIntegerField(_("copies to send"), null=True, blank=True)
    #: The send gave up (the mail server kept failing): shown as failed, and staff may
    #: resume it from ``send_cursor``. ``send_error`` names the error's type only.
    send_failed_at = models.DateTimeField(_("sending failed"), null=True, blank=True)
    send_error = models.CharField(_("error"), max_length=200, blank=True)
    #: The run that sends it holds a lease, renewed before every batch: a second run
    #: (a second worker, the CLI) is refused while the lease holds, so no batch goes
    #: out twice; a run that died leaves a lease that expires and can be taken over.
    send_run = models.CharField(max_length=32, blank=True, editable=False)
    send_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("newsletter")
        verbose_name_plural = _("newsletters")

    def __str__(self) -> str:
        return self.subject


class InteractionKind(models.TextChoices):
    OPEN = "open", _("opened")
    CLICK = "click", _("clicked a link")


class Interaction(models.Model):
    """A subscriber opened a newsletter or clicked a link in it (R16)."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="interactions"
    )
    newsletter = models.ForeignKey(
        Newsletter, on_delete=models.CASCADE, related_name="interactions"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=InteractionKind.choices)
    url = personal(models.URLField(_("link"), max_length=500, blank=True))
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [models.Index(fields=["newsletter", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="open") | ~models.Q(url=""),
                name="newsletter_click_has_url",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"
