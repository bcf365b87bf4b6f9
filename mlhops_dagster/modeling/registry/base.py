"""What every part of the registry shares: the store's location, its client, the store layout's names.

One ``MlflowClient(tracking_uri=..., registry_uri=...)`` per registry object does all the talking to
the store, so no MLflow process-global (tracking URI, registry URI, active run) is read or written.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "CHAMPION_HISTORY_TAG",
    "EVALUATION_DIR",
    "MODEL_ARTIFACT",
    "MODEL_CARD_DIR",
    "MODEL_ID_TAG",
    "PLOT_ARTIFACT_DIR",
    "RegistryBase",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_ARTIFACT = "model"  # name of the logged model (and run artifact path of models logged before MLflow 3)
PLOT_ARTIFACT_DIR = "plots"
EVALUATION_DIR = "evaluation"
MODEL_CARD_DIR = "model_card"
MODEL_ID_TAG = "mlhops.model_id"  # run tag: the MLflow 3 logged model holding the run's estimator
CHAMPION_HISTORY_TAG = "mlhops.champion_history"  # registered-model tag: versions that held `champion`, oldest first


class RegistryBase:
    """An MLflow store (tracking and registry on the same URI), one registered model and its experiment.

    ``artifact_root`` (a directory path or URI) is used only when an experiment does not exist yet:
    its artifact location becomes ``<artifact_root>/<experiment>``.
    """

    def __init__(self, tracking_uri: str, model_name: str, experiment: str, artifact_root: str | None = None) -> None:
        if not tracking_uri:
            raise ValueError("an explicit MLflow tracking URI is required")
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.experiment = experiment
        self.artifact_root = artifact_root
        self._client: MlflowClient | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.tracking_uri!r}, model_name={self.model_name!r})"

    @property
    def client(self) -> MlflowClient:
        """The client on this store (never MLflow's cwd-relative default), created on first use."""
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return self._client

    def ensure_experiment(self, name: str | None = None) -> str:
        """The id of experiment ``name`` (default: this registry's), created under the artifact root if missing."""
        from mlflow.exceptions import MlflowException

        name = name or self.experiment
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        location = _as_uri(f"{self.artifact_root.rstrip('/')}/{name}") if self.artifact_root else None
        try:
            return str(self.client.create_experiment(name, artifact_location=location))
        except MlflowException:  # created concurrently by another process
            experiment = self.client.get_experiment_by_name(name)
            if experiment is None:
                raise
            return str(experiment.experiment_id)

    def _version_by_alias(self, alias: str) -> ModelVersion:
        """The version behind ``alias``; LookupError (saying why when it is the champion) when there is none."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version_by_alias(self.model_name, alias)
        except MlflowException as exc:
            hint = (
                " — no version has passed the promotion gate yet (see the `promotion_gate` check of `model_promotion`)"
                if alias == CHAMPION
                else ""
            )
            raise LookupError(
                f"registered model {self.model_name!r} has no version with alias {alias!r}{hint} ({exc.message})"
            ) from exc

    def _model_location(self, run_id: str) -> str:
        """Where run ``run_id``'s estimator is stored: its logged model's artifact location (the ``runs:/`` URI
        for a run logged before logged models existed)."""
        model_id = self.client.get_run(run_id).data.tags.get(MODEL_ID_TAG)
        if model_id:
            return str(self.client.get_logged_model(model_id).artifact_location)
        return f"runs:/{run_id}/{MODEL_ARTIFACT}"

    def _log_files(self, run_id: str, files: dict[str, bytes | str], artifact_path: str) -> None:
        """Write ``files`` (name -> content) under ``artifact_path`` of the run."""
        with tempfile.TemporaryDirectory() as tmp:
            for name, content in files.items():
                path = Path(tmp) / name
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content, encoding="utf-8")
                self.client.log_artifact(run_id, str(path), artifact_path=artifact_path)


def _as_uri(location: str) -> str:
    """A local directory path -> ``file://`` URI; URIs are passed through."""
    parsed = urlparse(location)
    if parsed.scheme and len(parsed.scheme) > 1:  # not a Windows drive letter
        return location
    return Path(location).expanduser().resolve().as_uri()


def param_value(value: Any) -> str:
    """A parameter as MLflow stores it: JSON for containers, text otherwise, at most 6,000 characters."""
    text = json.dumps(value, default=str) if isinstance(value, (dict, list, tuple)) else str(value)
    return text[:6000]


def finite_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The metrics that are finite numbers (MLflow cannot chart NaN / inf, and the gate treats them as missing)."""
    out = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[key] = number
    return out
