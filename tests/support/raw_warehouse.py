"""Hand-made raw warehouses for the dbt tests, in exactly the schema the ingest creates.

The tables come from the ingest's own ``create_raw_tables`` (contract columns + lineage),
so a change to the contract or its types reaches these tests without a second copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import duckdb

from mlhops_dagster.ehr.contract import FILES
from mlhops_dagster.ehr.ingest import create_raw_tables

Extract = tuple[str, str, str, str]
"""(extract_id, loaded_at, period_start, period_end) as raw.extract_manifest holds it."""


def pseudo(name: str) -> str:
    """A 64-hex stand-in for the ingest's HMAC pseudonym."""
    return hashlib.sha256(name.encode()).hexdigest()


def create_raw_warehouse(
    path: Path, extracts: Sequence[Extract], raw_rows: dict[str, list[dict]], *, reverse: bool = False
) -> None:
    """Create the raw schema as the ingest does and load ``raw_rows`` (file name -> rows as dicts).

    ``reverse`` inserts every table's rows in reverse order, to prove ids never depend on it.
    """
    with duckdb.connect(str(path)) as con:
        create_raw_tables(con)
        for extract in reversed(extracts) if reverse else extracts:
            con.execute(
                "INSERT INTO raw.extract_manifest (extract_id, loaded_at, period_start, period_end) "
                "VALUES (?, ?, ?, ?)",
                list(extract),
            )
        for extract_file in FILES:
            names = [c.name for c in extract_file.columns] + ["extract_id", "source_line"]
            rows = raw_rows.get(extract_file.name, [])
            unknown = {k for row in rows for k in row} - set(names)
            assert not unknown, f"test rows use columns outside the contract: {unknown}"
            placeholders = ", ".join("?" for _ in names)
            columns = ", ".join(f'"{name}"' for name in names)
            for row in reversed(rows) if reverse else rows:
                con.execute(
                    f"INSERT INTO raw.{extract_file.name} ({columns}) VALUES ({placeholders})",
                    [row.get(name) for name in names],
                )


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A hash of an OMOP table's ordered contents: equal digests mean byte-identical tables."""
    rows = con.execute(f"SELECT * FROM omop.{table} ORDER BY ALL").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()
