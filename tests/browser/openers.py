"""What an axe page check needs to open a page: shared by ``pages_*.py`` modules.

Each ``tests/browser/pages_<area>.py`` module defines ``PAGES: dict[str, Opener]``
(a name -> a function opening the page in the state to check);
``test_accessibility.py`` checks every one of them in nb and en, at a desktop
width and at 390 px.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from playwright.sync_api import Page

#: Opens one page in one state: ``open(page, base, lang)``; called once per language
#: and width, on a fresh browser context each time.
Opener = Callable[[Page, str, str], None]

#: A counter for unique names and addresses across openers.
seq = itertools.count(1)


def goto(path: str) -> Opener:
    """An opener that loads ``path`` and expects a 2xx answer."""

    def open_(page: Page, base: str, lang: str) -> None:
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"

    return open_
