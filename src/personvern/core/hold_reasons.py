"""A hold's reason in the reader's language.

Staff write the reason of a hold they place themselves, in their own words; it is
shown as written. An app that places holds with a reason of its own stores it in
a stable form, a fixed prefix and a code (``E-mail kept: customer``), and
registers here how to say it (:func:`register`, from the app's ``ready()``), so
the back office shows it in nb or en whatever language it was stored in.
"""

from __future__ import annotations

from collections.abc import Callable

_FORMATTERS: dict[str, Callable[[str], str]] = {}


def register(prefix: str, formatter: Callable[[str], str]) -> None:
    """Show reasons that start with ``prefix`` as ``formatter(rest of the reason)``."""
    _FORMATTERS[prefix] = formatter


def reason_label(reason: str) -> str:
    """The reason in words: a registered form translated, anything else as written."""
    for prefix, formatter in _FORMATTERS.items():
        if reason.startswith(prefix):
            return formatter(reason[len(prefix):])
    return reason
