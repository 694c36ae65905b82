"""What Min side's sign-in stores: that a link was used, and nothing about whom.

A sign-in link carries its own data (signed, see :mod:`personvern.portal.signin`);
the only thing the server must remember is that a link was used, so that it
cannot be used twice. That is a digest of the link's random nonce and the time
of use: no person, no address. The worker deletes the rows once the links they
stand for have expired anyway (``portal-sign-in-links`` job).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class UsedSignInLink(models.Model):
    """A sign-in link that has been used (single use): the SHA-256 of its nonce."""

    nonce_digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"used {self.used_at:%Y-%m-%d %H:%M}"
