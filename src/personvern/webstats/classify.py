"""Coarse, non-identifying descriptions of a request for the anonymous statistics.

Only a device class and a browser family are kept from the User-Agent string:
the full string (with version numbers, OS build, installed add-ons) narrows
down a browser far more than a statistic needs.
"""

from __future__ import annotations

import re

from personvern.webstats.models import DeviceClass

_BOT = re.compile(r"bot|crawl|spider|slurp|curl|wget|python-requests|headless", re.I)
_MOBILE = re.compile(r"mobi|android|iphone|ipad|ipod|windows phone", re.I)
# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("samsung", re.compile(r"SamsungBrowser/")),
    ("firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("chrome", re.compile(r"\b(Chrome|Chromium|CriOS)/")),
    ("safari", re.compile(r"\bSafari/")),
)

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_DIGITS = re.compile(r"\d[\d .-]{3,}\d")
SEARCH_TERM_MAX = 100
PATH_MAX = 200


def is_bot(user_agent: str) -> bool:
    """Whether a User-Agent is a crawler or a script: such requests are no visits.

    The one rule for the live counter and the log import: neither counts them.
    """
    return _BOT.search(user_agent) is not None


def device_class(user_agent: str) -> str:
    """``bot``, ``mobile``, ``desktop`` or ``other`` (no User-Agent at all)."""
    if not user_agent.strip():
        return DeviceClass.OTHER
    if is_bot(user_agent):
        return DeviceClass.BOT
    if _MOBILE.search(user_agent):
        return DeviceClass.MOBILE
    return DeviceClass.DESKTOP


def browser_family(user_agent: str) -> str:
    """The browser family without its version (``firefox``, ``chrome``…; ``other``)."""
    for family, pattern in _BROWSERS:
        if pattern.search(user_agent):
            return family
    return "other"


def clean_search_term(raw: str) -> str:
    """The search term as counted: trimmed, lower-cased, with e-mail addresses and
    phone or identity numbers masked, cut to :data:`SEARCH_TERM_MAX` characters."""
    term = " ".join(raw.split()).lower()
    term = _EMAIL.sub("[e-mail]", term)
    term = _DIGITS.sub("[number]", term)
    return term[:SEARCH_TERM_MAX]

