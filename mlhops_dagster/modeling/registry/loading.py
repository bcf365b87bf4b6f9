"""Loading a candidate's or a registered version's estimator, and feeding it the columns it was fitted on.

The model's location is resolved through this registry's client to a concrete artifact URI (the
logged model's ``artifact_location``, or the version's download URI), downloaded with
``mlflow.artifacts.download_artifacts(..., tracking_uri=...)`` and loaded from the local copy with
``mlflow.sklearn.load_model``: the ``models:/`` resolution inside MLflow would read the process-global
tracking URI instead. Loading needs ``mlhops_dagster`` importable (cloudpickle) and
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` not set to false.
"""

from __future__ import annotations

import tempfile
from typing import Any

import pandas as pd

from mlhops_dagster.modeling.registry.base import CHAMPION, RegistryBase

__all__ = ["ModelLoading", "model_input"]


class ModelLoading(RegistryBase):
    """Reading estimators back from the store."""

    def load_run_model(self, run_id: str) -> Any:
        """The sklearn estimator logged by :meth:`~mlhops_dagster.modeling.registry.ModelRegistry.log_candidate`
        in run ``run_id``."""
        return self._load(self._model_location(run_id))

    def load_model_by_alias(self, alias: str = CHAMPION) -> tuple[Any, str]:
        """(sklearn estimator, version) behind ``alias`` of the registered model; LookupError if the alias is missing.

        The alias is resolved once and the model is loaded from that version's location, so the
        returned version always matches the returned model even if the alias moves meanwhile.
        """
        version = str(self._version_by_alias(alias).version)
        return self._load(self.client.get_model_version_download_uri(self.model_name, version)), version

    def _load(self, location: str) -> Any:
        import mlflow.artifacts
        import mlflow.sklearn

        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=location, dst_path=tmp, tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri
            )
            return mlflow.sklearn.load_model(local)


def model_input(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """The columns ``model`` was fitted on, in its order, taken from ``features``.

    A feature table rebuilt since the model was trained can hold other columns (per-concept
    flags are kept by prevalence, so the set moves with the data): a model must be fed the
    columns it knows, never whatever the table now has. ValueError names the missing ones.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise ValueError("the model records no input column names (feature_names_in_); it cannot be scored safely")
    missing = [str(c) for c in names if c not in features.columns]
    if missing:
        raise ValueError(
            f"the feature table lacks {len(missing)} column(s) the model was trained on "
            f"({', '.join(missing[:10])}{', ...' if len(missing) > 10 else ''}); retrain on the current "
            "features"
        )
    return features.loc[:, [str(c) for c in names]]
