"""Who receives the worker's reminders: the staff of a role, or the configured fallback."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model


def role_addresses(role: str) -> list[str]:
    """E-mail addresses of the active staff users in ``role`` (a group of core.roles)."""
    users = get_user_model().objects.filter(
        is_active=True, is_staff=True, groups__name=role
    ).exclude(email="")
    return sorted({user.email for user in users})


def dpo_addresses() -> list[str]:
    """The data protection officer's addresses: staff in the role, else PERSONVERN_DPO_EMAIL,
    else the controller's contact address from the policy."""
    from personvern.core.policy import current_policy
    from personvern.core.roles import DPO

    addresses = role_addresses(DPO)
    if addresses:
        return addresses
    configured = [a.strip() for a in settings.PERSONVERN_DPO_EMAIL.split(",") if a.strip()]
    if configured:
        return configured
    return [current_policy().controller.email]
