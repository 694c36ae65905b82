"""The command line on a database that is not there yet (issue 7, 3.12).

Real processes, as an operator runs them: ``personvern demo`` with a
``PERSONVERN_DATA_DIR`` and an SQLite file in a directory that does not exist
yet, and commands against a database nobody migrated (an empty SQLite file and
a fresh PostgreSQL database), which must say to run the migrations instead of
printing a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _personvern(*argv: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        PERSONVERN_ENV="development",
        PERSONVERN_DATABASE_URL=database_url,
        PERSONVERN_DATA_DIR=str(data_dir),
        # Given, so that nothing creates DATA_DIR for a generated development secret.
        PERSONVERN_SECRET_KEY="test-secret-key-for-a-fresh-data-dir",
        PERSONVERN_CLAMD_URL="",
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "personvern", *argv],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.mark.slow
def test_demo_creates_the_data_dir_and_the_sqlite_files_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "var"
    database = data_dir / "db" / "demo.sqlite3"

    result = _personvern(
        "demo", "--persons", "10", "--seed", "3", "--as-of", "2026-06-01",
        database_url=f"sqlite:///{database}", data_dir=data_dir,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert database.is_file()
    assert (data_dir / "demo-logins.txt").is_file()


UNMIGRATED = "has not been migrated: run `personvern manage migrate`."


@pytest.mark.parametrize(
    "argv", [("rights", "list"), ("audit", "verify"), ("manage", "createsuperuser",
                                                        "--noinput", "--username", "x")]
)
def test_an_unmigrated_sqlite_file_is_named_with_the_command_to_run(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    database = tmp_path / "empty.sqlite3"
    database.touch()

    result = _personvern(*argv, database_url=f"sqlite:///{database}", data_dir=tmp_path)

    assert result.returncode == 2, result.stderr
    assert f"The database at {database} {UNMIGRATED}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture
def empty_postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped afterwards); its URL."""
    if connection.vendor != "postgresql":
        pytest.skip("runs when the suite runs on PostgreSQL")
    import psycopg

    db = connection.settings_dict
    host, port, user = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432, db.get("USER")
    name = f"pv_unmigrated_{uuid.uuid4().hex[:12]}"
    params = {"host": host, "port": port, "user": user, "dbname": "postgres", "autocommit": True}
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = f"{user}@" if user else ""
    try:
        yield f"postgres://{auth}{host}:{port}/{name}"
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_an_unmigrated_postgresql_database_is_named_without_credentials(
    tmp_path: Path, empty_postgres_database: str
) -> None:
    result = _personvern("rights", "list", database_url=empty_postgres_database,
                         data_dir=tmp_path)

    name = empty_postgres_database.rsplit("/", 1)[1]
    assert result.returncode == 2, result.stderr
    assert f"/{name} {UNMIGRATED}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "postgres@" not in result.stderr


def test_other_database_errors_are_not_hidden(tmp_path: Path) -> None:
    # A migrated database whose table was dropped behind Django's back: not a
    # missing migration, so the real error shows.
    database = tmp_path / "migrated.sqlite3"
    url = f"sqlite:///{database}"
    assert _personvern("manage", "migrate", database_url=url, data_dir=tmp_path).returncode == 0
    import sqlite3

    with sqlite3.connect(database) as raw:
        raw.execute("DROP TABLE rights_request")

    result = _personvern("rights", "list", database_url=url, data_dir=tmp_path)

    assert result.returncode == 1
    assert "no such table: rights_request" in result.stderr
    assert UNMIGRATED not in result.stderr
