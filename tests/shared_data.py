"""Data built once for a group of tests that only need it as their starting point.

Building the demo takes seconds; several tests start from the same demo and
then only read it (or change it and are rolled back). :func:`built_once`
builds it once, in a transaction opened on the test database before the
group's first test and rolled back after its last (docs/decisions/0034).
Each test of the group still runs in its own ``db`` transaction, which
pytest-django nests inside it as a savepoint: whatever a test writes is rolled
back to the built data before the next test starts, on SQLite and PostgreSQL
alike.

Only for tests on the ``db`` fixture: a ``transactional_db`` test (or one
with a live server, another process or thread writing) must not run inside
the group, since it would see, or flush, data of an open transaction. Give the
fixture a class scope and put the tests that share it in one class.

The demo seals its audit entries into the anchor file; each test gets its own
copy of the anchor as it was after the build (:func:`anchor_copy`), so a test
that seals more does not leave the next test an anchor ahead of its database.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from pytest_django import DjangoDbBlocker


@contextmanager
def built_once(
    django_db_blocker: DjangoDbBlocker, tmp_path: Path, build: Callable[[], None]
) -> Iterator[Path]:
    """Run ``build`` in a transaction that stays open until the context ends, then
    is rolled back. Yields the audit anchor the build sealed into."""
    anchor = tmp_path / "audit-anchor"
    with django_db_blocker.unblock(), override_settings(PERSONVERN_AUDIT_ANCHOR=anchor):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            build()
            yield anchor
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def built_once_fixture(name: str, build: Callable[[], None], *, scope: str) -> Any:
    """A fixture called ``name``, of ``scope`` ("module", "class"), that runs ``build``
    once per scope (:func:`built_once`) and gives the audit anchor the build sealed.
    Assign it to the same name in the test module: ``_built = built_once_fixture(...)``."""

    @pytest.fixture(scope=scope, name=name)  # type: ignore[call-overload]
    def fixture(
        django_db_setup: None, django_db_blocker: DjangoDbBlocker,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[Path]:
        with built_once(django_db_blocker, tmp_path_factory.mktemp("demo"), build) as anchor:
            yield anchor

    return fixture


def anchor_copy(built: Path, anchor: Path) -> None:
    """Start the test's own audit anchor (``anchor``) from the one the build left."""
    if built.exists():
        shutil.copyfile(built, anchor)
