"""Stage 7 — monitoring: score each extract with the champion and measure drift against its training data."""


import dagster as dg
import pandas as pd

from assets.evaluation import model_registration
from assets.features import readmission_features
from assets.raw import extract_partitions
from mlhops_dagster.features.readmission import FEATURE_COLUMNS
from mlhops_dagster.modeling.registry import champion_info, load_model_by_alias
from mlhops_dagster.monitoring.drift import compute_drift
from mlhops_dagster.monitoring.tracking import log_drift_run
from resources import DUCKDB_POOL, MlflowResource, WarehouseResource

MONITORING_DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.batch_scores (
    extract_id VARCHAR, visit_occurrence_id BIGINT, person_id BIGINT, index_date DATE,
    score DOUBLE, model_name VARCHAR, model_version VARCHAR, scored_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS monitoring.drift_results (
    extract_id VARCHAR, model_version VARCHAR, share_drifted DOUBLE, n_drifted BIGINT, n_columns BIGINT,
    drift_fingerprint VARCHAR, mlflow_run_id VARCHAR, computed_at TIMESTAMP
);
"""


def extract_rows(con, extract_id: str) -> pd.DataFrame:
    """Cohort rows whose discharge falls inside the extract's period (from the raw manifest)."""
    period = con.execute(
        "SELECT period_start, period_end FROM raw.extract_manifest WHERE extract_id = ?", [extract_id]
    ).fetchall()
    if not period:
        raise dg.Failure(description=f"extract {extract_id} has not been loaded (raw.extract_manifest has no row)")
    return con.execute(
        "SELECT * FROM features.readmission WHERE index_date BETWEEN ? AND ? ORDER BY index_date, visit_occurrence_id",
        list(period[0]),
    ).df()


@dg.asset(
    partitions_def=extract_partitions,
    group_name="monitoring",
    kinds={"duckdb", "mlflow"},
    owners=["team:ml"],
    pool=DUCKDB_POOL,
    deps=[readmission_features, model_registration],
    automation_condition=dg.AutomationCondition.eager(),
    description="Readmission risk for every discharge in this extract, scored by the MLflow `champion`.",
)
def batch_scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 mlflow_tracking: MlflowResource) -> dg.MaterializeResult:
    extract_id = context.partition_key
    model, version = load_model_by_alias(mlflow_tracking.tracking_uri, mlflow_tracking.model_name, "champion")
    with warehouse.connect() as con:
        con.execute(MONITORING_DDL)
        rows = extract_rows(con, extract_id)
        scores = model.predict_proba(rows[FEATURE_COLUMNS])[:, 1] if len(rows) else []
        scored = pd.DataFrame({
            "extract_id": extract_id, "visit_occurrence_id": rows["visit_occurrence_id"],
            "person_id": rows["person_id"], "index_date": rows["index_date"], "score": scores,
            "model_name": mlflow_tracking.model_name, "model_version": str(version),
        })
        con.execute("DELETE FROM monitoring.batch_scores WHERE extract_id = ?", [extract_id])
        con.register("scored", scored)
        con.execute("INSERT INTO monitoring.batch_scores SELECT *, now()::TIMESTAMP FROM scored")
        con.unregister("scored")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(scored),
        "model_version": str(version),
        "mean_score": float(scored["score"].mean()) if len(scored) else 0.0,
        "high_risk_share_0.3": float((scored["score"] >= 0.3).mean()) if len(scored) else 0.0,
    })


@dg.asset(
    partitions_def=extract_partitions,
    group_name="monitoring",
    kinds={"evidently", "mlflow"},
    owners=["team:ml"],
    pool=DUCKDB_POOL,
    deps=[batch_scores],
    automation_condition=dg.AutomationCondition.eager(),
    description=(
        "Evidently DataDriftPreset (+ PSI) of this extract's features against the champion's training data. "
        "The HTML report is an MLflow artifact; `drift_sensor` requests retraining when the drifted share "
        "crosses the threshold."
    ),
)
def drift_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 mlflow_tracking: MlflowResource) -> dg.MaterializeResult:
    extract_id = context.partition_key
    champion = champion_info(mlflow_tracking.tracking_uri, mlflow_tracking.model_name)
    cutoff = champion.tags.get("train_index_date_max")
    with warehouse.connect() as con:
        con.execute(MONITORING_DDL)
        current = extract_rows(con, extract_id)
        reference = con.execute(
            "SELECT * FROM features.readmission WHERE split = 'train' AND index_date <= ?", [cutoff]
        ).df()
    if current.empty or reference.empty:
        raise dg.Failure(description=f"No rows to compare for extract {extract_id} "
                                     f"(current {len(current)}, reference {len(reference)})")
    result = compute_drift(reference, current, FEATURE_COLUMNS)
    run_id, link = log_drift_run(
        mlflow_tracking.tracking_uri, f"{mlflow_tracking.experiment}_monitoring", mlflow_tracking.artifact_root,
        extract_id, champion.version, result, mlflow_tracking.ui_url,
    )
    with warehouse.connect() as con:
        con.execute(MONITORING_DDL)
        con.execute("DELETE FROM monitoring.drift_results WHERE extract_id = ?", [extract_id])
        con.execute(
            "INSERT INTO monitoring.drift_results VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [extract_id, str(champion.version), result.share_drifted, result.n_drifted, result.n_columns,
             result.fingerprint, run_id],
        )
    worst = sorted(result.per_feature.items(),
                   key=lambda kv: (not result.per_feature_drifted.get(kv[0]), -result.psi.get(kv[0], 0.0)))[:15]
    table = "\n".join(["| feature | drift score | drifted | PSI |", "|---|---|---|---|"] + [
        f"| {name} | {score:.4g} | {result.per_feature_drifted.get(name)} | {result.psi.get(name, float('nan')):.3f} |"
        for name, score in worst])
    return dg.MaterializeResult(metadata={
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
    })
