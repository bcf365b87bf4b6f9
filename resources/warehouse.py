"""The warehouse resource: a DuckDB file (embedded default) or a PostgreSQL database."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from mlhops_dagster.warehouse import (
    Connection,
    PostgresDsn,
    copy_duckdb_to_postgres,
    snapshot_postgres_to_duckdb,
)

DUCKDB_POOL = "duckdb_warehouse"
"""Every asset and check that opens the warehouse runs in this pool (limit 1: DuckDB allows one writer)."""


class WarehouseResource(dg.ConfigurableResource):
    """Short-lived connections to the warehouse, and a DuckDB engine for work that needs DuckDB.

    On ``backend="postgres"`` the DuckDB-only work (raw ingest, Athena loading, the feature
    SQL) runs in a scratch DuckDB file beside ``path``; :meth:`publish` copies its result
    tables into PostgreSQL and :meth:`analytics` snapshots CDM tables out of it.
    """

    backend: str = "duckdb"
    path: str
    """The DuckDB warehouse file; on postgres, scratch DuckDB files go beside it."""
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_dbname: str = "test"
    pg_password: str | None = None
    """From ``MLHOPS_PG_PASSWORD`` as a ``dg.EnvVar`` reference (never a config value shown in the UI)."""
    cdm_schema: str = "omop"
    memory_limit: str = ""
    catalog: str = ""
    """Attach the DuckDB file under this name (a site's CDM file may be named like its schema, e.g. cdm.duckdb
    holding schema cdm, which makes ``cdm.person`` ambiguous); empty = the file's own name."""

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgres"

    def _duckdb(self, path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = (
            {"memory_limit": self.memory_limit} if self.memory_limit else {}
        )
        if not self.catalog:
            return duckdb.connect(path, read_only=read_only, config=config)
        con = duckdb.connect(config=config)
        con.execute(
            f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS \"{self.catalog}\"{' (READ_ONLY)' if read_only else ''}"
        )
        con.execute(f'USE "{self.catalog}"')
        return con

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Connection]:
        """The warehouse itself: DuckDB's connection, or the PostgreSQL adapter (same execute/fetchall/df)."""
        con: Connection
        if self.is_postgres:
            con = PostgresDsn(self.pg_host, self.pg_port, self.pg_user, self.pg_dbname, self.pg_password).connect()
        else:
            con = self._duckdb(self.path, read_only=read_only)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def duckdb_engine(self, keep: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection for DuckDB-only work: the warehouse file itself, or (postgres) a scratch file.

        ``keep`` names a scratch file that outlives the call (so e.g. a loaded vocabulary is reused).
        """
        if not self.is_postgres:
            with self.connect() as con:
                yield con  # type: ignore[misc]
            return
        scratch = Path(self.path).parent / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            folder = scratch if keep else Path(stack.enter_context(tempfile.TemporaryDirectory(dir=scratch)))
            con = self._duckdb(str(folder / f"{keep or 'scratch'}.duckdb"))
            stack.callback(con.close)
            yield con

    def publish(
        self,
        engine: duckdb.DuckDBPyConnection,
        schema: str,
        where: tuple[str, str] | None = None,
        tables: Sequence[str] | None = None,
    ) -> dict[str, int]:
        """Copy ``schema`` from the DuckDB engine into the PostgreSQL warehouse (nothing to do on DuckDB)."""
        if not self.is_postgres:
            return {}
        with self.connect() as pg:
            return copy_duckdb_to_postgres(engine, pg, schema, tables=tables, where=where)  # type: ignore[arg-type]

    @contextmanager
    def analytics(self, tables: Sequence[str]) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection where ``cdm_schema.<table>`` can be read for each of ``tables``."""
        if not self.is_postgres:
            with self.connect() as con:
                yield con  # type: ignore[misc]
            return
        with self.duckdb_engine() as engine, self.connect() as pg:
            snapshot_postgres_to_duckdb(pg, engine, self.cdm_schema, tables)  # type: ignore[arg-type]
            yield engine
