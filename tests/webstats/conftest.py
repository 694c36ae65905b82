"""Fixtures of the web statistics tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

STATS_MIDDLEWARE = "personvern.webstats.middleware.WebStatsMiddleware"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Tests compare English texts; the nb test activates Norwegian itself."""
    with translation.override("en"):
        yield


@pytest.fixture
def stats_middleware() -> Iterator[None]:
    """The statistics middleware in the stack (until the lead's settings list it)."""
    middleware = list(settings.MIDDLEWARE)
    if STATS_MIDDLEWARE not in middleware:
        middleware.append(STATS_MIDDLEWARE)
    with override_settings(MIDDLEWARE=middleware):
        yield

