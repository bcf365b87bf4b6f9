"""A table-driven catalogue of data-quality checks and the SQL runner that evaluates them.

Each check names the rows that violate it with a SQL predicate over one CDM table; the
runner counts violations against the table's rows in one scan per table and compares the
violating percentage with the check's threshold, with DataQualityDashboard's status
semantics (Not Applicable on an empty or absent table, Error when the SQL itself fails).
Severity ``ERROR`` marks fatal checks: they block features and training.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import duckdb
import psycopg2

Severity = Literal["ERROR", "WARN"]
Status = Literal["Passed", "Failed", "Not Applicable", "Error"]


@dataclass(frozen=True)
class QualityCheck:
    """One check: the rows of ``table`` matching ``violation`` are violations."""

    name: str
    table: str
    description: str
    kahn_category: Literal["Conformance", "Completeness", "Plausibility"]
    kahn_subcategory: str
    severity: Severity
    threshold_pct: float
    violation: str
    denominator: str = "TRUE"


@dataclass(frozen=True)
class CheckOutcome:
    check: QualityCheck
    status: Status
    num_violated: int
    num_denominator: int
    pct_violated: float
    sql: str
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.status in ("Passed", "Not Applicable")


def _range(concept_id: int, low: float, high: float, label: str) -> QualityCheck:
    return QualityCheck(
        name=f"plausible_value_{label}",
        table="measurement",
        description=f"{label.replace('_', ' ')} (concept {concept_id}) between {low} and {high}",
        kahn_category="Plausibility",
        kahn_subcategory="Atemporal",
        severity="WARN",
        threshold_pct=1.0,
        violation=f"value_as_number < {low} OR value_as_number > {high}",
        denominator=f"measurement_concept_id = {concept_id} AND value_as_number IS NOT NULL",
    )


def default_catalogue(today: dt.date | None = None) -> tuple[QualityCheck, ...]:
    """The spine's checks; thresholds follow DQD defaults (vital ranges from DQD's pre-2022 releases)."""
    next_year = (today or dt.date.today()).year + 1
    return (
        QualityCheck(
            "person_year_of_birth_plausible", "person",
            f"year_of_birth between 1850 and {next_year}", "Plausibility", "Atemporal", "ERROR", 1.0,
            f"year_of_birth < 1850 OR year_of_birth > {next_year}",
        ),
        QualityCheck(
            "person_gender_required", "person", "gender_concept_id is present",
            "Conformance", "Relational", "ERROR", 0.0, "gender_concept_id IS NULL",
        ),
        QualityCheck(
            "visit_end_not_before_start", "visit_occurrence", "visit_end_date >= visit_start_date",
            "Plausibility", "Temporal", "ERROR", 0.0, "visit_end_date < visit_start_date",
        ),
        QualityCheck(
            "visit_concept_standard", "visit_occurrence", "visit_concept_id is a known visit concept",
            "Conformance", "Value", "WARN", 0.0, "coalesce(visit_concept_id, 0) = 0",
        ),
        QualityCheck(
            "condition_mapped", "condition_occurrence", "condition rows reach a standard concept",
            "Completeness", "Atemporal", "WARN", 5.0, "coalesce(condition_concept_id, 0) = 0",
        ),
        QualityCheck(
            "measurement_mapped", "measurement", "measurement rows reach a standard concept",
            "Completeness", "Atemporal", "WARN", 5.0, "coalesce(measurement_concept_id, 0) = 0",
        ),
        _range(3027018, 10, 500, "heart_rate"),
        _range(3025315, 2, 500, "body_weight"),
        _range(3004249, 10, 250, "systolic_bp"),
        _range(3012888, 30, 200, "diastolic_bp"),
        _range(3038553, 16, 100, "bmi"),
        _range(3020891, 34, 45, "body_temperature"),
    )


def checks_by_table(catalogue: tuple[QualityCheck, ...]) -> dict[str, list[QualityCheck]]:
    tables: dict[str, list[QualityCheck]] = {}
    for check in catalogue:
        tables.setdefault(check.table, []).append(check)
    return tables


def run_table_checks(con, table: str, checks: list[QualityCheck], schema: str = "omop") -> list[CheckOutcome]:
    """Evaluate all checks of one table in a single scan (DuckDB, or PostgreSQL through the warehouse adapter)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchall()[0][0]
    aggregates = ", ".join(
        f"count(*) FILTER (WHERE ({c.denominator})) AS d{i}, "
        f"count(*) FILTER (WHERE ({c.denominator}) AND ({c.violation})) AS n{i}"
        for i, c in enumerate(checks)
    )
    sql = f"SELECT {aggregates} FROM {schema}.{table}"
    if not exists:
        return [CheckOutcome(c, "Not Applicable", 0, 0, 0.0, sql, "table absent") for c in checks]
    try:
        row = con.execute(sql).fetchall()[0]
    except (duckdb.Error, psycopg2.Error) as err:  # a check that cannot run is an Error, not a crash of the whole table
        return [CheckOutcome(c, "Error", 0, 0, 0.0, sql, str(err)) for c in checks]
    outcomes = []
    for i, check in enumerate(checks):
        denominator, violated = int(row[2 * i]), int(row[2 * i + 1])
        pct = 100.0 * violated / denominator if denominator else 0.0
        status: Status = "Not Applicable" if denominator == 0 else (
            "Failed" if pct > check.threshold_pct or (check.threshold_pct == 0 and violated) else "Passed")
        check_sql = (f"SELECT count(*) FROM {schema}.{table} "
                     f"WHERE ({check.denominator}) AND ({check.violation})")
        outcomes.append(CheckOutcome(check, status, violated, denominator, round(pct, 4), check_sql))
    return outcomes


RESULTS_DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_results (
    run_id VARCHAR, checked_at TIMESTAMP, check_name VARCHAR, cdm_table VARCHAR, kahn_category VARCHAR,
    kahn_subcategory VARCHAR, severity VARCHAR, threshold_pct DOUBLE PRECISION, status VARCHAR,
    num_violated BIGINT, num_denominator BIGINT, pct_violated DOUBLE PRECISION, check_sql VARCHAR, error VARCHAR
)
"""


LATEST_RESULTS_SQL = """
SELECT check_name, cdm_table, kahn_category, severity, status, pct_violated, threshold_pct
FROM (SELECT *, row_number() OVER (PARTITION BY check_name ORDER BY checked_at DESC) AS recency
      FROM quality.check_results) r
WHERE recency = 1
"""
"""The latest result of every check (portable SQL: DuckDB and PostgreSQL)."""


def persist_outcomes(con, run_id: str, outcomes: list[CheckOutcome]) -> None:
    """Keep every result of every run so trends can be queried."""
    con.execute(RESULTS_DDL)
    con.executemany(
        "INSERT INTO quality.check_results VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, o.check.name, o.check.table, o.check.kahn_category, o.check.kahn_subcategory, o.check.severity,
          o.check.threshold_pct, o.status, o.num_violated, o.num_denominator, o.pct_violated, o.sql, o.error]
         for o in outcomes],
    )


def summary_markdown(rows: list[tuple]) -> str:
    """Markdown table of results (worst first) from rows of (name, table, kahn, severity, status, pct, threshold)."""
    order = {"Error": 0, "Failed": 1, "Passed": 2, "Not Applicable": 3}
    rows = sorted(rows, key=lambda r: (order.get(r[4], 9), r[3] != "ERROR", -(r[5] or 0)))
    lines = ["| check | table | Kahn | severity | status | % violated | threshold % |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]:.2f} | {r[6]:.1f} |" for r in rows]
    return "\n".join(lines)
