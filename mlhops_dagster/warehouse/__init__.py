"""Warehouse backends: a DuckDB file (embedded default) or a PostgreSQL database, behind one connection API.

DuckDB stays the engine for work that needs its CSV reader or its SQL dialect (raw ingest,
Athena vocabulary loading, the feature SQL); on PostgreSQL that work runs in a scratch
DuckDB and its tables are copied in or out with ``COPY`` (:mod:`.transfer`). Everything
else (dbt, data-quality checks, monitoring tables) runs in the warehouse itself.
"""

import duckdb

from mlhops_dagster.warehouse.postgres import PostgresConnection, PostgresDsn
from mlhops_dagster.warehouse.source import CdmSource, parse_cdm_source
from mlhops_dagster.warehouse.transfer import (
    copy_duckdb_to_postgres,
    snapshot_postgres_to_duckdb,
    write_frame,
)

Connection = duckdb.DuckDBPyConnection | PostgresConnection
"""A warehouse connection: both answer ``execute(sql, params)`` with ``fetchall()`` and ``df()``."""

__all__ = [
    "Connection",
    "CdmSource",
    "PostgresConnection",
    "PostgresDsn",
    "copy_duckdb_to_postgres",
    "parse_cdm_source",
    "snapshot_postgres_to_duckdb",
    "write_frame",
]
