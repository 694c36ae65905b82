"""Staff API tokens.

Only the SHA-256 of a token is stored: a leaked database does not leak working
credentials, and the plain token is shown once, when it is created. Tokens are
random (256 bits), so an unsalted hash is enough — there is nothing to
brute-force, unlike a password.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import not_personal


class ApiToken(models.Model):
    """A bearer token that lets one staff user call the REST API."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = not_personal(
        models.CharField(_("name"), max_length=100),
        "the label a staff member gives the token (\"CRM sync\"), not a person's name",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="api_token_name_unique_per_user")
        ]

    def __str__(self) -> str:
        return self.name
