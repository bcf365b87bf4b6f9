"""Keeping and reading check results: the ``quality.check_results`` table, summary records, a DQD-style JSON.

Every result of every run is appended (portable DDL and SQL: DuckDB and PostgreSQL), so
trends over runs can be queried. The JSON export follows DataQualityDashboard's result
file: ``Metadata``, ``Overview`` (counts of passed / failed / not applicable / error, overall
and per Kahn category and context) and ``CheckResults`` (one object per check instance).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Collection
from pathlib import Path

from mlhops_dagster.quality.catalogue import CheckOutcome
from mlhops_dagster.quality.check_types import CHECK_TYPES

logger = logging.getLogger(__name__)

COLUMNS = (
    ("run_id", "VARCHAR"),
    ("checked_at", "TIMESTAMP"),
    ("check_name", "VARCHAR"),
    ("cdm_table", "VARCHAR"),
    ("kahn_category", "VARCHAR"),
    ("kahn_subcategory", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("threshold_pct", "DOUBLE PRECISION"),
    ("status", "VARCHAR"),
    ("num_violated", "BIGINT"),
    ("num_denominator", "BIGINT"),
    ("pct_violated", "DOUBLE PRECISION"),
    ("check_sql", "VARCHAR"),
    ("error", "VARCHAR"),
    ("check_type", "VARCHAR"),
    ("cdm_field", "VARCHAR"),
    ("concept_id", "BIGINT"),
    ("unit_concept_id", "BIGINT"),
    ("context", "VARCHAR"),
    ("dagster_check", "VARCHAR"),
    ("started_at", "TIMESTAMP"),
    ("finished_at", "TIMESTAMP"),
)
RESULTS_DDL = (
    "CREATE SCHEMA IF NOT EXISTS quality;\n"
    "CREATE TABLE IF NOT EXISTS quality.check_results ("
    + ", ".join(f"{name} {kind}" for name, kind in COLUMNS[:14])
    + ");\n"
    # columns added after the first release: ALTER ... ADD COLUMN IF NOT EXISTS upgrades older tables in place
    + "\n".join(
        f"ALTER TABLE quality.check_results ADD COLUMN IF NOT EXISTS {name} {kind};" for name, kind in COLUMNS[14:]
    )
)

LATEST_RESULTS_SQL = """
SELECT check_name, cdm_table, kahn_category, severity, status, pct_violated, threshold_pct, check_type, cdm_field,
       context, num_violated, num_denominator, kahn_subcategory, concept_id, unit_concept_id, dagster_check,
       check_sql, error, run_id, checked_at
FROM (SELECT *, row_number() OVER (PARTITION BY check_name ORDER BY checked_at DESC) AS recency
      FROM quality.check_results) r
WHERE recency = 1
"""
"""The latest result of every check instance (portable SQL: DuckDB and PostgreSQL)."""

RESULT_FIELDS = (
    "check_name",
    "cdm_table",
    "kahn_category",
    "severity",
    "status",
    "pct_violated",
    "threshold_pct",
    "check_type",
    "cdm_field",
    "context",
    "num_violated",
    "num_denominator",
    "kahn_subcategory",
    "concept_id",
    "unit_concept_id",
    "dagster_check",
    "check_sql",
    "error",
    "run_id",
    "checked_at",
)


def ensure_results_table(con) -> None:
    for statement in RESULTS_DDL.split(";"):
        if statement.strip():
            con.execute(statement)


def persist_outcomes(
    con,
    run_id: str,
    outcomes: list[CheckOutcome],
    started_at: dt.datetime | None = None,
    finished_at: dt.datetime | None = None,
) -> None:
    """Append one row per check instance (every result of every run is kept)."""
    ensure_results_table(con)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    names = ", ".join(name for name, _ in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    con.executemany(
        f"INSERT INTO quality.check_results ({names}) VALUES ({marks})",
        [
            [
                run_id,
                finished_at or now,
                c.name,
                c.table,
                c.kahn_category,
                c.kahn_subcategory,
                c.severity,
                c.threshold_pct,
                o.status,
                o.num_violated,
                o.num_denominator,
                o.pct_violated,
                o.sql,
                o.error,
                c.check_type,
                c.field,
                c.concept_id,
                c.unit_concept_id,
                c.context,
                c.spec_name,
                started_at or now,
                finished_at or now,
            ]
            for o in outcomes
            for c in [o.check]
        ],
    )
    logger.debug("kept %d check results of run %s in quality.check_results", len(outcomes), run_id)


def latest_results(con) -> list[dict]:
    ensure_results_table(con)
    return [dict(zip(RESULT_FIELDS, row, strict=True)) for row in con.execute(LATEST_RESULTS_SQL).fetchall()]


def fatal_failures(results: list[dict], tables: Collection[str] | None = None) -> list[str]:
    """Latest ERROR-severity results that failed or could not run (on ``tables``), worst first.

    These block features and training: in the run that found them (Dagster's blocking checks)
    and in every later run until a build's checks pass again, whatever launched it.
    """
    return [
        f"{r['cdm_table']}.{r['check_name']}"
        for r in worst_first(results)
        if r["severity"] == "ERROR"
        and r["status"] in ("Failed", "Error")
        and (tables is None or r["cdm_table"] in tables)
    ]


STATUSES = ("Passed", "Failed", "Not Applicable", "Error")
_ORDER = {"Error": 0, "Failed": 1, "Passed": 2, "Not Applicable": 3}


def worst_first(results: list[dict]) -> list[dict]:
    return sorted(
        results,
        key=lambda r: (
            _ORDER.get(r["status"], 9),
            r["severity"] != "ERROR",
            -((r["pct_violated"] or 0) - (r["threshold_pct"] or 0)),
            r["check_name"],
        ),
    )


def overview(results: list[dict]) -> dict:
    """DQD's Overview: counts per status, overall and by Kahn category and context."""

    def counts(rows):
        return {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}

    out = {"total": len(results), **counts(results)}
    out["by_category"] = {
        k: counts([r for r in results if r["kahn_category"] == k])
        for k in sorted({r["kahn_category"] for r in results})
    }
    out["by_context"] = {
        k: counts([r for r in results if r["context"] == k]) for k in sorted({str(r["context"]) for r in results})
    }
    applicable = out["Passed"] + out["Failed"] + out["Error"]
    out["percent_passed"] = round(100.0 * out["Passed"] / applicable, 2) if applicable else 100.0
    return out


def category_records(results: list[dict]) -> list[dict]:
    """Status counts per Kahn category, then the total: one record each."""
    ov = overview(results)
    rows = {**ov["by_category"], "total": {s: ov[s] for s in STATUSES}}
    return [
        {"kahn_category": category, **{s.lower().replace(" ", "_"): c[s] for s in STATUSES}}
        for category, c in rows.items()
    ]


def worst_failure_records(results: list[dict], limit: int = 40) -> list[dict]:
    """The ``limit`` worst results that failed or could not run (errors first, then ERROR severity, then margin)."""
    return [
        {
            "check": r["check_name"],
            "table": r["cdm_table"],
            "field": r["cdm_field"],
            "kahn_category": r["kahn_category"],
            "severity": r["severity"],
            "status": r["status"],
            "num_violated": r["num_violated"],
            "num_denominator": r["num_denominator"],
            "pct_violated": r["pct_violated"] or 0,
            "threshold_pct": r["threshold_pct"] or 0,
        }
        for r in worst_first(results)
        if r["status"] in ("Error", "Failed")
    ][:limit]


def worst_outcome(outcomes: list[CheckOutcome]) -> CheckOutcome:
    """The outcome a Dagster check of many instances reports: errors, then failures, by margin over the threshold."""
    return min(outcomes, key=lambda o: (_ORDER[o.status], -(o.pct_violated - o.check.threshold_pct)))


def status_counts(outcomes: list[CheckOutcome]) -> dict[str, int]:
    return {s: sum(1 for o in outcomes if o.status == s) for s in STATUSES}


def breakdown_records(outcomes: list[CheckOutcome]) -> list[dict]:
    """Every instance of a Dagster check, worst status first: what it checks, its counts and threshold."""
    records = []
    for o in sorted(outcomes, key=lambda o: (_ORDER[o.status], o.check.name)):
        target = o.check.field or ""
        if o.check.concept_id is not None:
            target += f" {o.check.concept_id}" + (f"/{o.check.unit_concept_id}" if o.check.unit_concept_id else "")
        records.append(
            {
                "check": o.check.name,
                "field_or_concept": target,
                "status": o.status,
                "note": o.error[:120] if o.error else None,
                "num_violated": o.num_violated,
                "num_denominator": o.num_denominator,
                "pct_violated": o.pct_violated,
                "threshold_pct": o.check.threshold_pct,
            }
        )
    return records


def dqd_json(results: list[dict], run_id: str, cdm_schema: str) -> dict:
    """The results in the shape of DQD's JSON output (Metadata, Overview, CheckResults)."""
    check_results = [
        {
            "checkId": r["check_name"],
            "checkName": r["check_type"],
            "checkLevel": _level(r["check_type"]),
            "cdmTableName": (r["cdm_table"] or "").upper(),
            "cdmFieldName": (r["cdm_field"] or "").upper() or None,
            "conceptId": r["concept_id"],
            "unitConceptId": r["unit_concept_id"],
            "category": r["kahn_category"],
            "subcategory": r["kahn_subcategory"] or None,
            "context": r["context"],
            "severity": r["severity"],
            "dagsterCheck": r["dagster_check"],
            "numViolatedRows": r["num_violated"],
            "pctViolatedRows": round((r["pct_violated"] or 0) / 100.0, 6),
            "numDenominatorRows": r["num_denominator"],
            "threshold": r["threshold_pct"],
            "status": r["status"],
            "failed": int(r["status"] == "Failed"),
            "passed": int(r["status"] == "Passed"),
            "notApplicable": int(r["status"] == "Not Applicable"),
            "isError": int(r["status"] == "Error"),
            "notApplicableReason": r["error"] if r["status"] == "Not Applicable" else None,
            "error": r["error"] if r["status"] == "Error" else None,
            "queryText": r["check_sql"],
            "runId": r["run_id"],
            "checkedAt": str(r["checked_at"]),
        }
        for r in worst_first(results)
    ]
    return {
        "Metadata": {
            "cdmSchema": cdm_schema,
            "runId": run_id,
            "generatedAt": dt.datetime.now(dt.UTC).isoformat(),
            "dqdVersion": "2.8.4 defaults (mlhops_dagster.quality.dqd_catalogue)",
            "cdmVersion": "5.4",
        },
        "Overview": overview(results),
        "CheckResults": check_results,
    }


def _level(check_type: str | None) -> str:
    kind = CHECK_TYPES.get(check_type or "")
    return kind.level if kind else "FIELD"


def write_dqd_json(path: Path, document: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, default=str))
    return path
