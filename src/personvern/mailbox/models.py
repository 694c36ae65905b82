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


class MailMessage(models.Model):
    """One e-mail to or from a person, as filed in a staff mailbox."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="mail_messages")
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    mailbox = models.CharField(_("mailbox"), max_length=100)
    subject = personal(models.CharField(_("subject"), max_length=300, blank=True))
    received_at = models.DateTimeField(_("received or sent"), default=timezone.now)
    keep_reason = models.CharField(
        _("reason to keep"), max_length=16, choices=KeepReason.choices, blank=True
    )
    keep_until = models.DateField(_("keep until"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail message")
        verbose_name_plural = _("e-mail messages")
        indexes = [models.Index(fields=["received_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(keep_reason="") | models.Q(keep_until__isnull=True),
                name="mail_keep_until_needs_reason",
            )
        ]

    def __str__(self) -> str:
        return self.subject or str(self.pk)
