"""Stage 7 — monitoring: score each extract (or, on a site's own CDM, each month) with the champion and
measure drift against its training data."""

import datetime as dt
from collections.abc import Callable

import dagster as dg

from assets.evaluation import model_registration
from assets.features import cohort_features
from assets.metadata import table
from assets.raw import extract_partitions
from mlhops_dagster.features import model_feature_columns
from mlhops_dagster.features.catalogue import monitored_features
from mlhops_dagster.modeling.registry import CHAMPION, model_input
from mlhops_dagster.monitoring.drift import DriftResult, compute_drift, most_drifted
from mlhops_dagster.monitoring.store import (
    HIGH_RISK_THRESHOLD,
    Connection,
    batch_score_rows,
    ensure_monitoring_tables,
    extract_period,
    record_drift_result,
    score_summary,
    training_reference,
    window_rows,
    write_batch_scores,
)
from mlhops_dagster.monitoring.tracking import log_drift_run
from resources import DUCKDB_POOL, MlflowResource, WarehouseResource

Window = Callable[[dg.AssetExecutionContext, Connection], tuple[dt.date, dt.date]]
"""The discharge dates one monitoring partition covers: (first, last), both inclusive."""

PER_FEATURE_COLUMNS = {
    "feature": "Monitored feature",
    "drift_score": "Evidently's score: a p-value (drift below the threshold) or a distance (drift at or above)",
    "drifted": "Evidently's verdict",
    "psi": "Population stability index (< 0.1 stable, 0.1-0.25 moderate, > 0.25 major shift)",
    "method": "The statistical test Evidently used",
}
"""The drift report's ``per_feature`` table: the 15 features to look at first, drifted ones first."""


def extract_window(context: dg.AssetExecutionContext, con: Connection) -> tuple[dt.date, dt.date]:
    """An extract partition covers the period its raw manifest recorded."""
    extract_id = context.partition_key
    period = extract_period(con, extract_id)
    if period is None:
        raise dg.Failure(description=f"extract {extract_id} has not been loaded (raw.extract_manifest has no row)")
    return period


def calendar_window(context: dg.AssetExecutionContext, con: Connection) -> tuple[dt.date, dt.date]:
    """A time partition (a month on a site's own CDM) covers its own dates."""
    window = context.partition_time_window
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()


def _batch_scores_asset(partitions_def: dg.PartitionsDefinition, window: Window, unit: str) -> dg.AssetsDefinition:
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
            model, version = mlflow_tracking.registry().load_model_by_alias(CHAMPION)
        except LookupError as err:  # no version has passed the promotion gate yet
            raise dg.Failure(description=str(err)) from err
        with warehouse.connect() as con:
            ensure_monitoring_tables(con)
            rows = window_rows(con, window(context, con))
            try:
                scores = model.predict_proba(model_input(model, rows))[:, 1] if len(rows) else []
            except ValueError as err:  # the feature table no longer has the champion's columns
                raise dg.Failure(description=f"Cannot score with champion v{version}: {err}") from err
            scored = batch_score_rows(extract_id, rows, scores, mlflow_tracking.model_name, str(version))
            write_batch_scores(con, extract_id, scored)
        mean_score, high_risk_share = score_summary(scored)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(scored),
                "model_version": str(version),
                "mean_score": mean_score,
                f"high_risk_share_{HIGH_RISK_THRESHOLD}": high_risk_share,
            }
        )

    return batch_scores


def _drift_result(
    result: DriftResult, champion_version: str, reference_rows: int, current_rows: int, run_id: str, link: str
) -> dg.MaterializeResult:
    """The drift report's materialization: the verdict, what was compared, the MLflow run, the worst features."""
    return dg.MaterializeResult(
        metadata={
            "share_drifted": float(result.share_drifted),
            "n_drifted": int(result.n_drifted),
            "n_columns": int(result.n_columns),
            "drift_fingerprint": result.fingerprint,
            "champion_version": champion_version,
            "reference_rows": reference_rows,
            "current_rows": current_rows,
            "mlflow_run_id": run_id,
            "mlflow_run": dg.MetadataValue.url(link),
            "per_feature": table(most_drifted(result), list(PER_FEATURE_COLUMNS), PER_FEATURE_COLUMNS),
        }
    )


def _drift_report_asset(
    partitions_def: dg.PartitionsDefinition, window: Window, unit: str, batch_scores: dg.AssetsDefinition
) -> dg.AssetsDefinition:
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
            "and 365-day form; no 180/30-day variants, age-group or per-concept flags, not the index date's "
            "calendar) against the champion's training data. "
            "The HTML report is an MLflow artifact; `drift_sensor` requests retraining when the drifted share "
            "crosses the threshold, once per extract and champion version."
        ),
    )
    def drift_report(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow_tracking: MlflowResource
    ) -> dg.MaterializeResult:
        extract_id = context.partition_key
        registry = mlflow_tracking.registry()
        try:
            champion = registry.champion_info(CHAMPION)
        except LookupError as err:
            raise dg.Failure(description=str(err)) from err
        with warehouse.connect() as con:
            ensure_monitoring_tables(con)
            current = window_rows(con, window(context, con))
            reference = training_reference(con, champion.tags.get("train_index_date_max"))
        if current.empty or reference.empty:
            raise dg.Failure(
                description=f"No rows to compare for extract {extract_id} "
                f"(current {len(current)}, reference {len(reference)})"
            )
        columns = monitored_features(model_feature_columns(reference))
        result = compute_drift(reference, current, columns, batch=f"{unit} {extract_id}")
        run_id, link = log_drift_run(
            registry,
            f"{mlflow_tracking.experiment}_monitoring",
            extract_id,
            champion.version,
            result,
            mlflow_tracking.ui_url,
            tags=mlflow_tracking.dagster_tags(context),
        )
        with warehouse.connect() as con:
            ensure_monitoring_tables(con)
            record_drift_result(con, extract_id, str(champion.version), result, run_id)
        return _drift_result(result, str(champion.version), len(reference), len(current), run_id, link)

    return drift_report


def build_monitoring_assets(
    partitions_def: dg.PartitionsDefinition, window: Window, unit: str = "extract"
) -> list[dg.AssetsDefinition]:
    """`batch_scores` and `drift_report`, partitioned by extract (raw ingest) or by month (a site's own CDM)."""
    batch_scores = _batch_scores_asset(partitions_def, window, unit)
    return [batch_scores, _drift_report_asset(partitions_def, window, unit, batch_scores)]


batch_scores, drift_report = build_monitoring_assets(extract_partitions, extract_window)
