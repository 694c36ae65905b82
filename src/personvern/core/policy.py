"""The policy in force (``PERSONVERN_POLICY`` or the shipped default).

One cache, in :func:`personvern.policy.loader.active_policy`, keyed by the
file's path and modification time; this name is what the engines import.
"""

from __future__ import annotations

from personvern.policy import Policy
from personvern.policy.loader import active_policy


def current_policy() -> Policy:
    """The validated policy the engines and the notice use."""
    return active_policy()


def activity_title(activity_id: str) -> str:
    """An activity's title in the active language; the id where the policy has none."""
    from django.utils.translation import get_language

    try:
        return current_policy().activity(activity_id).title.get(get_language())
    except KeyError:
        return activity_id
