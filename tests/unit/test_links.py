"""Links between the UIs: URLs built from the configured addresses, and the tags an MLflow run carries."""

from __future__ import annotations

from mlhops_dagster.links import (
    DAGSTER_ASSET_URL_TAG,
    DAGSTER_RUN_URL_TAG,
    MLFLOW_NOTE_TAG,
    dagster_link_tags,
    mlflow_run_url,
)


def test_the_tags_link_the_dagster_run_and_asset() -> None:
    tags = dagster_link_tags("https://dagster.example/", "0123456789abcdef", ["omop", "person"])
    assert tags[DAGSTER_RUN_URL_TAG] == "https://dagster.example/runs/0123456789abcdef"
    assert tags[DAGSTER_ASSET_URL_TAG] == "https://dagster.example/assets/omop/person"
    assert tags[MLFLOW_NOTE_TAG] == (
        "Made by the Dagster asset [omop/person](https://dagster.example/assets/omop/person) "
        "in run [01234567](https://dagster.example/runs/0123456789abcdef)."
    )


def test_an_mlflow_run_url_under_a_path_prefix() -> None:
    assert (
        mlflow_run_url("https://ml.example/mlflow/", "3", "abc") == "https://ml.example/mlflow/#/experiments/3/runs/abc"
    )
