"""MLflow tracking and registry location."""

import dagster as dg


class MlflowResource(dg.ConfigurableResource):
    """An explicit MLflow tracking URI (never MLflow's cwd-relative default) and artifact root."""

    tracking_uri: str
    artifact_root: str
    experiment: str = "readmission_30d"
    model_name: str = "readmission_30d"
    ui_url: str = "http://127.0.0.1:5000"

    def run_link(self, experiment_id: str, run_id: str) -> str:
        return f"{self.ui_url}/#/experiments/{experiment_id}/runs/{run_id}"
