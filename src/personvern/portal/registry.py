"""The parts of Min side, declared by the apps that own the data.

Min side shows a signed-in person what the system holds about them and lets
them act on it. It imports no domain app: each app declares, in its
``portal.py`` (discovered at start-up), the sections it contributes to the
page (:func:`register_section`) and the pages it needs under ``/me/`` for
actions such as cancelling or downloading (:func:`register_pages`).

A section's ``context`` callable gets the person and the time and returns the
template context of its part, or ``None`` when the app holds nothing about the
person (the section is then left out; a person with nothing at all sees a page
that says so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.urls import URLPattern, URLResolver
from django.utils.functional import Promise

if TYPE_CHECKING:
    from personvern.core.models import Person

Label = str | Promise
SectionContext = Callable[["Person", datetime], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Section:
    """One part of the Min side page.

    ``key``: unique, ``"<app>.<part>"``, used as the section's HTML id.
    ``title``: the section's heading (translatable).
    ``template``: rendered with the section's context plus ``person`` and ``now``.
    ``context``: ``(person, now) -> context`` or ``None`` when there is nothing to show.
    ``order``: position on the page, lowest first.
    ``always``: shown even when ``context`` returns ``None`` (a form to make a
        request belongs on every page, even an empty one).
    ``base_context``: optional ``() -> context`` given to the template whether or
        not ``context`` returned anything (an empty form, for example).
    """

    key: str
    title: Label
    template: str
    context: SectionContext
    order: int = 100
    always: bool = False
    base_context: Callable[[], Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class Pages:
    """URL patterns an app serves under ``/me/<prefix>/`` in namespace ``portal-<prefix>``."""

    prefix: str
    urlpatterns: Sequence[URLPattern | URLResolver]


_sections: dict[str, Section] = {}
_pages: dict[str, Pages] = {}


def register_section(section: Section) -> Section:
    """Declare a section of Min side; a key may be declared once."""
    if section.key in _sections and _sections[section.key] != section:
        raise ValueError(f"Min side section {section.key!r} is declared twice")
    _sections[section.key] = section
    return section


def register_pages(prefix: str, urlpatterns: Sequence[URLPattern | URLResolver]) -> Pages:
    """Declare an app's own pages of Min side, served under ``/me/<prefix>/``."""
    if prefix in _pages and list(_pages[prefix].urlpatterns) != list(urlpatterns):
        raise ValueError(f"Min side pages under {prefix!r} are declared twice")
    pages = Pages(prefix=prefix, urlpatterns=urlpatterns)
    _pages[prefix] = pages
    return pages


def sections() -> list[Section]:
    """Every declared section, in page order."""
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def pages() -> list[Pages]:
    """Every app's declared pages."""
    return sorted(_pages.values(), key=lambda p: p.prefix)
