"""Stage 7 — monitoring: score each extract (or, on a site's own CDM, each month) with the champion and
measure drift against its training data."""

import datetime as dt
from collections.abc import Callable

import dagster as dg
import pandas as pd

from assets.evaluation import model_registration
from assets.features import cohort_features
from assets.raw import extract_partitions
from mlhops_dagster.features import model_feature_columns
from mlhops_dagster.features.catalogue import monitored_features
from mlhops_dagster.modeling.registry import champion_info, load_model_by_alias, model_input
from mlhops_dagster.monitoring.drift import compute_drift
from mlhops_dagster.monitoring.tracking import log_drift_run
from mlhops_dagster.warehouse import write_frame
from resources import DUCKDB_POOL, MlflowResource, WarehouseResource

MONITORING_DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.batch_scores (
    extract_id VARCHAR, visit_occurrence_id BIGINT, person_id BIGINT, index_date DATE,
    score DOUBLE PRECISION, model_name VARCHAR, model_version VARCHAR, scored_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS monitoring.drift_results (
    extract_id VARCHAR, model_version VARCHAR, share_drifted DOUBLE PRECISION, n_drifted BIGINT, n_columns BIGINT,
    drift_fingerprint VARCHAR, mlflow_run_id VARCHAR, computed_at TIMESTAMP
);
"""


Window = Callable[[dg.AssetExecutionContext, object], tuple[dt.date, dt.date]]
"""The discharge dates one monitoring partition covers: (first, last), both inclusive."""


def extract_window(context: dg.AssetExecutionContext, con) -> tuple[dt.date, dt.date]:
    """An extract partition covers the period its raw manifest recorded."""
    extract_id = context.partition_key
    period = con.execute(
        "SELECT period_start, period_end FROM raw.extract_manifest WHERE extract_id = ?", [extract_id]
    ).fetchall()
    if not period:
        raise dg.Failure(description=f"extract {extract_id} has not been loaded (raw.extract_manifest has no row)")
    return period[0][0], period[0][1]


def calendar_window(context: dg.AssetExecutionContext, con) -> tuple[dt.date, dt.date]:
    """A time partition (a month on a site's own CDM) covers its own dates."""
    window = context.partition_time_window
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()


def window_rows(con, period: tuple[dt.date, dt.date]) -> pd.DataFrame:
    """Cohort rows whose discharge falls inside ``period``."""
    return con.execute(
        "SELECT * FROM features.cohort WHERE index_date BETWEEN ? AND ? ORDER BY index_date, visit_occurrence_id",
        list(period),
    ).df()


def build_monitoring_assets(
    partitions_def: dg.PartitionsDefinition, window: Window, unit: str = "extract"
) -> list[dg.AssetsDefinition]:
    """`batch_scores` and `drift_report`, partitioned by extract (raw ingest) or by month (a site's own CDM)."""

    @dg.asset(
        partitions_def=partitions_def,
        group_name="monitoring",
        kinds={"sql", "mlflow"},
        owners=["team:ml"],
        pool=DUCKDB_POOL,
        deps=[cohort_features, model_registration],
        automation_condition=dg.AutomationCondition.eager(),
        description=f"The MLflow `champion`'s risk score for every index event in this {unit}.",
    )
    def batch_scores(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow_tracking: MlflowResource
    ) -> dg.MaterializeResult:
        extract_id = context.partition_key
        try:
            model, version = load_model_by_alias(mlflow_tracking.tracking_uri, mlflow_tracking.model_name, "champion")
        except LookupError as err:  # no version has passed the promotion gate yet
            raise dg.Failure(description=str(err)) from err
        with warehouse.connect() as con:
            con.execute(MONITORING_DDL)
            rows = window_rows(con, window(context, con))
            try:
                scores = model.predict_proba(model_input(model, rows))[:, 1] if len(rows) else []
            except ValueError as err:  # the feature table no longer has the champion's columns
                raise dg.Failure(description=f"Cannot score with champion v{version}: {err}") from err
            scored = pd.DataFrame(
                {
                    "extract_id": extract_id,
                    "visit_occurrence_id": rows["visit_occurrence_id"],
                    "person_id": rows["person_id"],
                    "index_date": rows["index_date"],
                    "score": scores,
                    "model_name": mlflow_tracking.model_name,
                    "model_version": str(version),
                    "scored_at": pd.Timestamp.now(),
                }
            )
            write_frame(con, "monitoring", "batch_scores", scored, replace_where=("extract_id", extract_id))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(scored),
                "model_version": str(version),
                "mean_score": float(scored["score"].mean()) if len(scored) else 0.0,
                "high_risk_share_0.3": float((scored["score"] >= 0.3).mean()) if len(scored) else 0.0,
            }
        )

    @dg.asset(
        partitions_def=partitions_def,
        group_name="monitoring",
        kinds={"evidently", "mlflow"},
        owners=["team:ml"],
        pool=DUCKDB_POOL,
        deps=[batch_scores],
        automation_condition=dg.AutomationCondition.eager(),
        description=(
            f"Evidently data drift (+ PSI) of this {unit}'s monitored features (each signal in its all-history "
            "and 365-day form; no 180/30-day variants, age-group or per-concept flags) against the champion's "
            "training data. "
            "The HTML report is an MLflow artifact; `drift_sensor` requests retraining when the drifted share "
            "crosses the threshold."
        ),
    )
    def drift_report(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow_tracking: MlflowResource
    ) -> dg.MaterializeResult:
        extract_id = context.partition_key
        try:
            champion = champion_info(mlflow_tracking.tracking_uri, mlflow_tracking.model_name)
        except LookupError as err:
            raise dg.Failure(description=str(err)) from err
        cutoff = champion.tags.get("train_index_date_max")
        with warehouse.connect() as con:
            con.execute(MONITORING_DDL)
            current = window_rows(con, window(context, con))
            reference = con.execute(
                "SELECT * FROM features.cohort WHERE split = 'train' AND index_date <= ?", [cutoff]
            ).df()
        if current.empty or reference.empty:
            raise dg.Failure(
                description=f"No rows to compare for extract {extract_id} "
                f"(current {len(current)}, reference {len(reference)})"
            )
        result = compute_drift(reference, current, monitored_features(model_feature_columns(reference)))
        run_id, link = log_drift_run(
            mlflow_tracking.tracking_uri,
            f"{mlflow_tracking.experiment}_monitoring",
            mlflow_tracking.artifact_root,
            extract_id,
            champion.version,
            result,
            mlflow_tracking.ui_url,
        )
        with warehouse.connect() as con:
            con.execute(MONITORING_DDL)
            con.execute("DELETE FROM monitoring.drift_results WHERE extract_id = ?", [extract_id])
            con.execute(
                "INSERT INTO monitoring.drift_results VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [
                    extract_id,
                    str(champion.version),
                    result.share_drifted,
                    result.n_drifted,
                    result.n_columns,
                    result.fingerprint,
                    run_id,
                ],
            )
        worst = sorted(
            result.per_feature.items(),
            key=lambda kv: (not result.per_feature_drifted.get(kv[0]), -result.psi.get(kv[0], 0.0)),
        )[:15]
        table = "\n".join(
            ["| feature | drift score | drifted | PSI |", "|---|---|---|---|"]
            + [
                f"| {name} | {score:.4g} | {result.per_feature_drifted.get(name)} | {result.psi.get(name, float('nan')):.3f} |"
                for name, score in worst
            ]
        )
        return dg.MaterializeResult(
            metadata={
                "share_drifted": float(result.share_drifted),
                "n_drifted": int(result.n_drifted),
                "n_columns": int(result.n_columns),
                "drift_fingerprint": result.fingerprint,
                "champion_version": str(champion.version),
                "reference_rows": len(reference),
                "current_rows": len(current),
                "mlflow_run_id": run_id,
                "mlflow_run": dg.MetadataValue.url(link),
                "per_feature": dg.MetadataValue.md(table),
            }
        )

    return [batch_scores, drift_report]


batch_scores, drift_report = build_monitoring_assets(extract_partitions, extract_window)
