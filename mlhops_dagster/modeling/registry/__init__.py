"""MLflow 3 tracking of candidate models and the model registry (aliases, no stages), as one object.

A :class:`ModelRegistry` holds the store's tracking URI (the registry is on the same URI), the
registered model's name and the experiment (with the artifact root new experiments get). Everything
goes through its own ``MlflowClient(tracking_uri=..., registry_uri=...)``, and the flavour functions
are used only where no tracking URI is involved (``mlflow.sklearn.save_model`` to a local folder,
``mlflow.sklearn.load_model`` from one): MLflow's process-global URIs and environment variables are
neither read nor written, so registries on different stores can be used side by side.

Store layout (kept from the earlier fluent-API version, so existing stores keep working): a run per
candidate named after its family, its estimator as the run's MLflow 3 logged model ``model`` (id in
the run tag ``mlhops.model_id``), ``plots/*.png``, ``evaluation/*.csv``, ``model_card/model_card.*``;
versions tagged ``decision``, ``gate_decision``, ``gate_reasons``, ``model_card``...; the registered
model's tag ``mlhops.champion_history``.
"""

from mlhops_dagster.modeling.registry.base import (
    CHALLENGER,
    CHAMPION,
    CHAMPION_HISTORY_TAG,
    EVALUATION_DIR,
    MODEL_ARTIFACT,
    MODEL_CARD_DIR,
    MODEL_ID_TAG,
    PLOT_ARTIFACT_DIR,
)
from mlhops_dagster.modeling.registry.loading import ModelLoading, model_input
from mlhops_dagster.modeling.registry.runs import IMPORTANCE_TOP_K, RunLogging
from mlhops_dagster.modeling.registry.versions import (
    ModelVersionInfo,
    RegistrationResult,
    RollbackResult,
    VersionRegistry,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "CHAMPION_HISTORY_TAG",
    "EVALUATION_DIR",
    "IMPORTANCE_TOP_K",
    "MODEL_ARTIFACT",
    "MODEL_CARD_DIR",
    "MODEL_ID_TAG",
    "PLOT_ARTIFACT_DIR",
    "ModelRegistry",
    "ModelVersionInfo",
    "RegistrationResult",
    "RollbackResult",
    "model_input",
]


class ModelRegistry(RunLogging, ModelLoading, VersionRegistry):
    """One MLflow store, one registered model and its experiment: log candidates, evaluations and model cards,
    load models by run or alias, register the best, apply the promotion gate, roll back.

    ``ModelRegistry(tracking_uri, model_name, experiment, artifact_root=None)``; ``artifact_root`` (a
    directory path or URI) is used only when an experiment does not exist yet.
    """
