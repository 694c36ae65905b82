"""Recruitment (R24–R27): positions, applications, documents, interview and reference notes.

Documents are stored in the database, not on disk: retention and erasure delete
rows set-based (``QuerySet.delete()``), and a file on disk would outlive its row.
Keeping the bytes in the row means deleting the application deletes the CV.

Retention cohorts (R27) are disjoint so that exactly one rule applies to an
application: ``hired`` (kept until the employment ends), else ``posted-position``
(until the position's recruitment closes), else ``open-application`` (210 days).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal
from personvern.core.models import Person
from personvern.core.scanning import ScanStatus


class Position(models.Model):
    """A posted position. Holds no personal data."""

    title = models.CharField(_("title"), max_length=200)
    posted_at = models.DateTimeField(_("posted"), default=timezone.now)
    recruitment_closed_at = models.DateTimeField(_("recruitment closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")

    def __str__(self) -> str:
        return self.title


OPEN_APPLICATION = _("open application")


class ApplicationSource(models.TextChoices):
    FINN = "finn", _("Finn.no")
    DIRECT = "direct", _("sent to us directly")


class ApplicationStatus(models.TextChoices):
    RECEIVED = "received", _("received")
    INTERVIEW = "interview", _("in interview")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn by the applicant")
    HIRED = "hired", _("hired")


class Application(models.Model):
    """A job application; ``position`` empty means an open (general) application."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="applications")
    position = models.ForeignKey(
        Position, on_delete=models.PROTECT, null=True, blank=True, related_name="applications",
        verbose_name=_("position"),
    )
    source = models.CharField(_("source"), max_length=10, choices=ApplicationSource.choices)
    external_ref = models.CharField(_("reference at the job portal"), max_length=100, blank=True)
    letter = personal(models.TextField(_("application letter"), blank=True))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.RECEIVED,
    )
    hired_at = models.DateTimeField(_("hired"), null=True, blank=True)
    employment_ended_at = models.DateTimeField(_("employment ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [models.Index(fields=["received_at"]), models.Index(fields=["hired_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="hired", hired_at__isnull=False)
                | ~models.Q(status="hired") & models.Q(hired_at__isnull=True),
                name="application_hired_has_date",
            ),
            models.CheckConstraint(
                condition=models.Q(employment_ended_at__isnull=True)
                | models.Q(hired_at__isnull=False),
                name="application_employment_end_needs_hire",
            ),
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="application_unique_external_ref",
            ),
        ]

    def __str__(self) -> str:
        target = str(self.position) if self.position_id else str(OPEN_APPLICATION)
        return f"{self.person} – {target}"


class DocumentKind(models.TextChoices):
    LETTER = "letter", _("application letter")
    CV = "cv", _("CV")
    DIPLOMA = "diploma", _("diploma")
    REFERENCE = "reference", _("reference")
    OTHER = "other", _("other")


class ApplicationDocument(models.Model):
    """A document attached to an application (R24), stored in the row.

    Scanned for malware on arrival (R21): an infected document is refused, and
    only a ``clean`` one may be opened.
    """

    MAX_BYTES = 10 * 1024 * 1024

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="documents",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=DocumentKind.choices)
    filename = personal(models.CharField(_("file name"), max_length=200))
    content_type = models.CharField(_("content type"), max_length=100)
    content = personal(models.BinaryField(_("content")))
    size = models.PositiveIntegerField(_("size in bytes"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    scan_status = models.CharField(
        _("virus scan"), max_length=10, choices=ScanStatus.choices, default=ScanStatus.UNSCANNED
    )
    scanned_at = models.DateTimeField(_("scanned"), null=True, blank=True)

    class Meta:
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")

    def __str__(self) -> str:
        return self.filename


class NoteKind(models.TextChoices):
    INTERVIEW = "interview", _("interview")
    REFERENCE_CHECK = "reference-check", _("reference check")


class ApplicationNote(models.Model):
    """Notes from an interview or a reference check (R24)."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="notes",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NoteKind.choices)
    text = personal(models.TextField(_("note")))
    written_by = models.CharField(_("written by"), max_length=150)
    written_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("application note")
        verbose_name_plural = _("application notes")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.written_at:%Y-%m-%d}"
