"""Moving tables between DuckDB and PostgreSQL with ``COPY`` (CSV through a temporary file), and writing frames.

Both engines write an unquoted empty field for NULL and ``""`` for an empty string, so the
CSV dialect round-trips values exactly. Frames bound for PostgreSQL are written by DuckDB's
CSV writer too: pandas' ``to_csv`` writes ``''`` and NULL alike (an empty field), which
``COPY`` reads back as NULL. Each copy into PostgreSQL is one transaction.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from mlhops_dagster.warehouse.postgres import PostgresConnection

_DUCK_TO_PG = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BOOLEAN": "boolean",
    "HUGEINT": "numeric",
    "UBIGINT": "numeric",
}
_PG_TO_DUCK = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "numeric": "DOUBLE",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
}


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pg_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return duck_type.replace("DECIMAL", "numeric")
    if duck_type not in _DUCK_TO_PG:
        raise ValueError(f"no PostgreSQL type for DuckDB type {duck_type}")
    return _DUCK_TO_PG[duck_type]


def _pg_columns(pg: PostgresConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return [
        (str(n), str(t))
        for n, t in pg.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def copy_duckdb_to_postgres(
    duck: duckdb.DuckDBPyConnection,
    pg: PostgresConnection,
    schema: str,
    tables: Sequence[str] | None = None,
    where: tuple[str, str] | None = None,
) -> dict[str, int]:
    """Copy ``schema`` tables from DuckDB into PostgreSQL; return rows copied per table.

    With ``where=(column, value)`` only those rows move and they replace the same rows in
    PostgreSQL (one extract of the raw layer); without it each table is replaced whole.
    Tables are created when missing; a PostgreSQL table whose columns differ is an error
    naming the table (nothing is dropped behind the user's back).
    """
    if tables is None:
        tables = [
            r[0]
            for r in duck.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' "
                "ORDER BY 1",
                [schema],
            ).fetchall()
        ]
    copied: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="mlhops_copy_") as tmp, pg.transaction():
        pg.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
        for table in tables:
            columns = [
                (str(n), str(t))
                for n, t in duck.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                    "AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
            ]
            wanted = [(n, _pg_type(t)) for n, t in columns]
            existing = _pg_columns(pg, schema, table)
            relation = f"{_q(schema)}.{_q(table)}"
            if not existing:
                pg.execute(f"CREATE TABLE {relation} ({', '.join(f'{_q(n)} {t}' for n, t in wanted)})")
            elif [n for n, _ in existing] != [n for n, _ in wanted]:
                raise ValueError(
                    f"PostgreSQL table {schema}.{table} has columns {[n for n, _ in existing]}, "
                    f"the warehouse writes {[n for n, _ in wanted]}: migrate or drop it first"
                )
            if where is None:
                pg.execute(f"DELETE FROM {relation}")
                predicate = ""
            else:
                pg.execute(f"DELETE FROM {relation} WHERE {_q(where[0])} = ?", [where[1]])
                predicate = f" WHERE {_q(where[0])} = {_lit(where[1])}"
            path = Path(tmp) / f"{table}.csv"
            duck.execute(
                f"COPY (SELECT * FROM {_q(schema)}.{_q(table)}{predicate}) TO {_lit(str(path))} "
                "(FORMAT csv, HEADER false)"
            )
            column_list = ", ".join(_q(n) for n, _ in wanted)
            with path.open() as handle, pg.raw.cursor() as cur:
                cur.copy_expert(f"COPY {relation} ({column_list}) FROM STDIN WITH (FORMAT csv)", handle)
                copied[table] = cur.rowcount
    return copied


def snapshot_postgres_to_duckdb(
    pg: PostgresConnection, duck: duckdb.DuckDBPyConnection, schema: str, tables: Sequence[str]
) -> dict[str, int]:
    """Copy PostgreSQL tables into the same schema of a (scratch) DuckDB; absent tables are skipped."""
    duck.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
    copied: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="mlhops_snapshot_") as tmp:
        for table in tables:
            columns = _pg_columns(pg, schema, table)
            if not columns:
                continue
            path = Path(tmp) / f"{table}.csv"
            names = ", ".join(_q(n) for n, _ in columns)
            with path.open("w") as handle, pg.raw.cursor() as cur:
                cur.copy_expert(
                    f"COPY (SELECT {names} FROM {_q(schema)}.{_q(table)}) TO STDOUT WITH (FORMAT csv)", handle
                )
            types = ", ".join(f"{_lit(n)}: {_lit(_PG_TO_DUCK.get(t, 'VARCHAR'))}" for n, t in columns)
            duck.execute(
                f"CREATE OR REPLACE TABLE {_q(schema)}.{_q(table)} AS SELECT * FROM read_csv({_lit(str(path))}, "
                f"header=false, columns={{{types}}}, quote='\"', escape='\"', nullstr='', allow_quoted_nulls=false)"
            )
            copied[table] = int(duck.execute(f"SELECT count(*) FROM {_q(schema)}.{_q(table)}").fetchall()[0][0])
    return copied


def _frame_pg_type(dtype) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint" if dtype.itemsize > 4 else "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "double precision"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "timestamptz"  # DuckDB writes the instant with its offset (as the DuckDB backend keeps TIMESTAMPTZ)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    return "text"


def _frame_to_csv(frame: pd.DataFrame, path: Path) -> None:
    """The frame as headerless CSV in the dialect ``COPY ... (FORMAT csv)`` reads back exactly.

    DuckDB's writer quotes ``''`` as ``""`` and leaves NULL (None, NaN, NaT, pd.NA) an
    unquoted empty field; it reads the frame as the DuckDB backend of :func:`write_frame` does.
    """
    with duckdb.connect() as duck:
        duck.register("mlhops_frame", frame)
        duck.execute(f"COPY mlhops_frame TO {_lit(str(path))} (FORMAT csv, HEADER false)")


def write_frame(
    con: duckdb.DuckDBPyConnection | PostgresConnection,
    schema: str,
    table: str,
    frame: pd.DataFrame,
    replace_where: tuple[str, str] | None = None,
) -> None:
    """Write a DataFrame to ``schema.table`` on either backend.

    Without ``replace_where`` the table is replaced whole (created from the frame's
    columns); with ``(column, value)`` the table must exist and only those rows are replaced.
    """
    relation = f"{_q(schema)}.{_q(table)}"
    if isinstance(con, duckdb.DuckDBPyConnection):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
        con.register("mlhops_frame", frame)
        try:
            if replace_where is None:
                con.execute(f"CREATE OR REPLACE TABLE {relation} AS SELECT * FROM mlhops_frame")
            else:
                con.execute(f"DELETE FROM {relation} WHERE {_q(replace_where[0])} = ?", [replace_where[1]])
                con.execute(f"INSERT INTO {relation} BY NAME SELECT * FROM mlhops_frame")
        finally:
            con.unregister("mlhops_frame")
        return
    with tempfile.TemporaryDirectory(prefix="mlhops_frame_") as tmp, con.transaction():
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
        if replace_where is None:
            con.execute(f"DROP TABLE IF EXISTS {relation}")
            con.execute(
                f"CREATE TABLE {relation} ("
                + ", ".join(f"{_q(str(c))} {_frame_pg_type(frame[c].dtype)}" for c in frame.columns)
                + ")"
            )
        else:
            con.execute(f"DELETE FROM {relation} WHERE {_q(replace_where[0])} = ?", [replace_where[1]])
        path = Path(tmp) / "frame.csv"
        _frame_to_csv(frame, path)
        with path.open() as handle, con.raw.cursor() as cur:
            cur.copy_expert(
                f"COPY {relation} ({', '.join(_q(str(c)) for c in frame.columns)}) FROM STDIN WITH (FORMAT csv)", handle
            )
