"""Model training, evaluation and the MLflow registry for a prediction task's binary outcome.

Heavy dependencies (lightgbm, torch, opacus, mlflow, matplotlib, statsmodels) are imported
lazily inside the functions that use them, so importing this package is cheap.
"""

from mlhops_dagster.modeling.evaluation import EvaluationConfig, evaluate_binary, evaluate_candidate
from mlhops_dagster.modeling.registry import ModelRegistry, ModelVersionInfo, RegistrationResult
from mlhops_dagster.modeling.trainers import (
    FAMILIES,
    DPMLPClassifier,
    TrainedModel,
    train_dp_mlp,
    train_lightgbm,
    train_logistic_regression,
)

__all__ = [
    "FAMILIES",
    "DPMLPClassifier",
    "EvaluationConfig",
    "ModelRegistry",
    "ModelVersionInfo",
    "RegistrationResult",
    "TrainedModel",
    "evaluate_binary",
    "evaluate_candidate",
    "train_dp_mlp",
    "train_lightgbm",
    "train_logistic_regression",
]
