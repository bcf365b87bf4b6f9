"""Bring your own CDM: where an existing OMOP CDM lives (``MLHOPS_CDM_SOURCE``).

Accepted forms::

    /path/to/cdm.duckdb                     a DuckDB file, CDM tables in schema ``cdm``
    duckdb:///path/to/cdm.duckdb?schema=main
    postgresql://user@host:5432/dbname?schema=cdm

As in OHDSI's tools (cdmDatabaseSchema / resultsDatabaseSchema), the CDM schema is only
read; the pipeline writes its own results (quality, features, monitoring schemas) into
the same database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from mlhops_dagster.warehouse.postgres import PostgresDsn

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_CDM_SCHEMA = "cdm"


@dataclass(frozen=True)
class CdmSource:
    backend: str  # "duckdb" | "postgres"
    schema: str
    path: Path | None = None
    dsn: PostgresDsn | None = None

    def describe(self) -> str:
        if self.dsn is not None:
            where = f"{self.dsn.user}@{self.dsn.host}:{self.dsn.port}/{self.dsn.dbname}"
        else:
            where = str(self.path)
        return f"{self.backend} {where}, schema {self.schema}"


def parse_cdm_source(value: str) -> CdmSource:
    """Parse ``MLHOPS_CDM_SOURCE``; a value that names nothing usable is an error that says why."""
    value = value.strip()
    parsed = urlparse(value)
    schema = parse_qs(parsed.query).get("schema", [DEFAULT_CDM_SCHEMA])[0]
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"MLHOPS_CDM_SOURCE: schema {schema!r} is not a plain SQL identifier")
    if parsed.scheme in ("postgresql", "postgres"):
        return CdmSource("postgres", schema, dsn=PostgresDsn.from_url(value.split("?", 1)[0]))
    if parsed.scheme == "duckdb":
        path = Path(parsed.netloc + parsed.path)
    elif parsed.scheme in ("", "file"):
        path = Path(value.split("?", 1)[0].removeprefix("file://"))
    else:
        raise ValueError(
            f"MLHOPS_CDM_SOURCE: unknown scheme {parsed.scheme!r} (use a DuckDB file path, "
            "duckdb:///path?schema=..., or postgresql://user@host:port/db?schema=...)"
        )
    if not path.is_file():
        raise ValueError(f"MLHOPS_CDM_SOURCE: DuckDB file {path} does not exist")
    return CdmSource("duckdb", schema, path=path.resolve())
