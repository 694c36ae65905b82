"""Competitions and their entries (R23).

An entry stores name and contact information (through the person), workplace
and the entry itself, so that the entrant can get feedback; it is removed when
the competition's retention period after its end has run out.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal
from personvern.core.models import Person


class Competition(models.Model):
    """A competition. Holds no personal data.

    Its public page is ``/competitions/<slug>/``; it takes entries until ``ends_at``.
    """

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("address"), max_length=80, unique=True, help_text=_(
        "The last part of the competition's web address, after /competitions/."))
    description = models.TextField(
        _("description and rules"), blank=True,
        help_text=_("Shown on the entry page: what to do, the prize, how the winner is chosen."),
    )
    ends_at = models.DateTimeField(_("ends"))

    class Meta:
        verbose_name = _("competition")
        verbose_name_plural = _("competitions")

    def __str__(self) -> str:
        return self.title


class Entry(models.Model):
    """One person's entry in a competition."""

    competition = models.ForeignKey(
        Competition, on_delete=models.CASCADE, related_name="entries",
        verbose_name=_("competition"),
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="competition_entries")
    workplace = personal(models.CharField(_("workplace"), max_length=200, blank=True))
    contribution = personal(models.TextField(_("entry")))
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    feedback = personal(models.TextField(_("feedback"), blank=True))
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    is_winner = models.BooleanField(_("winner"), default=False)
    feedback_sent_at = models.DateTimeField(_("feedback sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        constraints = [
            models.UniqueConstraint(
                fields=["competition", "person"], name="competition_one_entry_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.competition}: {self.person}"
