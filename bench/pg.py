"""The PostgreSQL server the benchmarks create their databases on (BENCH_POSTGRES_URL)."""

from __future__ import annotations

import os

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def pg_url(name: str) -> str:
    """The URL of database ``name`` on the benchmark server."""
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def pg_admin(sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None
