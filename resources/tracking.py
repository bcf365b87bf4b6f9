"""MLflow tracking and registry location."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from mlhops_dagster.links import dagster_link_tags, mlflow_run_url

if TYPE_CHECKING:
    from mlhops_dagster.modeling.registry import ModelRegistry


class MlflowResource(dg.ConfigurableResource):
    """An explicit MLflow tracking URI (never MLflow's cwd-relative default) and artifact root."""

    tracking_uri: str
    artifact_root: str
    experiment: str = "readmission_30d"
    model_name: str = "readmission_30d"
    ui_url: str = "http://127.0.0.1:5000"
    """The MLflow UI people open (settings: ``MLHOPS_MLFLOW_UI_URL``); metadata links point there."""
    dagster_ui_url: str = "http://127.0.0.1:3000"
    """The Dagster UI people open (settings: ``MLHOPS_DAGSTER_UI_URL``); MLflow runs link back there."""

    def registry(self) -> ModelRegistry:
        """The registered model and its experiment on this store: what the assets log, load and promote through."""
        from mlhops_dagster.modeling.registry import ModelRegistry

        return ModelRegistry(self.tracking_uri, self.model_name, self.experiment, artifact_root=self.artifact_root)

    def run_link(self, run_id: str) -> str:
        """Where the MLflow UI shows this run."""
        experiment_id = self.registry().client.get_run(run_id).info.experiment_id
        return mlflow_run_url(self.ui_url, experiment_id, run_id)

    def dagster_tags(self, context: dg.AssetExecutionContext) -> dict[str, str]:
        """Tags linking an MLflow run back to the Dagster run and asset that made it."""
        return dagster_link_tags(self.dagster_ui_url, context.run.run_id, context.asset_key.path)
