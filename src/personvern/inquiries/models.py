"""Inquiries (R15): a question through the web form or to an account manager.

An inquiry may create a customer profile (a :class:`~personvern.core.models.Person`)
so that it can be followed up; it is kept only while it is relevant, which the
policy expresses as a period after the last contact.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal
from personvern.core.models import Person


class InquiryChannel(models.TextChoices):
    WEB = "web", _("web form")
    ACCOUNT_MANAGER = "account-manager", _("account manager")


class Inquiry(models.Model):
    """One inquiry and its follow-up dates."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="inquiries")
    channel = models.CharField(_("channel"), max_length=20, choices=InquiryChannel.choices)
    company = personal(models.CharField(_("company"), max_length=200, blank=True))
    subject = personal(models.CharField(_("subject"), max_length=200))
    message = personal(models.TextField(_("message")))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    # Set to ``received_at`` on arrival and moved on by every follow-up, so the
    # "last-contact" anchor is a plain indexed column.
    last_contact_at = models.DateTimeField(_("last contact"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        indexes = [models.Index(fields=["last_contact_at"]), models.Index(fields=["received_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_contact_at__gte=models.F("received_at")),
                name="inquiry_contact_after_receipt",
            )
        ]

    def __str__(self) -> str:
        return self.subject
