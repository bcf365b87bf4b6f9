"""Links between the two UIs: a Dagster run and asset page, an MLflow run page, and the tags that carry them."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

DAGSTER_RUN_URL_TAG = "dagster_run_url"
DAGSTER_ASSET_URL_TAG = "dagster_asset_url"
MLFLOW_NOTE_TAG = "mlflow.note.content"
"""MLflow shows this tag as the run's description, rendered as Markdown: the links there are clickable."""


def dagster_run_url(dagster_ui_url: str, run_id: str) -> str:
    return f"{dagster_ui_url.rstrip('/')}/runs/{run_id}"


def dagster_asset_url(dagster_ui_url: str, asset_path: Sequence[str]) -> str:
    return f"{dagster_ui_url.rstrip('/')}/assets/{'/'.join(quote(part, safe='') for part in asset_path)}"


def mlflow_run_url(mlflow_ui_url: str, experiment_id: str, run_id: str) -> str:
    return f"{mlflow_ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def dagster_link_tags(dagster_ui_url: str, run_id: str, asset_path: Sequence[str]) -> dict[str, str]:
    """Tags for an MLflow run made by a Dagster asset: both URLs, and a description linking to them."""
    run_url = dagster_run_url(dagster_ui_url, run_id)
    asset_url = dagster_asset_url(dagster_ui_url, asset_path)
    name = "/".join(asset_path)
    return {
        DAGSTER_RUN_URL_TAG: run_url,
        DAGSTER_ASSET_URL_TAG: asset_url,
        MLFLOW_NOTE_TAG: f"Made by the Dagster asset [{name}]({asset_url}) in run [{run_id[:8]}]({run_url}).",
    }
