"""Fixtures of the inquiry tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Tests compare English texts; the nb test activates Norwegian itself."""
    with translation.override("en"):
        yield
