"""Stage 6 — evaluation: each candidate on the test split, registration of the best, and the promotion gate."""


import base64

import dagster as dg
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from assets.features import FEATURE_TABLE
from assets.training import FAMILIES
from mlhops_dagster.features.readmission import LABEL_COLUMN, model_feature_columns
from mlhops_dagster.modeling.evaluation import (
    EvaluationConfig,
    age_band,
    evaluate_candidate,
    roc_pr_calibration_png,
)
from mlhops_dagster.modeling.promotion import GatePolicy, decide
from mlhops_dagster.modeling.registry import (
    CHAMPION,
    apply_gate,
    champion_info,
    load_model_by_alias,
    load_run_model,
    log_evaluation,
    register_best,
)
from mlhops_dagster.quality.report import fatal_failures, latest_results
from resources import FeatureStoreResource, MlflowResource, WarehouseResource

HEADLINE = ("auroc", "auroc_ci_low", "auroc_ci_high", "auprc", "brier", "scaled_brier", "calibration_slope",
            "calibration_in_the_large", "e_avg", "e90", "ece", "fixed_sensitivity", "fixed_ppv",
            "target_sens_threshold", "subgroup_worst_auroc_gap", "n", "n_positive")
_SEX = {8507: "male", 8532: "female"}
_RACE = {8527: "white", 8516: "black", 8515: "asian"}


def subgroups(test: pd.DataFrame) -> pd.DataFrame:
    """Sex, race, age band and site of each test row (the attributes fairness is reported over)."""
    return pd.DataFrame({
        "sex": test["gender_concept_id"].map(_SEX).fillna("other/unknown"),
        "race": test["race_concept_id"].map(_RACE).fillna("other/unknown"),
        "age_band": age_band(test["age_at_index"]).astype(str),
        "site": test["care_site_id"].astype("string").fillna("unknown"),
    }).reset_index(drop=True)


def _png_md(name: str, png: bytes) -> str:
    return f"![{name}](data:image/png;base64,{base64.b64encode(png).decode()})"


def _subgroup_markdown(table: pd.DataFrame) -> str:
    lines = ["| attribute | group | n | status | prevalence | AUROC | AUROC ratio | O/E | sensitivity |",
             "|---|---|---|---|---|---|---|---|---|"]

    def f(value, digits=3):
        return "-" if value is None or pd.isna(value) else f"{value:.{digits}f}"

    for r in table.to_dict("records"):
        lines.append(f"| {r['attribute']} | {r['group']} | {r['n']} | {r['status']} | {f(r.get('prevalence'))} | "
                     f"{f(r.get('auroc'))} | {f(r.get('auroc_ratio'), 2)} | {f(r.get('oe_ratio'), 2)} | "
                     f"{f(r.get('sensitivity'))} |")
    return "\n".join(lines)


def build_evaluation_asset(family: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{family}_evaluation",
        group_name="evaluation",
        kinds={"mlflow", "scikitlearn"},
        owners=["team:ml"],
        ins={"candidate": dg.AssetIn(f"{family}_model")},
        description=(
            f"Test-split evaluation of the {family} candidate, as PatientLevelPrediction reports it plus parity: "
            "AUROC / AUPRC with bootstrap 95% CIs, Brier and scaled Brier, calibration (in the large, slope, "
            "E-avg/E90/E-max, ECE), sensitivity / specificity / PPV / NPV at the operating threshold and at the "
            "threshold reaching the target sensitivity, net benefit, subgroup metrics by sex, race, age band and "
            "site with parity ratios; plots and tables logged to the candidate's MLflow run."
        ),
    )
    def _evaluate(context: dg.AssetExecutionContext, candidate: dict, feature_store: FeatureStoreResource,
                  mlflow_tracking: MlflowResource) -> dg.Output[dict]:
        features = feature_store.read(FEATURE_TABLE)
        test = features[features["split"] == "test"].reset_index(drop=True)
        model = load_run_model(mlflow_tracking.tracking_uri, candidate["run_id"])
        y = test[LABEL_COLUMN].to_numpy()
        scores = model.predict_proba(test[model_feature_columns(test)])[:, 1]
        result = evaluate_candidate(y, scores, subgroups(test), EvaluationConfig())
        metrics = result.metrics
        combined = roc_pr_calibration_png(y, scores, title=f"{family} — test split")
        log_evaluation(mlflow_tracking.tracking_uri, candidate["run_id"], {f"test_{k}": v for k, v in metrics.items()},
                       combined, plots=result.plots,
                       tables={"subgroups": result.subgroups, "net_benefit": result.net_benefit,
                               "thresholds": result.thresholds})
        plots = [_png_md("ROC, PR and calibration", combined)]
        if "net_benefit" in result.plots:
            plots.append(_png_md("net benefit", result.plots["net_benefit"]))
        return dg.Output(
            {**candidate, "metrics": metrics},
            metadata={
                **{f"test_{k}": float(metrics[k]) for k in HEADLINE if k in metrics and np.isfinite(metrics[k])},
                "mlflow_run_id": candidate["run_id"],
                "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_link(candidate["run_id"])),
                "plots": dg.MetadataValue.md("\n\n".join(plots)),
                "subgroups": dg.MetadataValue.md(_subgroup_markdown(result.subgroups)),
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
        "with alias `challenger`; it also becomes `champion` when the model has none yet (`model_promotion` "
        "decides later promotions)."
    ),
)
def model_registration(context: dg.AssetExecutionContext, mlflow_tracking: MlflowResource,
                       **evaluations: dict) -> dg.Output[dict]:
    by_auroc = {e["run_id"]: float(e["metrics"]["auroc"]) for e in evaluations.values()}
    result = register_best(mlflow_tracking.tracking_uri, mlflow_tracking.model_name, by_auroc)
    best = next(e for e in evaluations.values() if e["run_id"] == result.run_id)
    table = "\n".join(
        ["| candidate | test AUROC (95% CI) | AUPRC | Brier | calibration slope |", "|---|---|---|---|---|"]
        + [f"| {e['family']} | {e['metrics']['auroc']:.3f} ({e['metrics']['auroc_ci_low']:.3f}–"
           f"{e['metrics']['auroc_ci_high']:.3f}) | {e['metrics']['auprc']:.3f} | {e['metrics']['brier']:.4f} | "
           f"{e['metrics'].get('calibration_slope', float('nan')):.2f} |"
           for e in evaluations.values()]
    )
    return dg.Output(
        {"version": str(result.version), "run_id": result.run_id, "family": best["family"], "metrics": best["metrics"]},
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
        },
    )


_POLICY = GatePolicy()


class PromotionConfig(dg.Config):
    """The gate's limits (launchpad-editable); defaults are :class:`GatePolicy`'s."""

    auroc_tolerance: float = _POLICY.auroc_tolerance
    max_subgroup_auroc_gap: float = _POLICY.max_subgroup_auroc_gap
    calibration_slope_low: float = _POLICY.calibration_slope_bounds[0]
    calibration_slope_high: float = _POLICY.calibration_slope_bounds[1]
    require_data_quality: bool = _POLICY.require_data_quality


def _champion_auroc(mlflow_tracking: MlflowResource, test: pd.DataFrame) -> tuple[str | None, float | None, str]:
    """The champion's AUROC on the challenger's test window (re-scored), or its recorded one if it cannot score."""
    try:
        info = champion_info(mlflow_tracking.tracking_uri, mlflow_tracking.model_name, CHAMPION)
    except LookupError:
        return None, None, "no champion"
    try:
        model, _ = load_model_by_alias(mlflow_tracking.tracking_uri, mlflow_tracking.model_name, CHAMPION)
        scores = model.predict_proba(test[model_feature_columns(test)])[:, 1]
        return info.version, float(roc_auc_score(test[LABEL_COLUMN], scores)), "re-scored on the same test window"
    except (KeyError, ValueError) as err:  # a champion trained on other feature columns
        recorded = info.metrics.get("test_auroc")
        return info.version, recorded, f"champion could not score this window ({err}); its recorded test AUROC used"


@dg.asset(
    group_name="evaluation",
    kinds={"mlflow"},
    owners=["team:ml"],
    ins={"challenger": dg.AssetIn("model_registration")},
    check_specs=[dg.AssetCheckSpec("promotion_gate", asset="model_promotion", blocking=False,
                                   description="The challenger passed every rule of the promotion gate.")],
    description=(
        "Champion/challenger gate: the new `challenger` becomes `champion` only if, on the same frozen test window, "
        "its AUROC is within the tolerance of the champion's, its worst subgroup AUROC gap and calibration slope "
        "are within limits, and the fatal data-quality checks passed. The decision and its reasons are metadata, "
        "MLflow version tags and the `promotion_gate` check; `mlhops rollback` undoes a promotion."
    ),
)
def model_promotion(context: dg.AssetExecutionContext, config: PromotionConfig, challenger: dict,
                    feature_store: FeatureStoreResource, mlflow_tracking: MlflowResource,
                    warehouse: WarehouseResource):
    features = feature_store.read(FEATURE_TABLE)
    test = features[features["split"] == "test"].reset_index(drop=True)
    champion_version, champion_auroc, note = _champion_auroc(mlflow_tracking, test)
    with warehouse.connect() as con:
        dq = fatal_failures(latest_results(con))
    policy = GatePolicy(config.auroc_tolerance, config.max_subgroup_auroc_gap,
                        (config.calibration_slope_low, config.calibration_slope_high), config.require_data_quality)
    metrics = challenger["metrics"]
    decision = decide(challenger["version"], {"auroc": metrics.get("auroc"),
                                              "calibration_slope": metrics.get("calibration_slope"),
                                              "worst_subgroup_auroc_gap": metrics.get("subgroup_worst_auroc_gap")},
                      champion_version, champion_auroc, dq, policy, notes=(note,))
    moved = apply_gate(mlflow_tracking.tracking_uri, mlflow_tracking.model_name, decision)
    context.log.info(decision.summary)
    champion_now = champion_info(mlflow_tracking.tracking_uri, mlflow_tracking.model_name, CHAMPION).version
    yield dg.MaterializeResult(metadata={
        "decision": "promote" if decision.promote else "reject",
        "challenger_version": int(decision.challenger_version),
        "champion_version": int(champion_now),
        "champion_moved": moved,
        "reasons": "; ".join(decision.reasons),
        "gate": dg.MetadataValue.md(decision.markdown()),
    })
    yield dg.AssetCheckResult(check_name="promotion_gate", passed=decision.promote,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"decision": decision.summary, "champion_version": int(champion_now)})
