"""What a warehouse holds: whether a table exists and how many rows it has (DuckDB and PostgreSQL alike)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlhops_dagster.warehouse import Connection


def table_exists(con: Connection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` is a table or view (information_schema, so both engines answer)."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchall()
    return bool(rows[0][0])


def row_count(con: Connection, schema: str, table: str) -> int | None:
    """Rows of ``schema.table``; None when it does not exist."""
    if not table_exists(con, schema, table):
        return None
    return int(con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchall()[0][0])
