"""Fixtures of the public site tests (the browser ones live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings

STATS_MIDDLEWARE = "personvern.webstats.middleware.WebStatsMiddleware"


@pytest.fixture
def stats_middleware() -> Iterator[None]:
    """The statistics middleware in the stack (it is in the settings; kept explicit)."""
    middleware = list(settings.MIDDLEWARE)
    if STATS_MIDDLEWARE not in middleware:
        middleware.append(STATS_MIDDLEWARE)
    with override_settings(MIDDLEWARE=middleware):
        yield
