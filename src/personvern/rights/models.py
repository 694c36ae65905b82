"""Data-subject requests (GDPR Art. 12 and 15–21) and their deadlines.

A :class:`Request` is the case file of one request. Its status and type names
follow the OpenGDPR specification where it has them (``access``, ``portability``,
``erasure``; ``pending``, ``in_progress``, ``completed``, ``cancelled``) and extend
it for the other rights. All writes go through :mod:`personvern.rights.services`.

The request survives the erasure of its person: ``person`` becomes NULL and the
case keeps only ``subject`` (the audit pseudonym), so the controller can still
show that it answered (Art. 5(2)) without keeping who asked.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from personvern.core.fields import personal
from personvern.core.models import Person


class RequestType(models.TextChoices):
    # A request whose right is not yet known (an e-mail naming no right or
    # several, a letter registered by whoever opened it): registered at once so
    # its deadline runs from receipt and it shows in the back office, then
    # classified by staff (``request_classify``) before anything is carried out.
    UNCLASSIFIED = "unclassified", _("not yet classified")
    ACCESS = "access", _("access (Art. 15)")
    RECTIFICATION = "rectification", _("rectification (Art. 16)")
    ERASURE = "erasure", _("erasure (Art. 17)")
    RESTRICTION = "restriction", _("restriction (Art. 18)")
    OBJECTION = "objection", _("objection (Art. 21)")
    PORTABILITY = "portability", _("portability (Art. 20)")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    IN_PROGRESS = "in_progress", _("in progress")
    COMPLETED = "completed", _("completed")
    # A context of its own: "cancelled" of a course registration is another word in nb.
    CANCELLED = "cancelled", pgettext_lazy("privacy request status", "cancelled")


#: The types a request can be classified as and carried out.
CLASSIFIED_TYPES = tuple(t for t in RequestType if t != RequestType.UNCLASSIFIED)

#: Statuses in which the deadline still matters.
OPEN_STATUSES = (RequestStatus.PENDING, RequestStatus.IN_PROGRESS)


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    POST = "post", _("post")
    WEB = "web", _("web form")
    API = "api", _("API")
    STAFF = "staff", _("received by staff")
    PHONE = "phone", _("phone")
    # Made by the person on Min side, signed in by a link mailed to an address we hold.
    PORTAL = "portal", _("Min side")


class VerificationMethod(models.TextChoices):
    CODE = "code", _("code sent by e-mail")
    LINK = "link", _("link sent by e-mail")
    STAFF = "staff", _("confirmed by staff")
    # Made while signed in to Min side: the sign-in link went to an address we hold (ADR 0018).
    SIGNED_IN = "signed-in", _("signed in to Min side")


class Request(models.Model):
    """One data-subject request, from receipt to its answer."""

    public_id = models.UUIDField(
        _("case reference"), default=uuid.uuid4, unique=True, editable=False
    )
    type = models.CharField(_("type"), max_length=20, choices=RequestType.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="privacy_requests",
        verbose_name=_("person"),
    )
    # The audit pseudonym of the person: outlives the person's erasure.
    subject = models.CharField(_("subject pseudonym"), max_length=64, blank=True, db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("received"))
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    created_by = models.CharField(_("registered by"), max_length=150)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="privacy_requests",
        verbose_name=_("assignee"),
    )
    notes = personal(models.TextField(_("notes"), blank=True))

    verification_sent_at = models.DateTimeField(_("verification sent"), null=True, blank=True)
    # Only a keyed digest of the code is stored; the code itself went by e-mail.
    verification_code_digest = models.CharField(max_length=64, blank=True, editable=False)
    verification_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verification_method = models.CharField(
        _("verification method"), max_length=10, choices=VerificationMethod.choices, blank=True
    )
    verification_note = personal(models.TextField(_("verification note"), blank=True))

    due_strict = models.DateField(_("due (calendar)"))
    due_legal = models.DateField(_("due (legal)"))
    extended_by_months = models.PositiveSmallIntegerField(_("extended by (months)"), default=0)
    extension_reason = models.TextField(_("reason for extension"), blank=True)
    extension_notified_at = models.DateTimeField(
        _("person told of extension"), null=True, blank=True
    )

    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # When the answer's file (access, portability) was last made available on Min side:
    # at completion, or again when the data protection officer publishes it anew. The
    # download period runs from here (NULL: from ``completed_at``).
    file_available_from = models.DateTimeField(
        _("file available from"), null=True, blank=True
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # What was done, what was kept and why: counts and labels, never identifiers.
    result = models.JSONField(_("result"), default=dict, blank=True)
    # SHA-256 of the Message-ID of the e-mail the request came from (intake
    # de-duplication); a digest because Message-IDs may carry an address.
    source_message_id = models.CharField(max_length=80, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        ordering = ["due_legal", "received_at"]
        indexes = [models.Index(fields=["status", "due_legal"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extended_by_months__lte=2),
                name="request_extension_at_most_two_months",
            )
        ]

    def __str__(self) -> str:
        # No personal data: the admin's log and lists show this string.
        return f"{self.get_type_display()} {str(self.public_id)[:8]}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
