"""A PostgreSQL connection that speaks the small part of DuckDB's Python API the pipeline uses.

Domain code writes ``con.execute(sql, params).fetchall()`` / ``.df()`` with ``?``
placeholders; this adapter lets the same calls run on PostgreSQL (psycopg2 underneath,
autocommit, so a failed check query does not poison later statements).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd
import psycopg2
import psycopg2.extensions

# psycopg2 type codes of columns that pandas should see as datetimes / floats (as DuckDB's .df() gives them).
_DATETIME_OIDS = {1082, 1114, 1184}  # date, timestamp, timestamptz
_NUMERIC_OIDS = {1700}  # numeric


@dataclass(frozen=True)
class PostgresDsn:
    """Where the warehouse database is. The password comes from ``MLHOPS_PG_PASSWORD`` (read by the settings)
    and is never printed (``repr=False``) nor handed to dbt, which reads the same variable itself."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    dbname: str = "test"
    password: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_url(cls, url: str) -> PostgresDsn:
        """``postgresql://user@host:port/dbname`` (a password in the URL is refused: use the env var)."""
        parsed = urlparse(url)
        if parsed.password:
            raise ValueError("put the PostgreSQL password in MLHOPS_PG_PASSWORD, not in the URL")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=unquote(parsed.username or "postgres"),
            dbname=parsed.path.lstrip("/") or "postgres",
        )

    def connect(self) -> PostgresConnection:
        try:
            raw = psycopg2.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                dbname=self.dbname,
                password=self.password,
                connect_timeout=10,
            )
        except psycopg2.OperationalError as err:
            raise ConnectionError(
                f"cannot reach the PostgreSQL warehouse {self.user}@{self.host}:{self.port}/{self.dbname}: {err}"
            ) from err
        return PostgresConnection(raw)


class PostgresConnection:
    """DuckDB-style ``execute``/``fetchall``/``df`` over a psycopg2 connection (autocommit)."""

    def __init__(self, raw: psycopg2.extensions.connection) -> None:
        self.raw = raw
        self.raw.autocommit = True
        self._cursor: psycopg2.extensions.cursor | None = None

    @staticmethod
    def _translate(sql: str, params: Sequence[Any] | None) -> str:
        return sql if params is None else sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PostgresConnection:
        if self._cursor is not None:
            self._cursor.close()
        self._cursor = self.raw.cursor()
        self._cursor.execute(self._translate(sql, params), None if params is None else tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> PostgresConnection:
        with self.raw.cursor() as cur:
            cur.executemany(self._translate(sql, ()), [tuple(r) for r in rows])
        return self

    def fetchall(self) -> list[tuple]:
        if self._cursor is None or self._cursor.description is None:
            return []
        return self._cursor.fetchall()

    def df(self) -> pd.DataFrame:
        cur = self._cursor
        if cur is None or cur.description is None:
            return pd.DataFrame()
        frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
        for d in cur.description:
            if d.type_code in _DATETIME_OIDS:
                frame[d.name] = pd.to_datetime(frame[d.name])
            elif d.type_code in _NUMERIC_OIDS:
                frame[d.name] = frame[d.name].astype("float64")
        return frame

    @contextmanager
    def transaction(self) -> Iterator[PostgresConnection]:
        """Statements inside run as one transaction: all or nothing."""
        self.execute("BEGIN")
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
        self.raw.close()
