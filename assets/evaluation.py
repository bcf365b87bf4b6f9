"""Stage 6 — evaluation: each candidate on the test split, then registration of the best in MLflow."""


import base64

import dagster as dg

from assets.features import FEATURE_TABLE
from assets.training import FAMILIES
from mlhops_dagster.features.readmission import FEATURE_COLUMNS, LABEL_COLUMN
from mlhops_dagster.modeling.evaluation import evaluate_binary, roc_pr_calibration_png
from mlhops_dagster.modeling.registry import load_run_model, log_evaluation, register_best
from resources import FeatureStoreResource, MlflowResource

HEADLINE = ("auroc", "auroc_ci_low", "auroc_ci_high", "auprc", "brier", "n", "n_positive")


def build_evaluation_asset(family: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{family}_evaluation",
        group_name="evaluation",
        kinds={"mlflow", "scikitlearn"},
        owners=["team:ml"],
        ins={"candidate": dg.AssetIn(f"{family}_model")},
        description=(
            f"Test-split evaluation of the {family} candidate: AUROC and AUPRC with bootstrap 95% CIs, Brier, "
            "ROC / PR / calibration plots; logged to the candidate's MLflow run."
        ),
    )
    def _evaluate(context: dg.AssetExecutionContext, candidate: dict, feature_store: FeatureStoreResource,
                  mlflow_tracking: MlflowResource) -> dg.Output[dict]:
        features = feature_store.read(FEATURE_TABLE)
        test = features[features["split"] == "test"]
        model = load_run_model(mlflow_tracking.tracking_uri, candidate["run_id"])
        scores = model.predict_proba(test[FEATURE_COLUMNS])[:, 1]
        metrics = evaluate_binary(test[LABEL_COLUMN].to_numpy(), scores)
        png = roc_pr_calibration_png(test[LABEL_COLUMN].to_numpy(), scores, title=f"{family} — test split")
        log_evaluation(mlflow_tracking.tracking_uri, candidate["run_id"], {f"test_{k}": v for k, v in metrics.items()},
                       png)
        image = base64.b64encode(png).decode()
        return dg.Output(
            {**candidate, "metrics": metrics},
            metadata={
                **{f"test_{k}": float(metrics[k]) for k in HEADLINE if k in metrics},
                "mlflow_run_id": candidate["run_id"],
                "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_link(candidate["run_id"])),
                "plots": dg.MetadataValue.md(f"![evaluation](data:image/png;base64,{image})"),
            },
        )

    return _evaluate


evaluation_assets = [build_evaluation_asset(f) for f in FAMILIES]


@dg.asset(
    group_name="evaluation",
    kinds={"mlflow"},
    owners=["team:ml"],
    ins={f"{f}_evaluation": dg.AssetIn(f"{f}_evaluation") for f in FAMILIES},
    description=(
        "Registers the candidate with the best test AUROC as a new version of the model in the MLflow registry "
        "with alias `challenger`; it also becomes `champion` when the model has none yet."
    ),
)
def model_registration(context: dg.AssetExecutionContext, mlflow_tracking: MlflowResource,
                       **evaluations: dict) -> dg.MaterializeResult:
    by_auroc = {e["run_id"]: float(e["metrics"]["auroc"]) for e in evaluations.values()}
    result = register_best(mlflow_tracking.tracking_uri, mlflow_tracking.model_name, by_auroc)
    best = next(e for e in evaluations.values() if e["run_id"] == result.run_id)
    table = "\n".join(
        ["| candidate | test AUROC (95% CI) | AUPRC | Brier |", "|---|---|---|---|"]
        + [f"| {e['family']} | {e['metrics']['auroc']:.3f} ({e['metrics']['auroc_ci_low']:.3f}–"
           f"{e['metrics']['auroc_ci_high']:.3f}) | {e['metrics']['auprc']:.3f} | {e['metrics']['brier']:.4f} |"
           for e in evaluations.values()]
    )
    return dg.MaterializeResult(
        metadata={
            "model_name": mlflow_tracking.model_name,
            "version": int(result.version),
            "aliases": ", ".join(result.aliases),
            "became_champion": result.champion_set,
            "best_family": best["family"],
            "best_test_auroc": float(best["metrics"]["auroc"]),
            "mlflow_run_id": result.run_id,
            "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_link(result.run_id)),
            "candidates": dg.MetadataValue.md(table),
        }
    )
