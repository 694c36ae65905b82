"""The policy in force: loaded once from ``PERSONVERN_POLICY`` or the shipped default."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from personvern.policy import Policy, load_policy


@lru_cache(maxsize=1)
def current_policy() -> Policy:
    """The validated policy the engines and the notice use."""
    path = settings.PERSONVERN_POLICY
    return load_policy(Path(path) if path else None)


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "PERSONVERN_POLICY":
        current_policy.cache_clear()
