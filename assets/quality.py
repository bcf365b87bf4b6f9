"""Stage 3 — quality: ML-DQA checks as blocking asset checks on the CDM tables, and the `dqa_report`."""


import dagster as dg
from dagster_dbt import get_asset_key_for_model

from assets.omop import omop_cdm
from mlhops_dagster.omop.reconciliation import reconcile
from mlhops_dagster.quality.checks import (
    LATEST_RESULTS_SQL,
    RESULTS_DDL,
    CheckOutcome,
    QualityCheck,
    checks_by_table,
    default_catalogue,
    persist_outcomes,
    run_table_checks,
    summary_markdown,
)
from mlhops_dagster.quality.mapping_rate import below_threshold, overall_rate, rates_markdown, read_mapping_rates
from resources import DUCKDB_POOL, WarehouseResource

CATALOGUE = default_catalogue()
CHECKED_TABLES = sorted(checks_by_table(CATALOGUE))


def cdm_key(table: str) -> dg.AssetKey:
    return get_asset_key_for_model([omop_cdm], table)


def _result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    check = outcome.check
    return dg.AssetCheckResult(
        asset_key=cdm_key(check.table),
        check_name=check.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if check.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        description=check.description,
        metadata={
            "status": outcome.status,
            "num_violated": outcome.num_violated,
            "num_denominator": outcome.num_denominator,
            "pct_violated": outcome.pct_violated,
            "threshold_pct": check.threshold_pct,
            "kahn_category": check.kahn_category,
            "kahn_subcategory": check.kahn_subcategory,
            "sql": dg.MetadataValue.md(f"```sql\n{outcome.sql}\n```"),
            **({"error": outcome.error} if outcome.error else {}),
        },
    )


def build_table_checks(table: str, checks: list[QualityCheck]) -> dg.AssetChecksDefinition:
    """One multi-asset check per CDM table: a single scan evaluates all of that table's checks.

    Every spec is blocking, so downstream assets wait for the checks; only ERROR-severity
    failures stop them (Dagster's blocking semantics).
    """

    @dg.multi_asset_check(
        name=f"dqa_{table}",
        specs=[
            dg.AssetCheckSpec(c.name, asset=cdm_key(table), blocking=True, description=c.description,
                              metadata={"severity": c.severity, "kahn_category": c.kahn_category})
            for c in checks
        ],
        pool=DUCKDB_POOL,
        compute_kind="sql",
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect() as con:
            outcomes = run_table_checks(con, table, checks, schema=warehouse.cdm_schema)
            persist_outcomes(con, context.run.run_id, outcomes)
        for outcome in outcomes:
            yield _result(outcome)

    return _checks


quality_checks = [build_table_checks(table, checks) for table, checks in checks_by_table(CATALOGUE).items()]


@dg.asset(
    group_name="quality",
    kinds={"sql"},
    owners=["team:data-quality"],
    pool=DUCKDB_POOL,
    deps=[cdm_key(t) for t in CHECKED_TABLES],
    automation_condition=dg.AutomationCondition.eager(),
    description=(
        "ML-DQA summary of the latest check results on the CDM tables (Kahn category, status, "
        "worst first). Every result of every run is kept in `quality.check_results`."
    ),
)
def dqa_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        con.execute(RESULTS_DDL)
        rows = con.execute(LATEST_RESULTS_SQL).fetchall()
    counts = {s: sum(1 for r in rows if r[4] == s) for s in ("Passed", "Failed", "Not Applicable", "Error")}
    fatal = [r[0] for r in rows if r[3] == "ERROR" and r[4] in ("Failed", "Error")]
    return dg.MaterializeResult(
        metadata={
            "checks": len(rows),
            **{f"checks_{s.lower().replace(' ', '_')}": n for s, n in counts.items()},
            "fatal_failures": ", ".join(fatal) or "none",
            "summary": dg.MetadataValue.md(summary_markdown(rows)),
        }
    )


def build_mapping_rate_check(min_rate: float) -> dg.AssetChecksDefinition:
    """WARN when any (source table, domain) maps fewer than ``min_rate`` of its rows to standard concepts."""
    mapping_rate_key = cdm_key("mapping_rate")

    @dg.asset_check(asset=mapping_rate_key, name="mapping_rate_above_threshold", blocking=False, pool=DUCKDB_POOL,
                    description=f"Every source table and domain maps at least {min_rate:.0%} of its rows "
                                "to a standard concept (MLHOPS_MIN_MAPPING_RATE).")
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
                "rates": dg.MetadataValue.md(rates_markdown(rates, min_rate)),
            },
        )

    return mapping_rate_above_threshold


def build_reconciliation_check() -> dg.AssetChecksDefinition:
    """ERROR when a loaded raw row reached no CDM table, or a CDM event row has no source (DuckDB warehouse)."""

    @dg.asset_check(asset=cdm_key("mapping_rate"), name="no_source_rows_lost", blocking=False, pool=DUCKDB_POOL,
                    description="Every loaded raw row (clinical events, encounters, patients) reached a CDM table, "
                                "and every CDM event row traces back to a source row.")
    def no_source_rows_lost(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            result = reconcile(con)
        table = ["| source | loaded | reached CDM | lost | CDM rows by table |", "|---|---|---|---|---|"] + [
            f"| {r['source_table']} | {r['raw_rows']} | {r['reached_rows']} | {r['lost_rows']} | "
            f"{', '.join(f'{t} {n}' for t, n in r['cdm_rows'].items())} |" for r in result.as_rows()]
        return dg.AssetCheckResult(
            passed=result.ok,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"lost_rows": result.lost_rows,
                      "orphan_cdm_rows": sum(result.orphan_cdm_rows.values()),
                      "problems": "; ".join(result.problems()) or "none",
                      "reconciliation": dg.MetadataValue.md("\n".join(table))},
        )

    return no_source_rows_lost
