"""One rule for "is this a CI run?", for every test helper that needs a service or a file.

Outside CI a missing system service (clamd, Dovecot) or the customer's statement
skips the tests that need it, so a developer's ``./run test`` works on any
machine; in CI the same absence fails them, so CI can never pass without them.
``CI`` counts as set when it is ``1``, ``true`` or ``yes`` (any case, as CI
services set it; ``.ci/run`` sets ``CI=true``).
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

CI_VALUES = frozenset({"1", "true", "yes"})


def in_ci() -> bool:
    """Whether the tests run in CI (the ``CI`` environment variable is 1, true or yes)."""
    return os.environ.get("CI", "").strip().lower() in CI_VALUES


def skip_or_fail(why: str) -> NoReturn:
    """Skip the test outside CI; fail it in CI, where nothing may be skipped for ``why``."""
    if in_ci():
        pytest.fail(why)
    pytest.skip(why)
