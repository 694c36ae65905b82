"""Test set-up shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when
PERSONVERN_DATABASE_URL points at one. With CI=true an unreachable PostgreSQL
fails the run instead of skipping it.
"""

from __future__ import annotations

import os

os.environ.setdefault("PERSONVERN_ENV", "test")
os.environ.setdefault("PERSONVERN_DATA_DIR", os.path.join(os.path.dirname(__file__), "var", "test"))


def pytest_configure(config: object) -> None:
    url = os.environ.get("PERSONVERN_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        try:
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            import pytest

            raise pytest.UsageError(
                f"PostgreSQL at {url} is unreachable ({exc}); the PostgreSQL run cannot be skipped."
            ) from exc
