"""The data subject and the privacy facts the engines rely on.

Consents and audit entries are append-only: their ``save()`` refuses updates so
that proof of consent (Art. 7(1)) and the audit chain cannot be rewritten by a
stray ``.save()``. All writes go through :mod:`personvern.core.services`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal


class Person(models.Model):
    """A data subject. Identified to the outside by a random ``public_id``."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    given_name = personal(models.CharField(_("given name"), max_length=150, blank=True))
    family_name = personal(models.CharField(_("family name"), max_length=150, blank=True))
    phone = personal(models.CharField(_("phone"), max_length=40, blank=True))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or str(self.public_id)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class EmailIdentity(models.Model):
    """An e-mail address of a person, stored normalised; unique across persons."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    address = personal(models.EmailField(_("e-mail address"), max_length=254, unique=True))
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("e-mail identity")
        verbose_name_plural = _("e-mail identities")

    def __str__(self) -> str:
        return self.address


class Organisation(models.TextChoices):
    ADVOKATFORENINGEN = "advokatforeningen", _("The Norwegian Bar Association")
    JURISTFORBUNDET = "juristforbundet", _("The Norwegian Association of Lawyers")


class Membership(models.Model):
    """Membership of a member organisation over a period (``valid_to`` open = current)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.CharField(
        _("organisation"), max_length=40, choices=Organisation.choices
    )
    #: The organisation's own member number, as its member feed names the member
    #: (blank for memberships recorded before the feeds: the first feed adopts them).
    member_id = personal(models.CharField(_("member number"), max_length=64, blank=True))
    valid_from = models.DateField(_("member from"))
    valid_to = models.DateField(_("member until"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["organisation", "person"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="membership_period_ordered",
            ),
            models.UniqueConstraint(
                fields=["organisation", "member_id"],
                condition=~models.Q(member_id=""),
                name="membership_member_id_unique_per_organisation",
            ),
        ]
        # Each member organisation's feed (file or API, docs/members.md) acts with
        # its own permission, so its token can touch its own members only (ADR 0023).
        permissions = [
            ("feed_advokatforeningen", _("Can send the member feed of Advokatforeningen")),
            ("feed_juristforbundet", _("Can send the member feed of Juristforbundet")),
        ]

    def __str__(self) -> str:
        return f"{self.get_organisation_display()} {self.valid_from}–{self.valid_to or ''}"


class AppendOnlyModel(models.Model):
    """A row that is written once and never updated."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} is append-only and cannot be changed.")
        super().save(*args, **kwargs)


class ConsentAction(models.TextChoices):
    GIVEN = "given", _("given")
    WITHDRAWN = "withdrawn", _("withdrawn")


class ConsentEvent(AppendOnlyModel):
    """One entry of the consent ledger: consent given or withdrawn for a scope.

    ``scope`` is a policy activity id (``newsletter``, ``web-analytics-consent``…).
    The current state of a consent is its latest event.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(_("scope"), max_length=80)
    action = models.CharField(_("action"), max_length=12, choices=ConsentAction.choices)
    text_version = models.CharField(_("text version"), max_length=80, blank=True)
    channel = models.CharField(_("channel"), max_length=40)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        indexes = [models.Index(fields=["person", "scope", "at"])]

    def __str__(self) -> str:
        from personvern.core.policy import activity_title

        return f"{activity_title(self.scope)}: {self.get_action_display()} {self.at:%Y-%m-%d}"


class HoldScope(models.TextChoices):
    PERSON = "person", _("a person")
    ACTIVITY = "activity", _("a processing activity")
    ROW = "row", _("one record")


class Hold(models.Model):
    """Keeps data from deletion for a stated reason until it expires or is lifted."""

    scope = models.CharField(_("scope"), max_length=10, choices=HoldScope.choices)
    reason = models.TextField(_("reason"))
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="holds"
    )
    activity = models.CharField(_("activity"), max_length=80, blank=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True
    )
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="person", person__isnull=False)
                    | models.Q(scope="activity") & ~models.Q(activity="")
                    | models.Q(scope="row", content_type__isnull=False, object_id__isnull=False)
                ),
                name="hold_scope_has_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.reason_label[:40]}"

    @property
    def reason_label(self) -> str:
        """The reason in the reader's language where an app stored it as a code."""
        from personvern.core.hold_reasons import reason_label

        return reason_label(self.reason)

    @property
    def activity_title(self) -> str:
        """The held activity's title in the reader's language (its id if unknown)."""
        from personvern.core.policy import activity_title

        return activity_title(self.activity) if self.activity else ""


class RestrictionGround(models.TextChoices):
    """The four situations of Art. 18(1)."""

    ACCURACY = "a", _("accuracy contested (Art. 18(1)(a))")
    UNLAWFUL = "b", _("unlawful processing, erasure opposed (Art. 18(1)(b))")
    LEGAL_CLAIMS = "c", _("needed by the person for legal claims (Art. 18(1)(c))")
    OBJECTION_PENDING = "d", _("objection pending verification (Art. 18(1)(d))")


class Restriction(models.Model):
    """Art. 18: processing of the person's data is restricted while active."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="restrictions")
    ground = models.CharField(_("ground"), max_length=1, choices=RestrictionGround.choices)
    note = models.TextField(_("note"), blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = _("restriction")
        verbose_name_plural = _("restrictions")

    def __str__(self) -> str:
        return self.get_ground_display()


class Objection(models.Model):
    """Art. 21: the person objects to an activity (``direct-marketing`` is absolute)."""

    DIRECT_MARKETING = "direct-marketing"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="objections")
    activity = models.CharField(_("activity"), max_length=80)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return self.activity


class AuditEntry(AppendOnlyModel):
    """One entry of the audit log, sealed later into a keyed hash chain.

    ``subject`` is a keyed pseudonym of the person, never an identifier.
    ``data`` holds no personal data (counts, field names, ids of non-person rows).
    ``personal`` may hold personal values that must be recorded (old and new value
    of a rectification); the chain covers only its salted digest, so erasing a
    person clears ``personal`` and leaves the chain verifiable.

    ``id`` is the order of insertion (a database sequence, taken without a lock
    in the transaction of the change). The sealer (:func:`personvern.core.audit.
    seal_pending`) later gives the entry its place in the chain: ``chain_seq``
    (gapless from 1), ``prev_hash`` and ``hash``. Until then ``chain_seq`` is
    null and the hashes are empty.
    """

    chain_seq = models.BigIntegerField(null=True, blank=True, unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=80)
    subject = models.CharField(max_length=64, blank=True, db_index=True)
    activity = models.CharField(max_length=80, blank=True)
    data = models.JSONField(default=dict)
    personal = models.JSONField(null=True, blank=True)
    personal_digest = models.CharField(max_length=64, blank=True)
    # HMAC of the content with a key derived from the audit key, computed on insert.
    mac = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["id"]
        indexes = [
            # The sealer's queue: only entries not yet sealed (a few at any time).
            models.Index(
                fields=["id"],
                condition=models.Q(chain_seq__isnull=True),
                name="core_audit_unsealed",
            )
        ]

    def __str__(self) -> str:
        from personvern.core.audit_labels import action_label

        return f"#{self.pk} {action_label(self.action)}"
