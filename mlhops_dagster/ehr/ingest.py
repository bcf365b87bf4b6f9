"""Load one Synthea-format extract folder into the warehouse ``raw`` schema.

The whole load runs inside DuckDB: the CSV reader stages only the allow-listed columns
(identifiers such as names or SSN are never read), values are parsed with ``TRY_CAST``,
patient and encounter ids are replaced by keyed pseudonyms, and every row that cannot be
loaded goes to ``raw.quarantine`` with its file, line and reason. For every file,
rows read = rows loaded + rows quarantined. Re-loading an extract replaces its rows, and a
failed load changes nothing (one transaction).

Line numbers follow DuckDB's CSV reader: the header is line 1 and each record is one line
(a quoted field spanning several physical lines still counts as one record).
"""

from __future__ import annotations

import csv
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from mlhops_dagster.ehr.contract import (
    FILES,
    IDENTIFYING_OBSERVATION_CODES,
    SUCCESS_MARKER,
    Column,
    ExtractFile,
)
from mlhops_dagster.governance.pseudonymise import register_pseudonym_udf
from mlhops_dagster.warehouse import Connection
from mlhops_dagster.warehouse.tables import table_exists

RAW_SCHEMA = "raw"
logger = logging.getLogger(__name__)

_SQL_TYPES = {
    "id": "VARCHAR",
    "ref": "VARCHAR",
    "pseudo": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "integer": "BIGINT",
    "number": "DOUBLE",
}
_PSEUDONYM_KIND = {"id": "patient", "patient": "patient", "encounter": "encounter"}
_PARSED_TYPES = ("date", "timestamp", "integer", "number")
"""Column types parsed from text: only these need their delivered text kept beside the value."""


class ExtractContractError(ValueError):
    """The extract does not meet the contract (missing file or column, empty file)."""


@dataclass
class FileLoad:
    """Row accounting for one file of one extract."""

    file: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    present: bool = True
    values_redacted: int = 0
    """Rows loaded with their VALUE nulled because the value is an identifier (address answers)."""


@dataclass
class ExtractLoad:
    """What one ingest did: per-file accounting and the period the extract covers."""

    extract_id: str
    files: dict[str, FileLoad]
    ignored_files: list[str]
    period_start: date | None
    period_end: date | None

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files.values())

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files.values())

    def as_dict(self) -> dict:
        return asdict(self)

    def accounting(self) -> list[dict[str, object]]:
        """One row per contract file: read, loaded, quarantined and why (an absent optional file says so)."""
        return [
            {
                "file": f.file,
                "read": f.rows_read if f.present else None,
                "loaded": f.rows_loaded if f.present else None,
                "quarantined": f.rows_quarantined if f.present else None,
                "reasons": "; ".join(f"{r}: {n}" for r, n in sorted(f.reasons.items()))
                if f.present
                else "file absent (optional)",
            }
            for f in self.files.values()
        ]


def is_complete_extract(folder: Path) -> bool:
    """A folder is ready when the exporter wrote its ``_SUCCESS`` marker or all required files."""
    if (folder / SUCCESS_MARKER).exists():
        return True
    return all((folder / spec.file_name).exists() for spec in FILES if spec.required)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_header(path: Path) -> list[str]:
    """The header line of a CSV file; an empty file is a contract error naming it."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header or all(not h.strip() for h in header):
        raise ExtractContractError(f"{path.name} in {path.parent} is empty: expected a header line")
    return [h.strip() for h in header]


def resolve_columns(spec: ExtractFile, header: list[str], path: Path) -> dict[str, str | None]:
    """Map each contract column to the header that holds it (None when an optional one is absent)."""
    by_upper = {h.upper(): h for h in header}
    resolved: dict[str, str | None] = {}
    for column in spec.columns:
        found = next((by_upper[h.upper()] for h in column.headers if h.upper() in by_upper), None)
        if found is None and column.required:
            accepted = " or ".join(column.headers)
            raise ExtractContractError(
                f"{path.name} in {path.parent} has no column {accepted} (required); header was: {', '.join(header)}"
            )
        resolved[column.name] = found
    return resolved


def validate_extract(folder: Path) -> dict[str, dict[str, str | None]]:
    """Check every file of the contract before anything is loaded; return the column maps."""
    if not folder.is_dir():
        raise ExtractContractError(f"extract folder {folder} does not exist")
    maps: dict[str, dict[str, str | None]] = {}
    for spec in FILES:
        path = folder / spec.file_name
        if not path.exists():
            if spec.required:
                raise ExtractContractError(f"extract {folder.name} is missing required file {spec.file_name}")
            continue
        maps[spec.name] = resolve_columns(spec, read_header(path), path)
    return maps


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema (idempotent); every contract table exists even when empty."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for spec in FILES:
        cols = ", ".join(f"{c.name} {_SQL_TYPES[c.type]}" for c in spec.columns)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{spec.name} "
            f"({cols}, extract_id VARCHAR NOT NULL, source_line BIGINT NOT NULL)"
        )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.quarantine (extract_id VARCHAR NOT NULL, "
        "file VARCHAR NOT NULL, line BIGINT, reason VARCHAR NOT NULL, record VARCHAR)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.extract_manifest (extract_id VARCHAR PRIMARY KEY, "
        "loaded_at TIMESTAMP NOT NULL, period_start DATE, period_end DATE, rows_read BIGINT, "
        "rows_loaded BIGINT, rows_quarantined BIGINT, report VARCHAR)"
    )


def _parse_expr(column: Column, raw: str) -> str:
    """SQL turning the raw text ``raw`` into the column's type (NULL when it does not parse)."""
    if column.type == "date":
        year = ""
        if column.year_means:
            month_day = "1, 1" if column.year_means == "start" else "12, 31"
            year = f"WHEN regexp_full_match({raw}, '\\d{{4}}') THEN make_date(CAST({raw} AS INTEGER), {month_day}) "
        return (
            f"CASE {year}WHEN regexp_full_match({raw}, '\\d{{4}}-\\d{{2}}-\\d{{2}}(T.*)?') "
            f"THEN TRY_CAST(left({raw}, 10) AS DATE) END"
        )
    if column.type == "timestamp":
        return f"TRY_CAST({raw} AS TIMESTAMP)"
    if column.type == "integer":
        return f"TRY_CAST({raw} AS BIGINT)"
    if column.type == "number":
        return f"TRY_CAST({raw} AS DOUBLE)"
    return raw


def _raw_text(column: Column, alias: str) -> str:
    """The delivered text of ``column`` in a checked table: a parsed column keeps it in ``record``,
    every other column is stored as delivered."""
    if column.type in _PARSED_TYPES:
        return f"{alias}.record.{column.name}"
    return f"{alias}.{column.name}"


def _kind(spec: ExtractFile, column: Column) -> str:
    if spec.name == "encounters" and column.name == "id":
        return "encounter"
    return _PSEUDONYM_KIND[column.name]


class _FileLoader:
    """Stages, checks and loads one file; kept as a class so each step stays readable."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        folder: Path,
        extract_id: str,
        spec: ExtractFile,
        columns: dict[str, str | None],
    ) -> None:
        self.con, self.folder, self.extract_id, self.spec, self.columns = con, folder, extract_id, spec, columns
        self.stage = f"stage_{spec.name}"
        self.checked = f"checked_{spec.name}"
        self.report = FileLoad(spec.name)

    def stage_file(self) -> None:
        """Read allow-listed columns as text; malformed records land in a reject table with their line."""
        select = ", ".join(f"{_quote(h)} AS {c}" if h else f"NULL::VARCHAR AS {c}" for c, h in self.columns.items())
        path = str(self.folder / self.spec.file_name)
        self.con.execute(f"DROP TABLE IF EXISTS rej_{self.spec.name}; DROP TABLE IF EXISTS rejscan_{self.spec.name}")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.stage} AS SELECT {select} FROM read_csv(?, header=true, "
            "all_varchar=true, delim=',', quote='\"', escape='\"', auto_detect=false, "
            f"columns={self._all_columns_struct()}, store_rejects=true, "
            f"rejects_table='rej_{self.spec.name}', rejects_scan='rejscan_{self.spec.name}')",
            [path],
        )
        rejected = self.con.execute(
            f"SELECT line, string_agg(DISTINCT error_type || coalesce(' (' || column_name || ')', ''), '; ') "
            f"FROM rej_{self.spec.name} GROUP BY line ORDER BY line"
        ).fetchall()
        self.rejected_lines = [(int(line), f"malformed CSV record: {kinds}") for line, kinds in rejected]
        self.con.execute(f"DROP TABLE IF EXISTS rej_{self.spec.name}; DROP TABLE IF EXISTS rejscan_{self.spec.name}")

    def _all_columns_struct(self) -> str:
        header = read_header(self.folder / self.spec.file_name)
        return "{" + ", ".join(f"'{h.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for h in header) + "}"

    def line_source(self) -> tuple[str, str]:
        """Record line of each staged row (header = line 1), skipping lines the reader rejected.

        Returns the SQL expression and the join that provides it.
        """
        if not self.rejected_lines:
            return "s.rowid + 2", ""
        self.con.execute("CREATE OR REPLACE TEMP TABLE rejected_line (line BIGINT)")
        self.con.executemany("INSERT INTO rejected_line VALUES (?)", [[ln] for ln, _ in self.rejected_lines])
        total = self.con.execute(f"SELECT count(*) FROM {self.stage}").fetchall()[0][0] + len(self.rejected_lines)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE line_of_row AS SELECT row_number() OVER (ORDER BY line) - 1 AS rid, line "
            f"FROM (SELECT range AS line FROM range(2, {total + 2}) EXCEPT SELECT line FROM rejected_line)"
        )
        return "l.line", "JOIN line_of_row l ON l.rid = s.rowid"

    def check(self) -> None:
        """Type every column and give each row that cannot be loaded a reason."""
        typed = [f"{_parse_expr(c, 's.' + c.name)} AS {c.name}" for c in self.spec.columns]
        if self.spec.name == "observations":
            typed = [
                self._redacted_value() if c.name == "value" else t
                for c, t in zip(self.spec.columns, typed, strict=True)
            ]
        reasons = []
        for c in self.spec.columns:
            header = self.columns[c.name] or c.headers[0]
            if c.required:
                reasons.append(f"WHEN s.{c.name} IS NULL THEN 'missing required {header}'")
            if c.type in _PARSED_TYPES:
                reasons.append(
                    f"WHEN s.{c.name} IS NOT NULL AND {_parse_expr(c, 's.' + c.name)} IS NULL "
                    f"THEN '{header} is not a valid {c.type}: ' || left(s.{c.name}, 40)"
                )
        if self.spec.name == "observations":
            reasons.append(
                "WHEN lower(s.type) = 'numeric' AND s.value IS NOT NULL AND TRY_CAST(s.value AS DOUBLE) IS NULL "
                "THEN 'VALUE is not numeric although TYPE is numeric: ' || left(s.value, 40)"
            )
        # The delivered text of parsed columns (for quarantine records); text columns are stored
        # as delivered anyway, so keeping them twice would only double the staged rows' memory.
        raw_fields = [f"{c.name} := s.{c.name}" for c in self.spec.columns if c.type in _PARSED_TYPES]
        record = f"struct_pack({', '.join(raw_fields)}) AS record, " if raw_fields else ""
        line, line_join = self.line_source()
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.checked} AS SELECT {line} AS source_line, "
            f"CASE {' '.join(reasons)} END AS reason, {record}"
            f"{', '.join(typed)} FROM {self.stage} s {line_join}"
        )
        # The checked table holds every staged value now: free the staged copy early.
        self.con.execute(f"DROP TABLE IF EXISTS {self.stage}")
        self._flag_duplicates()

    def _redacted_value(self) -> str:
        """VALUE as loaded: NULL for identifier-bearing questions (their answer is an address), counted."""
        codes = ", ".join(f"'{code}'" for code in sorted(IDENTIFYING_OBSERVATION_CODES))
        self.report.values_redacted = int(
            self.con.execute(
                f"SELECT count(*) FROM {self.stage} WHERE code IN ({codes}) AND value IS NOT NULL"
            ).fetchall()[0][0]
        )
        return f"CASE WHEN s.code IN ({codes}) THEN NULL ELSE s.value END AS value"

    def _flag_duplicates(self) -> None:
        key = self.spec.primary_key
        if key is None:
            return
        header = self.columns[key] or key.upper()
        self.con.execute(
            f"UPDATE {self.checked} AS t SET reason = 'duplicate {header} (first seen at line ' || d.first_line || ')' "
            f"FROM (SELECT source_line, min(source_line) OVER (PARTITION BY {key}) AS first_line FROM {self.checked} "
            f"WHERE reason IS NULL) d WHERE t.source_line = d.source_line AND d.first_line < d.source_line"
        )

    def flag_unknown_patients(self) -> None:
        if self.spec.patient_column != "patient":
            return
        header = self.columns["patient"] or "PATIENT"
        self.con.execute(
            f"UPDATE {self.checked} SET reason = 'unknown {header}: not in patients.csv of this or an earlier extract' "
            f"WHERE reason IS NULL AND patient NOT IN (SELECT source_id FROM known_patient)"
        )

    def load(self) -> FileLoad:
        pseudo_cols = {c.name for c in self.spec.columns if c.type == "pseudo"}
        select, joins = [], []
        for c in self.spec.columns:
            if c.name in pseudo_cols:
                alias = f"p_{c.name}"
                joins.append(
                    f"LEFT JOIN pseudonym_map {alias} ON {alias}.kind = '{_kind(self.spec, c)}' "
                    f"AND {alias}.source_id = t.{c.name}"
                )
                select.append(f"{alias}.pseudonym AS {c.name}")
            else:
                select.append(f"t.{c.name}")
        target = f"{RAW_SCHEMA}.{self.spec.name}"
        self.con.execute(f"DELETE FROM {target} WHERE extract_id = ?", [self.extract_id])
        self.con.execute(
            f"INSERT INTO {target} SELECT {', '.join(select)}, ? AS extract_id, t.source_line "
            f"FROM {self.checked} t {' '.join(joins)} WHERE t.reason IS NULL ORDER BY t.source_line",
            [self.extract_id],
        )
        self._quarantine(pseudo_cols)
        self.report.rows_loaded = self._count(f"{self.checked} WHERE reason IS NULL")
        self.report.rows_quarantined = self._count(f"{self.checked} WHERE reason IS NOT NULL") + len(
            self.rejected_lines
        )
        self.report.rows_read = self.report.rows_loaded + self.report.rows_quarantined
        return self.report

    def _quarantine(self, pseudo_cols: set[str]) -> None:
        """Quarantined records keep only allow-listed fields, ids pseudonymised (never a raw id)."""
        fields = []
        for c in self.spec.columns:
            if c.name in pseudo_cols:
                fields.append(
                    f"{c.name} := (SELECT pseudonym FROM pseudonym_map m WHERE m.kind = '{_kind(self.spec, c)}' "
                    f"AND m.source_id = {_raw_text(c, 't')})"
                )
            else:
                fields.append(f"{c.name} := {_raw_text(c, 't')}")
        self.con.execute(
            f"INSERT INTO {RAW_SCHEMA}.quarantine SELECT ?, ?, source_line, reason, to_json(struct_pack({', '.join(fields)})) "
            f"FROM {self.checked} t WHERE reason IS NOT NULL ORDER BY source_line",
            [self.extract_id, self.spec.file_name],
        )
        if self.rejected_lines:
            self.con.executemany(
                f"INSERT INTO {RAW_SCHEMA}.quarantine VALUES (?, ?, ?, ?, NULL)",
                [[self.extract_id, self.spec.file_name, line, reason] for line, reason in self.rejected_lines],
            )
        counts = self.con.execute(
            f"SELECT regexp_replace(reason, ':.*$', ''), count(*) FROM {self.checked} WHERE reason IS NOT NULL GROUP BY 1"
        ).fetchall()
        self.report.reasons = {r: int(n) for r, n in counts}
        for _, reason in self.rejected_lines:
            self.report.reasons[reason] = self.report.reasons.get(reason, 0) + 1

    def staged_rows(self) -> int:
        """Records the CSV reader staged (rejected lines not included)."""
        return self._count(self.stage)

    def _count(self, where: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {where}").fetchall()[0][0])


def _build_pseudonym_map(con: duckdb.DuckDBPyConnection, loaders: list[_FileLoader]) -> None:
    """Pseudonymise each distinct id once (HMAC in Python), then join: cheap even for millions of rows."""
    parts = []
    for loader in loaders:
        for c in loader.spec.columns:
            if c.type == "pseudo":
                parts.append(
                    f"SELECT '{_kind(loader.spec, c)}' AS kind, {_raw_text(c, 't')} AS source_id "
                    f"FROM {loader.checked} t"
                )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pseudonym_map AS SELECT kind, source_id, pseudonym(kind, source_id) AS pseudonym "
        f"FROM (SELECT DISTINCT kind, source_id FROM ({' UNION ALL '.join(parts)}) WHERE source_id IS NOT NULL)"
    )


def _drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Staged rows still hold source ids: they must not outlive the load, even on the same connection."""
    temp_tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND (table_name LIKE 'stage\\_%' ESCAPE '\\' "
        "OR table_name LIKE 'checked\\_%' ESCAPE '\\' OR table_name IN "
        "('pseudonym_map', 'known_patient', 'line_of_row', 'rejected_line'))"
    ).fetchall()
    for (table,) in temp_tables:
        con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")


def ingest_extract(con: duckdb.DuckDBPyConnection, folder: Path, extract_id: str, pseudonym_key: str) -> ExtractLoad:
    """Validate and load one extract folder; raises :class:`ExtractContractError` on contract breaches."""
    column_maps = validate_extract(folder)
    register_pseudonym_udf(con, pseudonym_key)
    create_raw_tables(con)
    known_files = {spec.file_name for spec in FILES} | {SUCCESS_MARKER}
    ignored = sorted(p.name for p in folder.iterdir() if p.name not in known_files)
    return _load_extract(con, folder, extract_id, column_maps, ignored)


def _load_extract(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    extract_id: str,
    column_maps: dict[str, dict[str, str | None]],
    ignored: list[str],
) -> ExtractLoad:
    try:
        # Staging and checks work on temp tables outside the transaction: DuckDB gives rows written
        # inside a transaction provisional row ids, and the row id is what recovers file order.
        loaders = [
            _FileLoader(con, folder, extract_id, spec, column_maps[spec.name])
            for spec in FILES
            if spec.name in column_maps
        ]
        files = {spec.name: FileLoad(spec.name, present=False) for spec in FILES if spec.name not in column_maps}
        for loader in loaders:
            started = time.perf_counter()
            loader.stage_file()
            rows = loader.staged_rows()
            loader.check()
            seconds = time.perf_counter() - started
            logger.info(
                "%s: %s staged and checked, %d rows in %.1f s (%.0f rows/s)",
                extract_id,
                loader.spec.file_name,
                rows,
                seconds,
                rows / seconds if seconds > 0 else 0.0,
            )
        patients = next(loader for loader in loaders if loader.spec.name == "patients")
        _build_pseudonym_map(con, loaders)
        # Patients of this extract, and those an earlier extract loaded (matched through their pseudonyms).
        patient_id = next(c for c in patients.spec.columns if c.name == "id")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE known_patient AS SELECT {_raw_text(patient_id, 't')} AS source_id "
            f"FROM {patients.checked} t WHERE reason IS NULL UNION SELECT m.source_id FROM pseudonym_map m JOIN raw.patients p "
            "ON m.kind = 'patient' AND p.id = m.pseudonym WHERE p.extract_id <> ?",
            [extract_id],
        )
        for loader in loaders:
            loader.flag_unknown_patients()
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DELETE FROM {RAW_SCHEMA}.quarantine WHERE extract_id = ?", [extract_id])
            for loader in loaders:
                files[loader.spec.name] = loader.load()
            period = con.execute(
                f"SELECT min(start)::DATE, max(coalesce(stop, start))::DATE FROM {RAW_SCHEMA}.encounters WHERE extract_id = ?",
                [extract_id],
            ).fetchall()[0]
            result = ExtractLoad(extract_id, files, ignored, period[0], period[1])
            con.execute(f"DELETE FROM {RAW_SCHEMA}.extract_manifest WHERE extract_id = ?", [extract_id])
            con.execute(
                f"INSERT INTO {RAW_SCHEMA}.extract_manifest VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
                [
                    extract_id,
                    result.period_start,
                    result.period_end,
                    result.rows_read,
                    result.rows_loaded,
                    result.rows_quarantined,
                    json.dumps(result.as_dict(), default=str),
                ],
            )
            con.execute("COMMIT")
            logger.info(
                "%s: %d rows read, %d loaded, %d quarantined",
                extract_id,
                result.rows_read,
                result.rows_loaded,
                result.rows_quarantined,
            )
        except Exception:
            con.execute("ROLLBACK")
            raise
        return result
    finally:
        _drop_temp_tables(con)


def loaded_extracts(con: Connection) -> list[str]:
    """The ids of the extracts loaded into ``raw`` (from its manifest), in order; none on a site's own CDM."""
    if not table_exists(con, RAW_SCHEMA, "extract_manifest"):
        return []
    rows = con.execute(f"SELECT extract_id FROM {RAW_SCHEMA}.extract_manifest ORDER BY extract_id").fetchall()
    return [str(r[0]) for r in rows]
