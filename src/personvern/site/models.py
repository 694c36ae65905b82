"""Files sent through the secure channel (R20), attached to the inquiry they came with.

The content is stored in the database, not on disk: erasing or expiring the
inquiry then removes the file in the same transaction (cascade), and no copy
outlives its row in a media directory. Uploads are limited in size and type
(:mod:`personvern.site.uploads`) and scanned for malware before they are stored
(R21, :mod:`personvern.core.scanning`): an infected file is refused, and only a
file whose ``scan_status`` is ``clean`` can be downloaded.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal
from personvern.core.scanning import ScanStatus
from personvern.inquiries.models import Inquiry


class SecureUpload(models.Model):
    """A file a person sent with a message through the secure form."""

    inquiry = models.ForeignKey(
        Inquiry, on_delete=models.CASCADE, related_name="uploads", verbose_name=_("inquiry")
    )
    filename = personal(models.CharField(_("file name"), max_length=200))
    content_type = models.CharField(_("file type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content = personal(models.BinaryField(_("content")))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    scan_status = models.CharField(
        _("virus scan"), max_length=10, choices=ScanStatus.choices, default=ScanStatus.UNSCANNED
    )
    scanned_at = models.DateTimeField(_("scanned"), null=True, blank=True)

    class Meta:
        verbose_name = _("secure upload")
        verbose_name_plural = _("secure uploads")

    def __str__(self) -> str:
        return self.filename


class CacheEntry(models.Model):
    """A row of the shared cache (``PERSONVERN_CACHE_URL`` empty): the rate-limit counters.

    The table is the one Django's ``createcachetable`` makes, declared as a model
    so that a migration creates it (no manual step) and test flushes empty it.
    Keys are keyed hashes (:func:`personvern.core.ratelimits.keyed_digest`), values
    counts: nothing in it names a person or an address.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "personvern_cache"
        verbose_name = _("cache entry")
        verbose_name_plural = _("cache entries")

    def __str__(self) -> str:
        return self.cache_key
