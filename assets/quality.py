"""Stage 3 — quality: the DQD check catalogue as blocking multi-asset checks (one per CDM table) and `dqa_report`.

Each CDM table gets one multi-asset check whose specs are the table's check groups (one per
DQD check type, plus the named groups ``person_year_of_birth_plausible``,
``visit_end_not_before_start`` and ``plausible_value_<lab or vital>``); every check instance's
result is kept in ``quality.check_results`` and the group's metadata carries the breakdown.
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.keys import MAPPING_RATE_KEY, cdm_key
from assets.metadata import table
from mlhops_dagster.features import CDM_INPUT_TABLES
from mlhops_dagster.omop.reconciliation import reconcile
from mlhops_dagster.quality.catalogue import (
    CheckOutcome,
    QualityCheck,
    apply_thresholds,
    checks_by_table,
    default_catalogue,
    spec_groups,
)
from mlhops_dagster.quality.mapping_rate import below_threshold, overall_rate, rate_records, read_mapping_rates
from mlhops_dagster.quality.report import (
    breakdown_records,
    category_records,
    dqd_json,
    fatal_failures,
    latest_results,
    persist_outcomes,
    status_counts,
    worst_failure_records,
    worst_outcome,
    write_dqd_json,
)
from mlhops_dagster.quality.runner import run_table_checks
from resources import DUCKDB_POOL, DataQualityResource, WarehouseResource

CATALOGUE = default_catalogue()
CHECKS_BY_TABLE = checks_by_table(CATALOGUE)
CATALOGUE_TABLES = sorted(CHECKS_BY_TABLE)
CHECKED_TABLES = sorted(CDM_INPUT_TABLES)
"""The CDM tables the features read: the tables a site's own CDM must provide, and the ones checked there.
On a CDM we build, every table's checks run and a fatal failure on any of them blocks `dqa_report`."""


AFTER_FATAL_CHECKS_PASSED = (
    dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("eager, once every fatal check upstream passed")
"""Declarative automation for what reads the CDM: a fatal check that failed in an earlier run still blocks."""


def _group_result(cdm_table: str, spec_name: str, outcomes: list[CheckOutcome]) -> dg.AssetCheckResult:
    """One Dagster check result for a group of instances: fails when any instance failed or errored."""
    worst = worst_outcome(outcomes)
    check = worst.check
    counts = status_counts(outcomes)
    return dg.AssetCheckResult(
        asset_key=cdm_key(cdm_table),
        check_name=spec_name,
        passed=not (counts["Failed"] or counts["Error"]),
        severity=dg.AssetCheckSeverity.ERROR if check.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        description=check.description if len(outcomes) == 1 else f"{len(outcomes)} {check.check_type} checks",
        metadata={
            "status": worst.status,
            "check_type": check.check_type,
            "num_violated": worst.num_violated,
            "num_denominator": worst.num_denominator,
            "pct_violated": worst.pct_violated,
            "threshold_pct": check.threshold_pct,
            "worst_check": check.name,
            "kahn_category": check.kahn_category,
            "kahn_subcategory": check.kahn_subcategory,
            "context": check.context,
            "instances": len(outcomes),
            **{f"instances_{s.lower().replace(' ', '_')}": n for s, n in counts.items()},
            "breakdown": table(breakdown_records(outcomes)),
            "sql": dg.MetadataValue.md(f"```sql\n{worst.sql}\n```"),
            **({"error": worst.error} if worst.error else {}),
        },
    )


def build_table_checks(cdm_table: str, checks: list[QualityCheck]) -> dg.AssetChecksDefinition:
    """One multi-asset check per CDM table: a handful of statements evaluate all of that table's checks.

    ERROR-severity specs are blocking: their failure stops downstream assets in the same run,
    and :data:`AFTER_FATAL_CHECKS_PASSED` keeps automation from requesting them in later runs.
    WARN specs are not blocking, so their failures never hold anything back.
    """
    groups = spec_groups(checks)

    @dg.multi_asset_check(
        name=f"dqa_{cdm_table}",
        specs=[
            dg.AssetCheckSpec(
                name,
                asset=cdm_key(cdm_table),
                blocking=members[0].severity == "ERROR",
                description=members[0].description
                if len(members) == 1
                else f"{members[0].check_type}: {len(members)} checks on {cdm_table}",
                metadata={
                    "severity": members[0].severity,
                    "kahn_category": members[0].kahn_category,
                    "context": members[0].context,
                    "instances": len(members),
                },
            )
            for name, members in groups.items()
        ],
        pool=DUCKDB_POOL,
        compute_kind="sql",
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, dqa: DataQualityResource):
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        effective = apply_thresholds(checks, dqa.threshold_overrides())
        with warehouse.connect() as con:
            outcomes = run_table_checks(
                con, cdm_table, effective, schema=warehouse.cdm_schema, concept_relation=dqa.concept_relation or "auto"
            )
            finished = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
            persist_outcomes(con, context.run.run_id, outcomes, started, finished)
        by_group: dict[str, list[CheckOutcome]] = {}
        for outcome in outcomes:
            by_group.setdefault(outcome.check.spec_name, []).append(outcome)
        for name in groups:
            yield _group_result(cdm_table, name, by_group[name])

    return _checks


quality_checks = [build_table_checks(t, checks) for t, checks in CHECKS_BY_TABLE.items()]
own_cdm_quality_checks = [build_table_checks(t, checks) for t, checks in CHECKS_BY_TABLE.items() if t in CHECKED_TABLES]


def build_dqa_report(tables: list[str]) -> dg.AssetsDefinition:
    """`dqa_report` after the checks of ``tables``: a fatal failure on any of them blocks it, and so the features."""

    @dg.asset(
        group_name="quality",
        kinds={"sql", "json"},
        owners=["team:data-quality"],
        pool=DUCKDB_POOL,
        deps=[cdm_key(t) for t in tables],
        automation_condition=AFTER_FATAL_CHECKS_PASSED,
        description=(
            f"ML-DQA summary of the latest check results on the {len(tables)} CDM tables (passed / failed / NA / "
            "error per Kahn category, worst failures first) and a DataQualityDashboard-style JSON export. Every "
            "result of every run is kept in `quality.check_results`."
        ),
    )
    def dqa_report(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, dqa: DataQualityResource
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            results = latest_results(con)
        counts = {
            s: sum(1 for r in results if r["status"] == s) for s in ("Passed", "Failed", "Not Applicable", "Error")
        }
        fatal = fatal_failures(results)
        run_id = context.run.run_id
        report_dir = Path(dqa.report_dir) if dqa.report_dir else Path(warehouse.path).parent / "quality"
        path = write_dqd_json(report_dir / f"dqa_{run_id}.json", dqd_json(results, run_id, warehouse.cdm_schema))
        return dg.MaterializeResult(
            metadata={
                "checks": len(results),
                **{f"checks_{s.lower().replace(' ', '_')}": n for s, n in counts.items()},
                "fatal_failures": ", ".join(fatal[:50]) or "none",
                "kahn_categories": table(category_records(results)),
                "worst_failures": table(worst_failure_records(results)),
                "json_report": dg.MetadataValue.path(str(path)),
            }
        )

    return dqa_report


dqa_report = build_dqa_report(CATALOGUE_TABLES)
own_cdm_dqa_report = build_dqa_report(CHECKED_TABLES)
DQA_REPORT_KEY = dqa_report.key


def build_mapping_rate_check(min_rate: float) -> dg.AssetChecksDefinition:
    """WARN when any (source table, domain) maps fewer than ``min_rate`` of its rows to standard concepts."""

    @dg.asset_check(
        asset=MAPPING_RATE_KEY,
        name="mapping_rate_above_threshold",
        blocking=False,
        pool=DUCKDB_POOL,
        description=f"Every source table and domain maps at least {min_rate:.0%} of its rows "
        "to a standard concept (MLHOPS_MIN_MAPPING_RATE).",
    )
    def mapping_rate_above_threshold(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            rates = read_mapping_rates(con)
        low = below_threshold(rates, min_rate)
        return dg.AssetCheckResult(
            passed=not low,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "overall_mapping_rate": round(overall_rate(rates), 4),
                "min_mapping_rate": min_rate,
                "below_threshold": ", ".join(f"{r.source_table}/{r.target_domain} {r.rate:.1%}" for r in low) or "none",
                "rates": table(rate_records(rates, min_rate)),
            },
        )

    return mapping_rate_above_threshold


def build_reconciliation_check() -> dg.AssetChecksDefinition:
    """ERROR when a loaded raw row reached no CDM table, or a CDM event row has no source (DuckDB or PostgreSQL warehouse)."""

    @dg.asset_check(
        asset=MAPPING_RATE_KEY,
        name="no_source_rows_lost",
        blocking=False,
        pool=DUCKDB_POOL,
        description="Every loaded raw row (clinical events, encounters, patients) reached a CDM table, "
        "and every CDM event row traces back to a source row.",
    )
    def no_source_rows_lost(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            result = reconcile(con)
        return dg.AssetCheckResult(
            passed=result.ok,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "lost_rows": result.lost_rows,
                "orphan_cdm_rows": sum(result.orphan_cdm_rows.values()),
                "problems": "; ".join(result.problems()) or "none",
                "reconciliation": table(
                    [
                        {**r, "cdm_rows": ", ".join(f"{t} {n}" for t, n in r["cdm_rows"].items())}
                        for r in result.as_rows()
                    ],
                    columns=["source_table", "raw_rows", "reached_rows", "lost_rows", "cdm_rows"],
                ),
            },
        )

    return no_source_rows_lost
