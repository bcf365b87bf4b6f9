"""The demo's closing summary, read back from the warehouse and MLflow (not from memory)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from mlhops_dagster.modeling.registry import ModelRegistry
from mlhops_dagster.settings import Settings

CDM_TABLES = (
    "person",
    "observation_period",
    "visit_occurrence",
    "visit_detail",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
    "death",
    "payer_plan_period",
    "condition_era",
    "drug_era",
)


def print_summary(settings: Settings, elapsed: float, log_path: Path | None = None) -> None:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        print("\nOMOP CDM rows:")
        for table in CDM_TABLES:
            count = con.execute(f"SELECT count(*) FROM omop.{table}").fetchall()[0][0]
            print(f"  {table:<22}{count:>10,}")
        quarantined = con.execute("SELECT count(*) FROM raw.quarantine").fetchall()[0][0]
        mapped, total = con.execute(
            "SELECT sum(mapped_rows), sum(source_rows) FROM omop_int.int__mapping_rate"
        ).fetchall()[0]
        print(
            f"  (raw rows quarantined: {quarantined}; clinical rows mapped to standard concepts: {mapped / total:.1%})"
        )
        checks = con.execute(
            "SELECT status, count(*) FROM (SELECT status FROM quality.check_results QUALIFY row_number() "
            "OVER (PARTITION BY check_name ORDER BY checked_at DESC) = 1) GROUP BY status ORDER BY status"
        ).fetchall()
        print("Data-quality checks (latest): " + ", ".join(f"{s} {n}" for s, n in checks))
        drift = con.execute(
            "SELECT extract_id, share_drifted, n_drifted, n_columns, model_version FROM monitoring.drift_results "
            "ORDER BY computed_at"
        ).fetchall()
    finally:
        con.close()
    registry = ModelRegistry(settings.mlflow_tracking_uri, settings.model_name, experiment=settings.model_name)
    client = registry.client
    experiment = client.get_experiment_by_name(registry.experiment)
    print("Candidates (test split; search trials are child runs, not listed):")
    if experiment is not None:
        runs = client.search_runs(
            [experiment.experiment_id], order_by=["attributes.start_time ASC"], filter_string="metrics.test_auroc >= 0"
        )
        for run in runs:
            if "mlflow.parentRunId" in run.data.tags:
                continue
            m = run.data.metrics
            eps = f", DP ε spent {m['privacy_epsilon_spent']:.2f} (δ=1e-5)" if "privacy_epsilon_spent" in m else ""
            preset = run.data.tags.get("training_preset", "default")
            trials = f", {m['search_trials']:.0f} search trials" if "search_trials" in m else ""
            print(
                f"  {run.info.run_name:<20} AUROC {m.get('test_auroc', float('nan')):.3f} "
                f"(95% CI {m.get('test_auroc_ci_low', float('nan')):.3f}–{m.get('test_auroc_ci_high', float('nan')):.3f})"
                f"  AUPRC {m.get('test_auprc', float('nan')):.3f}  Brier {m.get('test_brier', float('nan')):.4f}"
                f"{eps}{trials}{'' if preset == 'default' else f'  [{preset}]'}"
            )
    model = client.get_registered_model(settings.model_name)
    for alias, version in sorted(model.aliases.items()):
        family = client.get_model_version(settings.model_name, version).tags.get("model_family", "")
        print(f"Registered {settings.model_name} v{version} {family} has alias '{alias}'")
    print("Promotion gate decisions:")
    versions = client.search_model_versions(f"name = '{settings.model_name}'")
    for mv in sorted(versions, key=lambda v: int(v.version)):
        tags = mv.tags or {}
        if "gate_decision" in tags:
            notes = f" (champion's AUROC {tags['gate_notes']})" if tags.get("gate_notes") else ""
            print(
                f"  v{mv.version} {tags.get('model_family', '')}: {tags['gate_decision']} — "
                f"{tags.get('gate_reasons', '')}{notes}"
            )
    if "champion" in model.aliases:
        card = client.get_model_version(settings.model_name, model.aliases["champion"]).description or ""
        print(f"Champion's model card: {card.rsplit('Model card: ', 1)[-1]}")
    for extract_id, share, n_drifted, n_columns, version in drift:
        print(
            f"Drift of {extract_id} vs champion v{version}'s training data: {share:.0%} of features "
            f"({n_drifted}/{n_columns})"
        )
    print(f"\nDemo finished in {elapsed:.0f}s." + (f" Full log: {log_path}" if log_path else ""))
    data = f"MLHOPS_DATA_DIR={settings.data_dir} "
    print(f"Open the Dagster UI:  {data}make ui          → {settings.dagster_ui_url}")
    print(f"Open the MLflow UI:   {data}make mlflow-ui   → {settings.mlflow_ui_url}")
