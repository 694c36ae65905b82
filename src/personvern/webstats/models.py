"""Web statistics (R30) and consent-based web analytics (R29).

Two kinds of data, kept apart on purpose:

- :class:`PageView` is anonymous: counts per hour, page, search term and coarse
  device class. The client's IP address is never read, so nothing in it can be
  linked to a person. It is not a holder of personal data.
- :class:`AnalyticsConsent` and :class:`AnalyticsEvent` carry a visitor id (a
  random UUID in a first-party cookie) that singles out one browser. They exist
  only for visitors who consented (Art. 6(1)(a)), are declared as holders of the
  ``web-analytics-consent`` activity, and are deleted on withdrawal.

All writes go through :mod:`personvern.webstats.services`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal
from personvern.core.models import AppendOnlyModel


class ConsentChoice(models.TextChoices):
    GRANTED = "granted", _("granted")
    WITHDRAWN = "withdrawn", _("withdrawn")


class AnalyticsConsent(AppendOnlyModel):
    """Proof of a visitor's consent to analytics cookies (Art. 7(1)): one ledger entry.

    Rows are appended, never edited, with one sanctioned exception: when the
    visitor withdraws, ``withdrawn_at`` is stamped on every earlier row of that
    visitor (one set-based UPDATE in the withdrawal service), so the retention
    rule "0 days after withdrawal" removes the visitor's whole ledger together and
    never leaves a lone "granted" row that would read as consent still in force.
    A visitor's current choice is its latest row.
    """

    visitor_id = personal(models.UUIDField(_("visitor id")))
    choice = models.CharField(_("choice"), max_length=10, choices=ConsentChoice.choices)
    policy_version = models.CharField(_("policy version"), max_length=40)
    text_version = models.CharField(_("text version"), max_length=40)
    at = models.DateTimeField(_("time"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("analytics consent")
        verbose_name_plural = _("analytics consents")
        indexes = [
            models.Index(fields=["visitor_id", "at"], name="webstats_consent_visitor_at"),
            models.Index(fields=["at"], name="webstats_consent_at"),
            models.Index(fields=["withdrawn_at"], name="webstats_consent_withdrawn"),
        ]

    def __str__(self) -> str:
        return f"{self.choice} {self.at:%Y-%m-%d %H:%M}"


class AnalyticsEvent(models.Model):
    """One page seen by a visitor who consented to analytics (identifying: R29).

    Recorded only while the visitor's latest consent is "granted" and the
    browser sends no Global Privacy Control signal.
    """

    visitor_id = personal(models.UUIDField(_("visitor id")))
    path = models.CharField(_("page"), max_length=200)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("analytics event")
        verbose_name_plural = _("analytics events")
        indexes = [
            models.Index(fields=["visitor_id"], name="webstats_event_visitor"),
            models.Index(fields=["at"], name="webstats_event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.at:%Y-%m-%d %H:%M}"


class DeviceClass(models.TextChoices):
    DESKTOP = "desktop", _("desktop")
    MOBILE = "mobile", _("mobile")
    BOT = "bot", _("bot")
    OTHER = "other", _("other")


class PageView(models.Model):
    """Anonymous visit counts (R30): one row per (day, hour, page, search term, device).

    Why this is not a holder of personal data: a row is a *count* of requests in
    an hour bucket, keyed by the page path, the site search term and a coarse
    device class (desktop/mobile/bot and the browser family, never the full
    User-Agent string or its version numbers). The IP address is never read, no
    cookie or visitor id is involved, and no row describes a single request, so
    nothing here can be linked back to a person. Search terms are what visitors
    typed into the site search; e-mail addresses and long digit runs (phone or
    national identity numbers) are masked before they are counted.
    """

    day = models.DateField(_("day"))
    hour = models.PositiveSmallIntegerField(_("hour"))
    path = models.CharField(_("page"), max_length=200)
    search_term = models.CharField(_("search term"), max_length=100, blank=True)
    device = models.CharField(_("device"), max_length=10, choices=DeviceClass.choices)
    browser = models.CharField(_("browser"), max_length=20)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("page view count")
        verbose_name_plural = _("page view counts")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "hour", "path", "search_term", "device", "browser"],
                name="webstats_pageview_bucket",
            ),
            models.CheckConstraint(
                condition=models.Q(hour__gte=0, hour__lte=23), name="webstats_pageview_hour"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h {self.path}: {self.count}"


class ImportedLog(models.Model):
    """An access log (or the part of it read so far) whose page views were counted.

    What makes ``webstats import-log`` idempotent. ``digest`` is a keyed hash
    (HMAC-SHA256 under a key derived from ``SECRET_KEY``) of the log's first
    ``lines`` lines: the same log imported again, or renamed by log rotation, or
    grown since by appended lines, starts with a recorded prefix, and only the
    lines after the longest such prefix are counted. Keyed, because a log's
    lines hold client addresses: a plain hash of a one-line log could be matched
    by trying every address. So nothing here is personal data; a new secret key
    forgets which logs were imported.
    """

    digest = models.CharField(_("digest"), max_length=64, unique=True)
    lines = models.PositiveIntegerField(_("lines"))
    source = models.CharField(_("file name"), max_length=255)
    page_views = models.PositiveIntegerField(_("page views counted"))
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    class Meta:
        verbose_name = _("imported access log")
        verbose_name_plural = _("imported access logs")

    def __str__(self) -> str:
        return f"{self.source} ({self.lines} lines)"
