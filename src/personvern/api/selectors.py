"""Reads on API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from personvern.api.models import ApiToken


def api_token_list() -> QuerySet[ApiToken]:
    """Every token with its user, newest first (the hashes are never shown)."""
    return ApiToken.objects.select_related("user").order_by("-created_at", "-pk")


def api_token_live(*, username: str, name: str) -> ApiToken | None:
    """The unrevoked token ``name`` of the user ``username``, if any."""
    return ApiToken.objects.filter(
        user__username=username, name=name, revoked_at__isnull=True
    ).first()
