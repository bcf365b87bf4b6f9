"""A throw-away PostgreSQL database per test module, on the server CI runs (127.0.0.1:5432, trust auth).

Outside CI the tests that need it skip with the reason when no server answers; in CI
(CI=true) an unreachable server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest

PG = {
    "host": os.environ.get("MLHOPS_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("MLHOPS_PG_PORT", "5432")),
    "user": os.environ.get("MLHOPS_PG_USER", "postgres"),
}
MAINTENANCE_DB = os.environ.get("MLHOPS_PG_DB", "test")
"""The server the tests use: the same variables a deployment would set, with the local defaults."""


def admin_connection():
    """An autocommit connection to the maintenance database, or a skip outside CI."""
    try:
        con = psycopg2.connect(
            connect_timeout=3, dbname=MAINTENANCE_DB, password=os.environ.get("MLHOPS_PG_PASSWORD") or None, **PG
        )
    except psycopg2.OperationalError as err:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL not reachable on {PG['host']}:{PG['port']} outside CI: {err}")
    con.autocommit = True
    return con


@contextmanager
def throwaway_database(prefix: str = "mlhops_ci") -> Iterator[str]:
    """Create a uniquely named database and drop it afterwards, so a test never touches another's tables."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = admin_connection()
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@contextmanager
def postgres_copy(duck, schemas: tuple[str, ...], prefix: str) -> Iterator:
    """A throw-away database holding a copy of ``schemas`` of a DuckDB connection, as the warehouse adapter."""
    from mlhops_dagster.warehouse import PostgresDsn, copy_duckdb_to_postgres

    with throwaway_database(prefix) as database:
        pg = PostgresDsn(host=PG["host"], port=PG["port"], user=PG["user"], dbname=database).connect()
        try:
            for schema in schemas:
                pg.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                copy_duckdb_to_postgres(duck, pg, schema)
            yield pg
        finally:
            pg.raw.close()
