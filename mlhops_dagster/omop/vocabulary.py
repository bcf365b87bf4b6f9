"""Load an OHDSI Athena vocabulary download into DuckDB, once, and reuse it.

An Athena download is a folder of tab-delimited files with a header line (``CONCEPT.csv``,
``CONCEPT_RELATIONSHIP.csv``, ...). They are not quoted: a field may hold a literal ``"``, so
the files are read with quoting and escaping disabled. Dates are ``YYYYMMDD`` and an empty field
is NULL. Full downloads hold tens of millions of rows, so everything is done by DuckDB's CSV
reader and SQL, never row by row in Python.

Each file is read as VARCHAR with the column names taken from its header line (matched
case-insensitively to the OMOP CDM v5.4 names), then cast to typed tables (ids INTEGER, dates
DATE, strings VARCHAR) inside one transaction, so a failed load leaves the previous vocabulary
in place. A fingerprint of the file names, sizes and mtimes is kept in ``<schema>._load_manifest``;
a call that finds the same fingerprint (and all tables present) reuses the loaded tables without
reading the files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from mlhops_dagster.warehouse.tables import table_exists

ATHENA_SCHEMA = "vocab_athena"
REQUIRED_FILES = ("CONCEPT.csv", "CONCEPT_RELATIONSHIP.csv", "VOCABULARY.csv", "DOMAIN.csv")
OPTIONAL_FILES = (
    "CONCEPT_ANCESTOR.csv",
    "CONCEPT_CLASS.csv",
    "RELATIONSHIP.csv",
    "CONCEPT_SYNONYM.csv",
    "DRUG_STRENGTH.csv",
)
MANIFEST_TABLE = "_load_manifest"
# Bump when the table layout or typing changes, so existing warehouses reload.
LOADER_VERSION = "1"

_DATE_FORMAT = "%Y%m%d"

# OMOP CDM v5.4 vocabulary tables: file -> [(column, DuckDB type, required)], in CDM order.
TABLE_COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "CONCEPT.csv": [
        ("concept_id", "INTEGER", True),
        ("concept_name", "VARCHAR", True),
        ("domain_id", "VARCHAR", True),
        ("vocabulary_id", "VARCHAR", True),
        ("concept_class_id", "VARCHAR", True),
        ("standard_concept", "VARCHAR", False),
        ("concept_code", "VARCHAR", True),
        ("valid_start_date", "DATE", True),
        ("valid_end_date", "DATE", True),
        ("invalid_reason", "VARCHAR", False),
    ],
    "CONCEPT_RELATIONSHIP.csv": [
        ("concept_id_1", "INTEGER", True),
        ("concept_id_2", "INTEGER", True),
        ("relationship_id", "VARCHAR", True),
        ("valid_start_date", "DATE", True),
        ("valid_end_date", "DATE", True),
        ("invalid_reason", "VARCHAR", False),
    ],
    "VOCABULARY.csv": [
        ("vocabulary_id", "VARCHAR", True),
        ("vocabulary_name", "VARCHAR", True),
        ("vocabulary_reference", "VARCHAR", False),
        ("vocabulary_version", "VARCHAR", False),
        ("vocabulary_concept_id", "INTEGER", True),
    ],
    "DOMAIN.csv": [
        ("domain_id", "VARCHAR", True),
        ("domain_name", "VARCHAR", True),
        ("domain_concept_id", "INTEGER", True),
    ],
    "CONCEPT_ANCESTOR.csv": [
        ("ancestor_concept_id", "INTEGER", True),
        ("descendant_concept_id", "INTEGER", True),
        ("min_levels_of_separation", "INTEGER", True),
        ("max_levels_of_separation", "INTEGER", True),
    ],
    "CONCEPT_CLASS.csv": [
        ("concept_class_id", "VARCHAR", True),
        ("concept_class_name", "VARCHAR", True),
        ("concept_class_concept_id", "INTEGER", True),
    ],
    "RELATIONSHIP.csv": [
        ("relationship_id", "VARCHAR", True),
        ("relationship_name", "VARCHAR", True),
        ("is_hierarchical", "VARCHAR", True),
        ("defines_ancestry", "VARCHAR", True),
        ("reverse_relationship_id", "VARCHAR", True),
        ("relationship_concept_id", "INTEGER", True),
    ],
    "CONCEPT_SYNONYM.csv": [
        ("concept_id", "INTEGER", True),
        ("concept_synonym_name", "VARCHAR", True),
        ("language_concept_id", "INTEGER", True),
    ],
    "DRUG_STRENGTH.csv": [
        ("drug_concept_id", "INTEGER", True),
        ("ingredient_concept_id", "INTEGER", True),
        ("amount_value", "DOUBLE", False),
        ("amount_unit_concept_id", "INTEGER", False),
        ("numerator_value", "DOUBLE", False),
        ("numerator_unit_concept_id", "INTEGER", False),
        ("denominator_value", "DOUBLE", False),
        ("denominator_unit_concept_id", "INTEGER", False),
        ("box_size", "INTEGER", False),
        ("valid_start_date", "DATE", True),
        ("valid_end_date", "DATE", True),
        ("invalid_reason", "VARCHAR", False),
    ],
}


class VocabularyError(ValueError):
    """An Athena download that cannot be loaded (missing file or column, unparseable value)."""


@dataclass
class VocabularyLoad:
    directory: str
    fingerprint: str
    reused: bool
    tables: dict[str, int] = field(default_factory=dict)  # table name -> rows


def table_name(file_name: str) -> str:
    """``CONCEPT_RELATIONSHIP.csv`` -> ``concept_relationship``."""
    return file_name.rsplit(".", 1)[0].lower()


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _find_files(directory: Path) -> dict[str, Path]:
    """Known file name -> path, matching names case-insensitively (``concept.csv`` is fine)."""
    on_disk = {p.name.lower(): p for p in directory.iterdir() if p.is_file()}
    return {name: on_disk[name.lower()] for name in TABLE_COLUMNS if name.lower() in on_disk}


def _fingerprint(files: dict[str, Path]) -> str:
    parts = [f"loader={LOADER_VERSION}"]
    for name in sorted(files):
        stat = files[name].stat()
        parts.append(f"{name}|{stat.st_size}|{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        line = fh.readline()
    header = [h.strip().lower() for h in line.rstrip("\r\n").split("\t")]
    if not line or header == [""]:
        raise VocabularyError(f"{path}: empty file, expected a tab-delimited header line")
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise VocabularyError(f"{path}: duplicate header column(s) {duplicates}")
    return header


def _select_sql(file_name: str, path: Path, header: list[str]) -> str:
    """SELECT that reads ``path`` as VARCHAR and casts it to the typed CDM columns."""
    present = set(header)
    missing = [c for c, _, required in TABLE_COLUMNS[file_name] if required and c not in present]
    if missing:
        raise VocabularyError(f"{path}: {file_name} is missing required column(s) {', '.join(missing)}")
    # Column names come from the header line (lower-cased, positional), all read as VARCHAR,
    # so header case/order doesn't matter and nothing is type-sniffed.
    columns = "{" + ", ".join(f"{_lit(h)}: 'VARCHAR'" for h in header) + "}"
    exprs = []
    for col, dtype, _ in TABLE_COLUMNS[file_name]:
        if col not in present:
            exprs.append(f"CAST(NULL AS {dtype}) AS {_q(col)}")
        elif dtype == "DATE":
            exprs.append(f"CAST(strptime({_q(col)}, '{_DATE_FORMAT}') AS DATE) AS {_q(col)}")
        elif dtype == "VARCHAR":
            exprs.append(_q(col))
        else:
            exprs.append(f"CAST({_q(col)} AS {dtype}) AS {_q(col)}")
    return (
        f"SELECT {', '.join(exprs)} FROM read_csv({_lit(str(path))}, delim='\\t', header=true, "
        f"quote='', escape='', auto_detect=false, columns={columns})"
    )


def _empty_sql(file_name: str) -> str:
    cols = ", ".join(f"CAST(NULL AS {dtype}) AS {_q(col)}" for col, dtype, _ in TABLE_COLUMNS[file_name])
    return f"SELECT {cols} WHERE false"


def _reusable(con: duckdb.DuckDBPyConnection, schema: str, fingerprint: str) -> dict[str, int] | None:
    if not table_exists(con, schema, MANIFEST_TABLE):
        return None
    rows = con.execute(
        f"SELECT fingerprint, table_rows FROM {_q(schema)}.{MANIFEST_TABLE} ORDER BY loaded_at DESC LIMIT 1"
    ).fetchall()
    if not rows or rows[0][0] != fingerprint:
        return None
    if not all(table_exists(con, schema, table_name(f)) for f in TABLE_COLUMNS):
        return None
    return {k: int(v) for k, v in json.loads(rows[0][1]).items()}


def load_athena_vocabulary(
    con: duckdb.DuckDBPyConnection, directory: Path, schema: str = ATHENA_SCHEMA
) -> VocabularyLoad:
    """Load the Athena download in ``directory`` into ``schema`` (once; reused while unchanged).

    Creates one table per vocabulary file (lower-case names: ``concept``, ``concept_relationship``,
    ``concept_ancestor``, ...); an absent optional file gives an empty table with the CDM columns.
    Raises :class:`VocabularyError` for a missing directory, required file or required column, or
    a value that does not parse; the previously loaded tables are then left as they were.
    """
    directory = Path(directory).expanduser().resolve()
    if not directory.is_dir():
        raise VocabularyError(f"Athena vocabulary directory {directory} does not exist or is not a directory")
    files = _find_files(directory)
    missing_files = [f for f in REQUIRED_FILES if f not in files]
    if missing_files:
        raise VocabularyError(f"{directory}: missing required Athena file(s) {', '.join(missing_files)}")

    fingerprint = _fingerprint(files)
    reused = _reusable(con, schema, fingerprint)
    if reused is not None:
        return VocabularyLoad(str(directory), fingerprint, reused=True, tables=reused)

    # Validate every header before touching the warehouse.
    selects = {
        name: _select_sql(name, files[name], _read_header(files[name])) if name in files else _empty_sql(name)
        for name in TABLE_COLUMNS
    }

    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
        for name, select in selects.items():
            table = table_name(name)
            try:
                con.execute(f"CREATE OR REPLACE TABLE {_q(schema)}.{_q(table)} AS {select}")
            except duckdb.Error as exc:
                raise VocabularyError(
                    f"{files.get(name, name)}: could not load {name} into {schema}.{table}: {exc}"
                ) from exc
            counts[table] = con.execute(f"SELECT count(*) FROM {_q(schema)}.{_q(table)}").fetchall()[0][0]
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {_q(schema)}.{MANIFEST_TABLE} ("
            "directory VARCHAR, fingerprint VARCHAR, loaded_at TIMESTAMP, table_rows VARCHAR)"
        )
        con.execute(
            f"INSERT INTO {_q(schema)}.{MANIFEST_TABLE} VALUES (?, ?, ?, ?)",
            [str(directory), fingerprint, datetime.now(UTC).replace(tzinfo=None), json.dumps(counts)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return VocabularyLoad(str(directory), fingerprint, reused=False, tables=counts)


def vocabulary_summary(con: duckdb.DuckDBPyConnection, schema: str = ATHENA_SCHEMA) -> dict:
    """Dagster-metadata-friendly summary of a loaded vocabulary.

    ``{"vocabulary_version": <VOCABULARY row 'None' version or None>, "concepts": total,
    "concepts_by_vocabulary": {vocabulary_id: count}, "loaded_at", "directory", "tables"}``.
    """
    if not table_exists(con, schema, "concept"):
        raise VocabularyError(f"no Athena vocabulary loaded in schema {schema} (table {schema}.concept missing)")
    by_vocab = con.execute(
        f"SELECT vocabulary_id, count(*) FROM {_q(schema)}.concept GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    version = None
    if table_exists(con, schema, "vocabulary"):
        rows = con.execute(
            f"SELECT vocabulary_version FROM {_q(schema)}.vocabulary WHERE vocabulary_id = 'None' LIMIT 1"
        ).fetchall()
        version = rows[0][0] if rows else None
    summary: dict = {
        "vocabulary_version": version,
        "concepts": sum(int(n) for _, n in by_vocab),
        "concepts_by_vocabulary": {str(v): int(n) for v, n in by_vocab},
    }
    if table_exists(con, schema, MANIFEST_TABLE):
        rows = con.execute(
            f"SELECT directory, loaded_at, table_rows FROM {_q(schema)}.{MANIFEST_TABLE} "
            "ORDER BY loaded_at DESC LIMIT 1"
        ).fetchall()
        if rows:
            summary["directory"] = rows[0][0]
            summary["loaded_at"] = rows[0][1].isoformat()
            summary["tables"] = json.loads(rows[0][2])
    return summary
