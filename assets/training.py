"""Stage 5 — training: one asset per model family, each an MLflow run with model, params and lineage tags."""


from collections.abc import Callable

import dagster as dg
import pandas as pd

from assets.features import FEATURE_TABLE, readmission_features
from mlhops_dagster.features.readmission import LABEL_COLUMN, data_fingerprint, model_feature_columns
from mlhops_dagster.modeling.registry import log_candidate
from mlhops_dagster.modeling.trainers import (
    TrainedModel,
    train_dp_mlp,
    train_lightgbm,
    train_logistic_regression,
)
from resources import FeatureStoreResource, MlflowResource


class TrainingConfig(dg.Config):
    """Launch-time knobs (set them in the launchpad or a run config)."""

    seed: int = 0
    dp_target_epsilon: float = 3.0
    dp_delta: float = 1e-5
    dp_epochs: int = 10


def train_split(feature_store: FeatureStoreResource) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    features = feature_store.read(FEATURE_TABLE)
    train = features[features["split"] == "train"]
    if train[LABEL_COLUMN].nunique() < 2:
        raise dg.Failure(description="The training split holds a single class; more data is needed to train")
    return features, train[model_feature_columns(features)], train[LABEL_COLUMN]


def _trainers() -> dict[str, Callable[[pd.DataFrame, pd.Series, TrainingConfig], TrainedModel]]:
    return {
        "lightgbm": lambda X, y, cfg: train_lightgbm(X, y, seed=cfg.seed),
        "logistic_regression": lambda X, y, cfg: train_logistic_regression(X, y, seed=cfg.seed),
        "dp_mlp": lambda X, y, cfg: train_dp_mlp(
            X, y, seed=cfg.seed, target_epsilon=cfg.dp_target_epsilon, delta=cfg.dp_delta, epochs=cfg.dp_epochs
        ),
    }


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
        deps=[readmission_features],
        description=DESCRIPTIONS[family] + " Trained on the temporal training split; logged as an MLflow run.",
    )
    def _train(context: dg.AssetExecutionContext, config: TrainingConfig, feature_store: FeatureStoreResource,
               mlflow_tracking: MlflowResource) -> dg.Output[dict]:
        features, X_train, y_train = train_split(feature_store)
        trained = trainer(X_train, y_train, config)
        train_rows = features[features["split"] == "train"]
        tags = {
            "dagster_run_id": context.run.run_id,
            "dagster_asset": context.asset_key.to_user_string(),
            "data_fingerprint": data_fingerprint(features),
            "train_fingerprint": data_fingerprint(train_rows),
            "train_index_date_max": str(train_rows["index_date"].max()),
            "model_family": family,
        }
        run_id = log_candidate(
            mlflow_tracking.tracking_uri, mlflow_tracking.experiment, trained, X_train,
            metrics={"train_rows": float(len(X_train)), "train_positives": float(y_train.sum())},
            tags=tags, artifact_root=mlflow_tracking.artifact_root,
        )
        metadata: dict = {"mlflow_run_id": run_id, "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_link(run_id)),
                          "train_rows": len(X_train), "features": X_train.shape[1],
                          "params": dg.MetadataValue.json({k: str(v) for k, v in trained.params.items()})}
        if trained.privacy:
            metadata.update({f"dp_{k}": float(v) for k, v in trained.privacy.items()})
        return dg.Output({"family": family, "run_id": run_id, **tags}, metadata=metadata)

    return _train


FAMILIES = ("lightgbm", "logistic_regression", "dp_mlp")
training_assets = [build_training_asset(f) for f in FAMILIES]
