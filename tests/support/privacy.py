"""Search a DuckDB warehouse and an MLflow store for leaked identifiers (by SQL, not by bytes:
DuckDB compresses strings, so a byte search of the file would prove nothing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb


def warehouse_hits(con: duckdb.DuckDBPyConnection, needle: str) -> list[str]:
    columns = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' AND table_schema NOT IN ('information_schema', 'pg_catalog')"
    ).fetchall()
    hits = []
    for schema, table, column in columns:
        found = con.execute(
            f'SELECT count(*) FROM "{schema}"."{table}" WHERE contains("{column}", ?)', [needle]
        ).fetchall()[0][0]
        if found:
            hits.append(f"{schema}.{table}.{column}")
    return hits


def mlflow_hits(mlflow_dir: Path, needle: str) -> list[str]:
    hits = []
    db = sqlite3.connect(mlflow_dir / "mlflow.db")
    try:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for row in db.execute(f'SELECT * FROM "{table}"').fetchall():
                if any(isinstance(v, str) and needle in v for v in row):
                    hits.append(f"mlflow.db:{table}")
                    break
    finally:
        db.close()
    for path in (mlflow_dir / "artifacts").rglob("*"):
        if (
            path.is_file()
            and path.suffix in {".json", ".yaml", ".html", ".txt", ".md", ""}
            and needle.encode() in path.read_bytes()
        ):
            hits.append(str(path))
    return hits
