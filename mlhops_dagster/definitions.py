"""The Dagster code location: assets, checks, resources, jobs, sensors and schedules in one place.

:func:`build_definitions` builds everything from a :class:`~mlhops_dagster.settings.Settings`
(tests and the demo pass their own); ``defs`` is the lazy entry point the Dagster CLI, the
webserver and the daemon load, reading the settings from the environment only when called.
The same settings give the DuckDB resource its file and dbt its profile values
(:func:`resources.dbt_project.dbt_profile_env`), so both always see one warehouse.
"""

from __future__ import annotations

import dagster as dg

from assets.cdm_source import build_cdm_source_specs
from assets.data_elements import data_elements
from assets.evaluation import evaluation_assets, model_promotion, model_registration
from assets.features import cohort_features
from assets.monitoring import batch_scores, build_monitoring_assets, calendar_window, drift_report
from assets.omop import build_omop_assets
from assets.quality import (
    build_mapping_rate_check,
    build_reconciliation_check,
    dqa_report,
    own_cdm_dqa_report,
    own_cdm_quality_checks,
    quality_checks,
)
from assets.raw import raw_ehr_extract
from assets.training import training_assets
from assets.vocabulary import build_athena_vocabulary_asset
from jobs import ingest_job, monitoring_job, own_cdm_jobs, pipeline_job, refresh_job, retraining_job
from mlhops_dagster.monitoring.tracking import RetrainingPolicy
from mlhops_dagster.settings import PG_PASSWORD_ENV, PSEUDONYM_KEY_ENV, Settings, load_settings
from resources import (
    DataQualityResource,
    ExtractLandingResource,
    FeatureStoreResource,
    MlflowResource,
    WarehouseResource,
)
from resources.dbt_project import dbt_resource, dbt_var_args, ensure_manifest, omop_dbt_project
from sensors.extracts import new_extract_sensor
from sensors.retraining import build_drift_sensor, retraining_schedule


def _secret(settings: Settings, variable: str, value: str | None) -> str | None:
    """A secret for a resource: a reference to its variable when it came from the environment (Dagster resolves
    it at run time and never shows it as config), the value itself when a caller built the settings."""
    if value is None:
        return None
    return dg.EnvVar(variable) if settings.secrets_from_env else value


def build_warehouse(settings: Settings) -> WarehouseResource:
    """The warehouse the settings name: the DuckDB file, PostgreSQL, or a site's own CDM (read in place)."""
    memory_limit = settings.duckdb_memory_limit
    source = settings.cdm_source
    if source is not None and source.backend == "duckdb":
        return WarehouseResource(
            path=str(source.path), memory_limit=memory_limit, cdm_schema=source.schema, catalog="site_cdm"
        )
    if source is not None or settings.warehouse == "postgres":
        dsn = source.dsn if source is not None and source.dsn is not None else settings.postgres
        return WarehouseResource(
            path=str(settings.warehouse_path),
            memory_limit=memory_limit,
            backend="postgres",
            pg_host=dsn.host,
            pg_port=dsn.port,
            pg_user=dsn.user,
            pg_dbname=dsn.dbname,
            pg_password=_secret(settings, PG_PASSWORD_ENV, dsn.password),
            cdm_schema=source.schema if source is not None else "omop",
        )
    return WarehouseResource(path=str(settings.warehouse_path), memory_limit=memory_limit)


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": build_warehouse(settings),
        "landing": ExtractLandingResource(
            landing_dir=str(settings.landing_dir),
            pseudonym_key=_secret(settings, PSEUDONYM_KEY_ENV, settings.pseudonym_key),
            local_key_file=str(settings.local_key_file),
        ),
        "dbt": dbt_resource(settings),
        "feature_store": FeatureStoreResource(root=str(settings.data_dir / "features")),
        "dqa": DataQualityResource(
            # the vocabulary the CDM was mapped with: a site's CDM schema, Athena's, or the demo seeds
            concept_relation=(
                f"{settings.cdm_source.schema}.concept"
                if settings.cdm_source is not None
                else "vocab_athena.concept"
                if settings.vocab_dir
                else "vocab.concept"
            ),
            thresholds_file=str(settings.dq_thresholds or ""),
            report_dir=str(settings.data_dir / "quality"),
        ),
        "mlflow_tracking": MlflowResource(
            tracking_uri=settings.mlflow_tracking_uri,
            artifact_root=settings.mlflow_artifact_root,
            experiment=settings.model_name,
            model_name=settings.model_name,
            ui_url=settings.mlflow_ui_url,
            dagster_ui_url=settings.dagster_ui_url,
        ),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    """Every definition of the deployment the settings describe (parses dbt first when its manifest is missing)."""
    if settings.cdm_source is not None:
        return build_own_cdm_definitions(settings)
    ensure_manifest(settings)
    omop_cdm = build_omop_assets(omop_dbt_project(settings), dbt_var_args(settings))
    vocabulary = [build_athena_vocabulary_asset(str(settings.vocab_dir))] if settings.vocab_dir else []
    return dg.Definitions(
        assets=[
            raw_ehr_extract,
            *vocabulary,
            omop_cdm,
            dqa_report,
            data_elements,
            cohort_features,
            *training_assets,
            *evaluation_assets,
            model_registration,
            model_promotion,
            batch_scores,
            drift_report,
        ],
        asset_checks=[
            *quality_checks,
            build_mapping_rate_check(settings.min_mapping_rate),
            build_reconciliation_check(),
        ],
        jobs=[ingest_job, pipeline_job, refresh_job, retraining_job, monitoring_job],
        sensors=[new_extract_sensor, build_drift_sensor(RetrainingPolicy(settings.drift_threshold))],
        schedules=[retraining_schedule],
        resources=build_resources(settings),
    )


def build_own_cdm_definitions(settings: Settings) -> dg.Definitions:
    """The graph on a site's existing CDM: external CDM tables → checks → features → models; monthly monitoring."""
    assert settings.cdm_source is not None
    months = dg.MonthlyPartitionsDefinition(start_date=settings.monitoring_start)
    monitoring = build_monitoring_assets(months, calendar_window, unit="month")
    jobs = own_cdm_jobs()
    return dg.Definitions(
        assets=[
            *build_cdm_source_specs(settings.cdm_source),
            own_cdm_dqa_report,
            data_elements,
            cohort_features,
            *training_assets,
            *evaluation_assets,
            model_registration,
            model_promotion,
            *monitoring,
        ],
        asset_checks=own_cdm_quality_checks,
        jobs=jobs,
        sensors=[build_drift_sensor(RetrainingPolicy(settings.drift_threshold))],
        schedules=[
            retraining_schedule,
            dg.build_schedule_from_partitioned_job(
                jobs[-1],
                name="monthly_monitoring_schedule",
                description="Scores last month's discharges and reports drift, on the 2nd of each month.",
                day_of_month=2,
                hour_of_day=4,
            ),
        ],
        resources=build_resources(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location as deployed: settings from the environment, read when Dagster loads it."""
    return build_definitions(load_settings())
