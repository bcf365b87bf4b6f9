"""The Dagster code location: assets, checks, resources, jobs, sensors and schedules in one place.

Settings come from the environment once, here (see ``mlhops_dagster.settings``); the same
warehouse path feeds the DuckDB resource and dbt's profile, so both always see one file.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from assets.evaluation import evaluation_assets, model_registration
from assets.features import readmission_features
from assets.monitoring import batch_scores, drift_report
from assets.omop import omop_cdm
from assets.quality import build_mapping_rate_check, dqa_report, quality_checks
from assets.raw import raw_ehr_extract
from assets.training import training_assets
from assets.vocabulary import build_athena_vocabulary_asset
from mlhops_dagster.monitoring.tracking import RetrainingPolicy
from mlhops_dagster.settings import Settings, load_settings
from resources import (
    ExtractLandingResource,
    FeatureStoreResource,
    MlflowResource,
    WarehouseResource,
    omop_dbt_project,
)
from sensors.extracts import new_extract_sensor
from sensors.jobs import ingest_job, monitoring_job, pipeline_job, refresh_job, retraining_job
from sensors.retraining import build_drift_sensor, retraining_schedule


def _dbt_executable() -> str:
    """The dbt installed beside this interpreter (the venv's), even when the venv is not on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "landing": ExtractLandingResource(
            landing_dir=str(settings.landing_dir),
            pseudonym_key=settings.pseudonym_key,
            local_key_file=str(settings.local_key_file),
        ),
        "dbt": DbtCliResource(project_dir=omop_dbt_project, dbt_executable=_dbt_executable()),
        "feature_store": FeatureStoreResource(root=str(settings.data_dir / "features")),
        "mlflow_tracking": MlflowResource(
            tracking_uri=settings.mlflow_tracking_uri,
            artifact_root=settings.mlflow_artifact_root,
            experiment=settings.model_name,
            model_name=settings.model_name,
        ),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    os.environ["MLHOPS_WAREHOUSE_PATH"] = str(settings.warehouse_path)  # read by dbt_omop/profiles.yml
    vocabulary = [build_athena_vocabulary_asset(str(settings.vocab_dir))] if settings.vocab_dir else []
    return dg.Definitions(
        assets=[raw_ehr_extract, *vocabulary, omop_cdm, dqa_report, readmission_features, *training_assets,
                *evaluation_assets, model_registration, batch_scores, drift_report],
        asset_checks=[*quality_checks, build_mapping_rate_check(settings.min_mapping_rate)],
        jobs=[ingest_job, pipeline_job, refresh_job, retraining_job, monitoring_job],
        sensors=[new_extract_sensor, build_drift_sensor(RetrainingPolicy(settings.drift_threshold))],
        schedules=[retraining_schedule],
        resources=build_resources(settings),
    )


defs = build_definitions(load_settings())
