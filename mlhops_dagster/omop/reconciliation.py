"""Row reconciliation of a built warehouse: did every loaded raw row reach the OMOP CDM?

The raw tables are the ground truth (the ingest already accounts for rows read = loaded +
quarantined). This module follows each loaded row into the CDM:

- clinical rows (conditions, medications, immunizations, procedures, observations,
  allergies, devices) through ``omop_int.int__events``, a view that recomputes their
  provenance (``event_source``, ``extract_id``, ``source_line``) next to the ``event_id``
  that becomes the CDM table's primary key (read once, into a temporary table); a row
  reaches the CDM when at least one of its events is in one of the six event tables (a
  code mapped to several standard concepts gives several events, and so several CDM rows);
- encounters to ``omop.visit_detail`` (one row per encounter, id
  ``surrogate_id('visit_detail', encounter id)``), and patients to ``omop.person`` (id
  ``surrogate_id(patient id)``), recomputed here so that no intermediate model is trusted.

A loaded row that reaches no CDM table is a lost row; an event whose CDM row is missing
is a lost event (it catches a lost CDM row of a source row that fanned out); a CDM row
whose id no event carries is an orphan. Encounters or patients delivered again by a later
extract collapse onto the same CDM row by design and are not lost.

Runs on either warehouse backend (a DuckDB connection or the PostgreSQL adapter); the few
dialect differences (the surrogate id's hex-to-bigint cast, temporary tables, byte-wise text
order) are kept in :class:`_Dialect`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlhops_dagster.warehouse import Connection, PostgresConnection

CLINICAL_SOURCES = (
    "conditions",
    "medications",
    "immunizations",
    "procedures",
    "observations",
    "allergies",
    "devices",
)
"""Raw tables whose rows become CDM event rows (dbt macro ``clinical_events``; their lineage is ``omop_int.int__events``)."""

EVENT_TABLES = {
    "condition_occurrence": "condition_occurrence_id",
    "drug_exposure": "drug_exposure_id",
    "procedure_occurrence": "procedure_occurrence_id",
    "measurement": "measurement_id",
    "observation": "observation_id",
    "device_exposure": "device_exposure_id",
}
"""CDM event tables (built by the dbt macro ``clinical_events``), with the primary key that holds the event id."""

EVENTS_RELATION = "omop_int.int__events"
EXAMPLES = 5


@dataclass(frozen=True)
class _Dialect:
    """What differs between DuckDB and PostgreSQL in this module's SQL."""

    postgres: bool

    @classmethod
    def of(cls, con: Connection) -> _Dialect:
        return cls(postgres=isinstance(con, PostgresConnection))

    @property
    def temp_schema(self) -> str:
        return "pg_temp" if self.postgres else "temp.main"

    def surrogate_id(self, *parts: str) -> str:
        """Twin of the dbt macro ``surrogate_id`` (md5 of the '|'-joined parts, first 60 bits as a bigint)."""
        text = "concat(" + ", '|', ".join(f"cast({p} as varchar)" for p in parts) + ")"  # concat skips nulls: ''
        if self.postgres:
            return f"cast(cast(('x' || substr(md5({text}), 1, 15)) as bit(60)) as bigint)"
        return f"cast(('0x' || substr(md5({text}), 1, 15)) as bigint)"

    def byte_order(self, expression: str) -> str:
        """Text ordered byte-wise (DuckDB's only order), whatever the PostgreSQL database's collation."""
        return f'{expression} collate "C"' if self.postgres else expression


@dataclass
class SourceReconciliation:
    """One raw table: its loaded rows and where they went in the CDM."""

    source_table: str
    raw_rows: int
    reached_rows: int
    """Raw rows with at least one CDM row."""
    cdm_rows_by_table: dict[str, int] = field(default_factory=dict)
    """CDM table -> CDM rows derived from this raw table."""
    event_rows: int | None = None
    """Events in int__events for this raw table (None for encounters and patients)."""
    lost_events: int = 0
    """Events of this raw table whose CDM row is missing."""
    lost_examples: list[tuple[str, int]] = field(default_factory=list)
    """(extract_id, source_line) of up to five lost rows."""

    @property
    def lost_rows(self) -> int:
        return self.raw_rows - self.reached_rows

    @property
    def cdm_rows(self) -> int:
        return sum(self.cdm_rows_by_table.values())

    @property
    def ok(self) -> bool:
        return self.lost_rows == 0 and self.lost_events == 0


@dataclass
class Reconciliation:
    """Per-source reconciliation of a whole warehouse and CDM rows without a source."""

    sources: dict[str, SourceReconciliation]
    orphan_cdm_rows: dict[str, int]
    """CDM event table -> rows whose id no event of int__events carries."""

    @property
    def lost_rows(self) -> int:
        return sum(s.lost_rows for s in self.sources.values())

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sources.values()) and not any(self.orphan_cdm_rows.values())

    def problems(self) -> list[str]:
        """One line per loss or orphan, for assertions and logs."""
        lines = []
        for s in self.sources.values():
            if s.lost_rows:
                lines.append(
                    f"{s.source_table}: {s.lost_rows} of {s.raw_rows} loaded rows reached no CDM table "
                    f"(e.g. extract/line {s.lost_examples})"
                )
            if s.lost_events:
                lines.append(f"{s.source_table}: {s.lost_events} events missing from their CDM table")
        lines += [f"{table}: {n} rows without a source event" for table, n in self.orphan_cdm_rows.items() if n]
        return lines

    def as_rows(self) -> list[dict]:
        """Flat rows (source, raw, reached, lost, CDM rows per table) for printing or metadata."""
        return [
            {
                "source_table": s.source_table,
                "raw_rows": s.raw_rows,
                "reached_rows": s.reached_rows,
                "lost_rows": s.lost_rows,
                "lost_events": s.lost_events,
                "cdm_rows": dict(s.cdm_rows_by_table),
            }
            for s in self.sources.values()
        ]


def _scalar(con: Connection, sql: str, params: list | None = None) -> int:
    return int(con.execute(sql, params or []).fetchall()[0][0])


def _cdm_events_sql() -> str:
    return " union all ".join(
        f"select '{table}' as cdm_table, {key} as cdm_id from omop.{table}" for table, key in EVENT_TABLES.items()
    )


def _lost_examples(con: Connection, dialect: _Dialect, join: str, missing: str, params: list) -> list[tuple]:
    """(extract_id, source_line) of the first lost rows, in file order, for the error message.

    The anti-join is a materialised CTE, computed whole before the ordered LIMIT: written as one
    query, PostgreSQL planned the ordered anti-join with LIMIT as a nested loop (minutes at a few
    hundred patients). Callers ask only when a row was lost.
    """
    return con.execute(
        f"with lost as materialized (select r.extract_id, r.source_line {join} where {missing}) "
        f"select extract_id, source_line from lost "
        f"order by {dialect.byte_order('extract_id')}, source_line limit {EXAMPLES}",
        params,
    ).fetchall()


def _drop_temp_tables(con: Connection, dialect: _Dialect) -> None:
    for table in ("_recon_cdm", "_recon_events"):
        con.execute(f"drop table if exists {dialect.temp_schema}.{table}")


def _reconcile_clinical(con: Connection, dialect: _Dialect) -> dict[str, SourceReconciliation]:
    _drop_temp_tables(con, dialect)
    con.execute(f"create temp table _recon_cdm as {_cdm_events_sql()}")
    if dialect.postgres:  # analysed before the join below reads it, or the planner loops over it row by row
        con.execute("analyze _recon_cdm")
    # one full join: an event without its CDM row has found_in null (lost), a CDM row without an
    # event has event_id null (orphan); the orphans need no second join
    con.execute(
        "create temp table _recon_events as select e.event_source, e.extract_id, e.source_line, "
        "e.event_id, e.cdm_table, c.cdm_table as found_in "
        f"from {EVENTS_RELATION} e full join _recon_cdm c on c.cdm_id = e.event_id and c.cdm_table = e.cdm_table"
    )
    if dialect.postgres:  # autovacuum never analyses temporary tables: give the planner their row counts
        con.execute("analyze _recon_events")
    result = {}
    for source in CLINICAL_SOURCES:
        raw = f"raw.{source}"
        reached_join = (
            f"from {raw} r left join (select distinct extract_id, source_line from _recon_events "
            f"where event_source = ? and found_in is not null) e "
            "on e.extract_id = r.extract_id and e.source_line = r.source_line"
        )
        raw_rows = _scalar(con, f"select count(*) from {raw}")
        reached = _scalar(con, f"select count(e.source_line) {reached_join}", [source])
        examples = (
            _lost_examples(con, dialect, reached_join, "e.source_line is null", [source]) if reached < raw_rows else []
        )
        by_table = dict(
            con.execute(
                "select found_in, count(*) from _recon_events where event_source = ? and found_in is not null "
                "group by found_in order by found_in",
                [source],
            ).fetchall()
        )
        events = _scalar(con, "select count(*) from _recon_events where event_source = ?", [source])
        lost_events = _scalar(
            con, "select count(*) from _recon_events where event_source = ? and found_in is null", [source]
        )
        result[source] = SourceReconciliation(
            source,
            raw_rows,
            reached,
            {k: int(v) for k, v in by_table.items()},
            events,
            lost_events,
            [(str(x), int(y)) for x, y in examples],
        )
    return result


def _reconcile_entity(
    con: Connection, dialect: _Dialect, source: str, cdm_table: str, cdm_key: str, id_sql: str
) -> SourceReconciliation:
    """Raw entity rows (one CDM row per natural key) found by their recomputed surrogate id."""
    join = (
        f"from raw.{source} r left join (select distinct {cdm_key} as cdm_id from omop.{cdm_table}) c "
        f"on c.cdm_id = {id_sql}"
    )
    raw_rows = _scalar(con, f"select count(*) from raw.{source}")
    reached = _scalar(con, f"select count(c.cdm_id) {join}")
    examples = _lost_examples(con, dialect, join, "c.cdm_id is null", []) if reached < raw_rows else []
    cdm_rows = _scalar(con, f"select count(distinct c.cdm_id) {join}")
    return SourceReconciliation(
        source, raw_rows, reached, {cdm_table: cdm_rows}, lost_examples=[(str(x), int(y)) for x, y in examples]
    )


def reconcile(con: Connection) -> Reconciliation:
    """Reconcile the raw tables of a built warehouse (DuckDB or PostgreSQL) with its OMOP CDM tables.

    Needs the ``raw`` schema from the ingest and a completed ``dbt build`` (schemas
    ``omop_int`` and ``omop``). Read-only apart from temporary tables, which it drops.
    """
    dialect = _Dialect.of(con)
    try:
        sources = _reconcile_clinical(con, dialect)
        sources["encounters"] = _reconcile_entity(
            con,
            dialect,
            "encounters",
            "visit_detail",
            "visit_detail_id",
            dialect.surrogate_id("'visit_detail'", "r.id"),
        )
        sources["patients"] = _reconcile_entity(
            con, dialect, "patients", "person", "person_id", dialect.surrogate_id("r.id")
        )
        orphans = dict(
            con.execute(
                "select found_in, count(*) from _recon_events where event_id is null group by found_in order by 1"
            ).fetchall()
        )
    finally:
        _drop_temp_tables(con, dialect)
    return Reconciliation(sources, {table: int(orphans.get(table, 0)) for table in EVENT_TABLES})
