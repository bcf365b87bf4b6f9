"""The DuckDB warehouse resource."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

DUCKDB_POOL = "duckdb_warehouse"
"""Every asset and check that opens the DuckDB file runs in this pool (limit 1: one writer)."""


class WarehouseResource(dg.ConfigurableResource):
    """Short-lived connections to the DuckDB warehouse file (the same path dbt's profile reads)."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only)
        try:
            yield con
        finally:
            con.close()
