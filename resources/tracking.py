"""MLflow tracking and registry location."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from mlhops_dagster.modeling.registry import ModelRegistry


class MlflowResource(dg.ConfigurableResource):
    """An explicit MLflow tracking URI (never MLflow's cwd-relative default) and artifact root."""

    tracking_uri: str
    artifact_root: str
    experiment: str = "readmission_30d"
    model_name: str = "readmission_30d"
    ui_url: str = "http://127.0.0.1:5000"

    def registry(self) -> ModelRegistry:
        """The registered model and its experiment on this store: what the assets log, load and promote through."""
        from mlhops_dagster.modeling.registry import ModelRegistry

        return ModelRegistry(self.tracking_uri, self.model_name, self.experiment, artifact_root=self.artifact_root)

    def run_link(self, run_id: str) -> str:
        """Where `make mlflow-ui` shows this run."""
        experiment_id = self.registry().client.get_run(run_id).info.experiment_id
        return f"{self.ui_url}/#/experiments/{experiment_id}/runs/{run_id}"
