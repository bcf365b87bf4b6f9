"""Stage 5 — training: one asset per model family, each an MLflow run with model, params and lineage tags."""

from collections.abc import Callable
from typing import Any, Literal

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.features import FEATURE_TABLE, cohort_features
from assets.metadata import table
from mlhops_dagster.features import LABEL_COLUMN, data_fingerprint, model_feature_columns
from mlhops_dagster.modeling.search import SEARCH_GRIDS, SearchResult, hyperparameter_search
from mlhops_dagster.modeling.trainers import (
    FAMILIES,
    TrainedModel,
    train_dp_mlp,
    train_lightgbm,
    train_logistic_regression,
)
from resources import FeatureStoreResource, MlflowResource

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "default": {},
    # deliberately worse models (stumps, a few rounds; heavy L2): the demo's rejected challenger
    "degraded": {
        "lightgbm": {"n_estimators": 3, "num_leaves": 2, "min_child_samples": 200, "learning_rate": 0.05},
        "logistic_regression": {"C": 1e-4},
    },
}


class TrainingConfig(dg.Config):
    """Launch-time knobs (set them in the launchpad or a run config)."""

    seed: int = 0
    dp_target_epsilon: float = 3.0
    dp_delta: float = 1e-5
    dp_epochs: int = 10
    search_trials: int = Field(
        default=6,
        ge=0,
        description=(
            "Hyper-parameter trials for LightGBM and logistic regression, scored on the latest 20 % of the training "
            "split's index dates (each an MLflow child run); 0 disables the search. The DP MLP is never searched."
        ),
    )
    preset: Literal["default", "degraded"] = Field(
        default="default",
        description=(
            "`degraded` trains deliberately worse LightGBM / logistic regression models with fixed parameters (no "
            "search): a challenger the promotion gate must reject."
        ),
    )


def train_split(feature_store: FeatureStoreResource) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    features = feature_store.read(FEATURE_TABLE)
    train = features[features["split"] == "train"]
    if train[LABEL_COLUMN].nunique() < 2:
        raise dg.Failure(description="The training split holds a single class; more data is needed to train")
    return features, train[model_feature_columns(features)], train[LABEL_COLUMN]


def _trainers() -> dict[str, Callable[[pd.DataFrame, pd.Series, TrainingConfig, dict], TrainedModel]]:
    return {
        "lightgbm": lambda X, y, cfg, params: train_lightgbm(X, y, seed=cfg.seed, **params),
        "logistic_regression": lambda X, y, cfg, params: train_logistic_regression(X, y, seed=cfg.seed, **params),
        "dp_mlp": lambda X, y, cfg, params: train_dp_mlp(
            X,
            y,
            seed=cfg.seed,
            target_epsilon=cfg.dp_target_epsilon,
            delta=cfg.dp_delta,
            epochs=cfg.dp_epochs,
            **params,
        ),
    }


def _search(
    context: dg.AssetExecutionContext,
    family: str,
    config: TrainingConfig,
    X_train: pd.DataFrame,
    y_train: pd.Series,
    index_dates: pd.Series,
) -> SearchResult | None:
    """The search's result, or None when it is off (config, preset, family) or the data cannot support it."""
    if config.search_trials == 0 or config.preset != "default" or family not in SEARCH_GRIDS:
        return None
    try:
        return hyperparameter_search(
            family, X_train, y_train, index_dates, seed=config.seed, max_trials=config.search_trials
        )
    except ValueError as err:
        context.log.warning(f"hyper-parameter search skipped, training with the defaults: {err}")
        return None


DESCRIPTIONS = {
    "lightgbm": "Gradient-boosted trees (LightGBM), the default model family.",
    "logistic_regression": "Baseline: scikit-learn logistic regression with median imputation and scaling.",
    "dp_mlp": "PyTorch MLP trained with Opacus DP-SGD at the configured ε (δ=1e-5); the spent ε is recorded.",
}


def build_training_asset(family: str) -> dg.AssetsDefinition:
    trainer = _trainers()[family]

    @dg.asset(
        name=f"{family}_model",
        group_name="training",
        kinds={"mlflow", "pytorch" if family == "dp_mlp" else ("lightgbm" if family == "lightgbm" else "scikitlearn")},
        owners=["team:ml"],
        deps=[cohort_features],
        description=DESCRIPTIONS[family] + " Trained on the temporal training split; logged as an MLflow run.",
    )
    def _train(
        context: dg.AssetExecutionContext,
        config: TrainingConfig,
        feature_store: FeatureStoreResource,
        mlflow_tracking: MlflowResource,
    ) -> dg.Output[dict]:
        features, X_train, y_train = train_split(feature_store)
        train_rows = features[features["split"] == "train"]
        search = _search(context, family, config, X_train, y_train, train_rows["index_date"])
        params = search.best.params if search else PRESETS[config.preset].get(family, {})
        trained = trainer(X_train, y_train, config, params)
        tags = {
            "dagster_run_id": context.run.run_id,
            "dagster_asset": context.asset_key.to_user_string(),
            "data_fingerprint": data_fingerprint(features),
            "train_fingerprint": data_fingerprint(train_rows),
            "train_index_date_max": str(train_rows["index_date"].max()),
            "model_family": family,
            "training_preset": config.preset,
        }
        run_id = mlflow_tracking.registry().log_candidate(
            trained,
            X_train,
            metrics={"train_rows": float(len(X_train)), "train_positives": float(y_train.sum())},
            tags={**tags, **mlflow_tracking.dagster_tags(context)},
            search=search,
        )
        metadata: dict = {
            "mlflow_run_id": run_id,
            "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_link(run_id)),
            "train_rows": len(X_train),
            "features": X_train.shape[1],
            "params": dg.MetadataValue.json({k: str(v) for k, v in trained.params.items()}),
        }
        metadata["preset"] = config.preset
        if search:
            metadata.update(
                {
                    "search_trials": len(search.trials),
                    "search_best_val_auroc": search.best.val_auroc,
                    "search_validation_window": f"{search.validation_start.date()} – {search.validation_end.date()}",
                    "search": table(search.trial_records()),
                }
            )
        if trained.privacy:
            metadata.update({f"dp_{k}": float(v) for k, v in trained.privacy.items()})
        return dg.Output({"family": family, "run_id": run_id, **tags}, metadata=metadata)

    return _train


training_assets = [build_training_asset(f) for f in FAMILIES]
