"""Model training, evaluation and MLflow registry for 30-day readmission prediction.

Heavy dependencies (lightgbm, torch, opacus, mlflow, matplotlib) are imported
lazily inside the functions that use them, so importing this package is cheap.
"""

from mlhops_dagster.modeling.evaluation import evaluate_binary, roc_pr_calibration_png
from mlhops_dagster.modeling.registry import (
    ModelVersionInfo,
    RegistrationResult,
    champion_info,
    load_model_by_alias,
    load_run_model,
    log_candidate,
    log_evaluation,
    register_best,
)
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
    "ModelVersionInfo",
    "RegistrationResult",
    "TrainedModel",
    "champion_info",
    "evaluate_binary",
    "load_model_by_alias",
    "load_run_model",
    "log_candidate",
    "log_evaluation",
    "register_best",
    "roc_pr_calibration_png",
    "train_dp_mlp",
    "train_lightgbm",
    "train_logistic_regression",
]
