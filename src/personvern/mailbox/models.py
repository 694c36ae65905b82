"""E-mail correspondence with people (R19).

Mail is normally kept about a year from receipt. A message that must be kept
longer (an ongoing sales process, an existing customer or partner, other
relevant work) gets a ``keep_reason`` and a row hold in the core (see
:func:`personvern.mailbox.services.mail_message_keep`): the retention engine
skips held rows and says why in its forecast, and the hold expires on
``keep_until``, after which the ordinary rule applies again.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal
from personvern.core.models import Person


class Direction(models.TextChoices):
    IN = "in", _("received")
    OUT = "out", _("sent")


class KeepReason(models.TextChoices):
    NONE = "", _("no reason: normal retention")
    SALES_PROCESS = "sales-process", _("ongoing sales process")
    CUSTOMER = "customer", _("existing customer")
    PARTNER = "partner", _("partner relationship")
    OTHER = "other", _("other relevant work")


class ScanState(models.TextChoices):
    """What the virus scanner said of a message's parts when the sweep first saw it (R21)."""

    NONE = "", _("not scanned by the sweep")  # filed by hand, or found again after its row went
    CLEAN = "clean", _("clean")
    INFECTED = "infected", _("malware found: do not open")
    UNSCANNED = "unscanned", _("not scanned yet")
    DISABLED = "disabled", _("scanning disabled")


class MailMessage(models.Model):
    """One e-mail to or from a person, as filed in a staff mailbox.

    A message the sweep found on the mail server (:mod:`personvern.mailbox.sweep`)
    is identified there by ``mailbox``, ``uid_validity`` and ``uid``; a message
    to several known people has one row per person. ``message_id`` lets the
    sweep find its rows again when the server renumbers the mailbox.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="mail_messages")
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    mailbox = models.CharField(_("mailbox"), max_length=100)
    subject = personal(models.CharField(_("subject"), max_length=300, blank=True))
    received_at = models.DateTimeField(_("received or sent"), default=timezone.now)
    keep_reason = models.CharField(
        _("reason to keep"), max_length=16, choices=KeepReason.choices, blank=True
    )
    keep_until = models.DateField(_("keep until"), null=True, blank=True)
    uid_validity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    uid = models.BigIntegerField(_("UID"), null=True, blank=True)
    # Often names the sender's host, sometimes the address: personal like the subject.
    message_id = personal(models.CharField(_("Message-ID"), max_length=255, blank=True))
    scan = models.CharField(
        _("virus scan"), max_length=10, choices=ScanState.choices, blank=True
    )

    class Meta:
        verbose_name = _("e-mail message")
        verbose_name_plural = _("e-mail messages")
        indexes = [
            models.Index(fields=["received_at"]),
            models.Index(fields=["mailbox", "uid_validity", "uid"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(keep_reason="") | models.Q(keep_until__isnull=True),
                name="mail_keep_until_needs_reason",
            ),
            models.UniqueConstraint(
                fields=["mailbox", "uid_validity", "uid", "person"],
                condition=models.Q(uid__isnull=False),
                name="mail_message_once_per_person",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or str(self.pk)


class MailboxState(models.Model):
    """How far the sweep has read a staff mailbox: the highest UID it has looked at.

    Only for this UIDVALIDITY; when the server renumbers the mailbox, the sweep
    starts over (and finds its rows again by Message-ID).
    """

    mailbox = models.CharField(_("mailbox"), max_length=100, unique=True)
    uid_validity = models.BigIntegerField(_("UIDVALIDITY"))
    last_uid = models.BigIntegerField(_("highest UID seen"), default=0)
    swept_at = models.DateTimeField(_("last swept"), null=True, blank=True)

    class Meta:
        verbose_name = _("swept mailbox")
        verbose_name_plural = _("swept mailboxes")

    def __str__(self) -> str:
        return self.mailbox
