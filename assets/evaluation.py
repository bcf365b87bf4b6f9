"""Stage 6 — evaluation: each candidate on the test split, registration of the best, and the promotion gate."""

import base64
import hashlib
import json
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from assets.features import FEATURE_TABLE, cohort_features
from assets.metadata import table
from assets.training import FAMILIES
from mlhops_dagster.ehr.ingest import loaded_extracts
from mlhops_dagster.features import LABEL_COLUMN
from mlhops_dagster.features.task import DEFAULT_TASK
from mlhops_dagster.modeling.evaluation import (
    EvaluationConfig,
    evaluate_candidate,
    global_feature_importance,
    roc_pr_calibration_png,
    subgroup_attributes,
)
from mlhops_dagster.modeling.model_card import (
    ModelCard,
    cohort_facts,
    quality_summary,
    render_html,
    render_markdown,
    run_facts,
    summary_line,
)
from mlhops_dagster.modeling.promotion import GatePolicy, champion_auroc, decide
from mlhops_dagster.modeling.registry import CHAMPION, IMPORTANCE_TOP_K, model_input
from mlhops_dagster.quality.report import fatal_failures, latest_results
from resources import FeatureStoreResource, MlflowResource, OmopDbtResource, WarehouseResource

HEADLINE = (
    "auroc",
    "auroc_ci_low",
    "auroc_ci_high",
    "auprc",
    "brier",
    "scaled_brier",
    "calibration_slope",
    "calibration_in_the_large",
    "e_avg",
    "e90",
    "ece",
    "fixed_sensitivity",
    "fixed_ppv",
    "target_sens_threshold",
    "subgroup_worst_auroc_gap",
    "n",
    "n_positive",
)
SUBGROUP_TABLE = ("attribute", "group", "n", "status", "prevalence", "auroc", "auroc_ratio", "oe_ratio", "sensitivity")
SUBGROUP_DESCRIPTIONS = {
    "auroc_ratio": "group AUROC / overall AUROC (1 = parity)",
    "oe_ratio": "observed / expected events",
    "sensitivity": "at the operating threshold",
}
EVALUATION = EvaluationConfig()


def _png_md(name: str, png: bytes) -> str:
    return f"![{name}](data:image/png;base64,{base64.b64encode(png).decode()})"


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
            "site with parity ratios, global feature importance (TreeSHAP, standardised coefficients or permutation); "
            "plots and tables logged to the candidate's MLflow run."
        ),
    )
    def _evaluate(
        context: dg.AssetExecutionContext,
        candidate: dict,
        feature_store: FeatureStoreResource,
        mlflow_tracking: MlflowResource,
    ) -> dg.Output[dict]:
        registry = mlflow_tracking.registry()
        features = feature_store.read(FEATURE_TABLE)
        test = features[features["split"] == "test"].reset_index(drop=True)
        model = registry.load_run_model(candidate["run_id"])
        y = test[LABEL_COLUMN].to_numpy()
        try:
            X_test = model_input(model, test)
            scores = model.predict_proba(X_test)[:, 1]
        except ValueError as err:  # the features were rebuilt with other columns since this candidate trained
            raise dg.Failure(description=f"Cannot evaluate the {family} candidate: {err}") from err
        result = evaluate_candidate(y, scores, subgroup_attributes(test), EVALUATION)
        importance = global_feature_importance(model, X_test, y, seed=EVALUATION.seed)
        metrics = result.metrics
        combined = roc_pr_calibration_png(y, scores, title=f"{family} — test split")
        registry.log_evaluation(
            candidate["run_id"],
            {f"test_{k}": v for k, v in metrics.items()},
            combined,
            plots=result.plots,
            tables={"subgroups": result.subgroups, "net_benefit": result.net_benefit, "thresholds": result.thresholds},
        )
        registry.log_feature_importance(candidate["run_id"], importance)
        plots = [_png_md("ROC, PR and calibration", combined)]
        if "net_benefit" in result.plots:
            plots.append(_png_md("net benefit", result.plots["net_benefit"]))
        output = {
            **candidate,
            "metrics": metrics,
            "subgroups": result.subgroups.to_dict("records"),
            "feature_importance": importance.to_dict("records"),
        }
        return dg.Output(
            output,
            metadata={
                **{f"test_{k}": float(metrics[k]) for k in HEADLINE if k in metrics and np.isfinite(metrics[k])},
                "mlflow_run_id": candidate["run_id"],
                "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_link(candidate["run_id"])),
                "plots": dg.MetadataValue.md("\n\n".join(plots)),
                "subgroups": table(result.subgroups, columns=SUBGROUP_TABLE, descriptions=SUBGROUP_DESCRIPTIONS),
                "feature_importance": table(importance.head(IMPORTANCE_TOP_K)),
            },
        )

    return _evaluate


evaluation_assets = [build_evaluation_asset(f) for f in FAMILIES]


def _this_run(context: dg.AssetExecutionContext, evaluations: dict[str, dict]) -> dict[str, dict]:
    """The candidates trained in this Dagster run (a run that retrains one family competes only with itself);
    all of them when none was (registration re-materialised on its own)."""
    fresh = {k: e for k, e in evaluations.items() if e.get("dagster_run_id") == context.run.run_id}
    return fresh or evaluations


def _dbt_manifest_hash(path: Path) -> str:
    """A hash of the dbt models' checksums (stable across re-parses of the same project; '' without a manifest)."""
    if not path.exists():
        return ""
    nodes = json.loads(path.read_text(encoding="utf-8")).get("nodes", {})
    checksums = sorted((uid, (node.get("checksum") or {}).get("checksum", "")) for uid, node in nodes.items())
    return hashlib.sha256(json.dumps(checksums).encode()).hexdigest()[:16]


def _extract_ids(warehouse: WarehouseResource) -> list[str]:
    with warehouse.connect() as con:
        return loaded_extracts(con)


def _task_facts(context: dg.AssetExecutionContext) -> tuple[str, str, str]:
    """Task name, description and definition as the feature asset recorded them (default task as fallback)."""
    event = context.instance.get_latest_materialization_event(cohort_features.key)
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}

    def text(key: str, default: str) -> str:
        return str(metadata[key].value) if key in metadata else default

    return (
        text("task", DEFAULT_TASK.name),
        text("task_description", DEFAULT_TASK.description),
        text("task_definition", DEFAULT_TASK.summary()),
    )


def build_model_card(
    context: dg.AssetExecutionContext,
    best: dict,
    version: str,
    features: pd.DataFrame,
    warehouse: WarehouseResource,
    mlflow_tracking: MlflowResource,
    dbt_manifest: Path,
) -> ModelCard:
    """Collect the card's facts: the feature table, the registry run, the latest check results."""
    registry = mlflow_tracking.registry()
    run = registry.client.get_run(best["run_id"])
    with warehouse.connect() as con:
        quality = quality_summary(latest_results(con))
    task_name, task_description, task_definition = _task_facts(context)
    return ModelCard(
        model_name=mlflow_tracking.model_name,
        version=version,
        family=best["family"],
        task_name=task_name,
        task_description=task_description,
        task_definition=task_definition,
        **cohort_facts(features, LABEL_COLUMN),
        **run_facts(run.data.params, run.data.metrics),
        metrics=best["metrics"],
        subgroups=best.get("subgroups", []),
        feature_importance=best.get("feature_importance", []),
        max_subgroup_auroc_gap=_POLICY.max_subgroup_auroc_gap,
        data_quality=quality,
        extract_ids=_extract_ids(warehouse),
        calibration_png=registry.read_artifact(best["run_id"], "plots/calibration.png"),
        lineage={
            "dagster_run_id": run.data.tags.get("dagster_run_id", ""),
            "dbt_manifest_hash": _dbt_manifest_hash(dbt_manifest),
            "data_fingerprint": run.data.tags.get("data_fingerprint", ""),
            "mlflow_run_id": best["run_id"],
        },
    )


@dg.asset(
    group_name="evaluation",
    kinds={"mlflow"},
    owners=["team:ml"],
    ins={f"{f}_evaluation": dg.AssetIn(f"{f}_evaluation") for f in FAMILIES},
    description=(
        "Registers the candidate with the best test AUROC among this run's candidates as a new version of the "
        "model in the MLflow registry with alias `challenger` only; `model_promotion` alone decides whether it "
        "becomes `champion` (the first version included). The version gets a model card (markdown + HTML "
        "artifacts of its run, summary as the version description)."
    ),
)
def model_registration(
    context: dg.AssetExecutionContext,
    mlflow_tracking: MlflowResource,
    feature_store: FeatureStoreResource,
    warehouse: WarehouseResource,
    dbt: OmopDbtResource,
    **evaluations: dict,
) -> dg.Output[dict]:
    registry = mlflow_tracking.registry()
    competing = _this_run(context, evaluations)
    by_auroc = {e["run_id"]: float(e["metrics"]["auroc"]) for e in competing.values()}
    result = registry.register_best(by_auroc)
    best = next(e for e in competing.values() if e["run_id"] == result.run_id)
    candidates = [
        {
            "candidate": e["family"],
            **{k: e["metrics"].get(k) for k in ("auroc", "auroc_ci_low", "auroc_ci_high", "auprc", "brier")},
            "calibration_slope": e["metrics"].get("calibration_slope"),
        }
        for e in competing.values()
    ]
    card = build_model_card(
        context,
        best,
        str(result.version),
        feature_store.read(FEATURE_TABLE),
        warehouse,
        mlflow_tracking,
        Path(dbt.manifest_path),
    )
    card_md = render_markdown(card)
    card_uri = registry.log_model_card(
        str(result.version), result.run_id, card_md, render_html(card, card_md), summary_line(card)
    )
    return dg.Output(
        {"version": str(result.version), "run_id": result.run_id, "family": best["family"], "metrics": best["metrics"]},
        metadata={
            "model_name": mlflow_tracking.model_name,
            "version": int(result.version),
            "aliases": ", ".join(result.aliases),
            "best_family": best["family"],
            "best_test_auroc": float(best["metrics"]["auroc"]),
            "mlflow_run_id": result.run_id,
            "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_link(result.run_id)),
            "candidates": table(
                candidates, descriptions={"auroc": "test AUROC (95% CI: auroc_ci_low – auroc_ci_high)"}
            ),
            "model_card": dg.MetadataValue.md(card_md),
            "model_card_html": dg.MetadataValue.url(card_uri),
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


@dg.asset(
    group_name="evaluation",
    kinds={"mlflow"},
    owners=["team:ml"],
    ins={"challenger": dg.AssetIn("model_registration")},
    check_specs=[
        dg.AssetCheckSpec(
            "promotion_gate",
            asset="model_promotion",
            blocking=False,
            description="The challenger passed every rule of the promotion gate.",
        )
    ],
    description=(
        "Champion/challenger gate: the new `challenger` (the first version too) becomes `champion` only if, on the "
        "same frozen test window, its AUROC is within the tolerance of the champion's (not applicable while there "
        "is no champion), its worst subgroup AUROC gap and calibration slope "
        "are within limits, and the fatal data-quality checks passed. The decision and its reasons are metadata, "
        "MLflow version tags and the `promotion_gate` check; a rejected version loses `challenger`; "
        "`mlhops rollback` undoes a promotion."
    ),
)
def model_promotion(
    context: dg.AssetExecutionContext,
    config: PromotionConfig,
    challenger: dict,
    feature_store: FeatureStoreResource,
    mlflow_tracking: MlflowResource,
    warehouse: WarehouseResource,
):
    registry = mlflow_tracking.registry()
    features = feature_store.read(FEATURE_TABLE)
    test = features[features["split"] == "test"].reset_index(drop=True)
    champion = champion_auroc(registry, test, LABEL_COLUMN)
    with warehouse.connect() as con:
        dq = fatal_failures(latest_results(con))
    policy = GatePolicy(
        config.auroc_tolerance,
        config.max_subgroup_auroc_gap,
        (config.calibration_slope_low, config.calibration_slope_high),
        config.require_data_quality,
    )
    metrics = challenger["metrics"]
    decision = decide(
        challenger["version"],
        {
            "auroc": metrics.get("auroc"),
            "calibration_slope": metrics.get("calibration_slope"),
            "worst_subgroup_auroc_gap": metrics.get("subgroup_worst_auroc_gap"),
        },
        champion.version,
        champion.auroc,
        dq,
        policy,
        notes=(champion.note,),
    )
    moved = registry.apply_gate(decision)
    context.log.info(decision.summary)
    try:
        champion_now: int | str = int(registry.champion_info(CHAMPION).version)
    except LookupError:  # the first version was rejected: nothing is served until a version passes
        champion_now = "none"
    yield dg.MaterializeResult(
        metadata={
            "decision": "promote" if decision.promote else "reject",
            "challenger_version": int(decision.challenger_version),
            "champion_version": champion_now,
            "champion_moved": moved,
            "reasons": "; ".join(decision.reasons),
            "gate": table(decision.records()),
            "notes": "\n".join(decision.notes),
        }
    )
    yield dg.AssetCheckResult(
        check_name="promotion_gate",
        passed=decision.promote,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"decision": decision.summary, "champion_version": champion_now},
    )
