"""MLflow tracking and registry location."""

import dagster as dg


class MlflowResource(dg.ConfigurableResource):
    """An explicit MLflow tracking URI (never MLflow's cwd-relative default) and artifact root."""

    tracking_uri: str
    artifact_root: str
    experiment: str = "readmission_30d"
    model_name: str = "readmission_30d"
    ui_url: str = "http://127.0.0.1:5000"

    def run_link(self, run_id: str) -> str:
        """Where `make mlflow-ui` shows this run."""
        from mlhops_dagster.modeling.registry import tracking_client

        experiment_id = tracking_client(self.tracking_uri).get_run(run_id).info.experiment_id
        return f"{self.ui_url}/#/experiments/{experiment_id}/runs/{run_id}"
