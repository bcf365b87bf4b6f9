"""Stage 4 — features: a prediction task's cohort, outcome label and point-in-time features, and the split."""

from typing import Literal

import dagster as dg
from pydantic import Field

from assets.data_elements import data_elements
from assets.keys import cdm_key
from assets.metadata import table
from assets.quality import AFTER_FATAL_CHECKS_PASSED, DQA_REPORT_KEY
from mlhops_dagster.features import (
    CDM_INPUT_TABLES,
    DEFAULT_TASK,
    LABEL_COLUMN,
    PredictionTask,
    SparseConcepts,
    attrition_records,
    build_features,
    catalogue_records,
    data_fingerprint,
    split_features,
)
from mlhops_dagster.quality.report import fatal_failures, latest_results
from mlhops_dagster.warehouse import write_frame
from resources import DUCKDB_POOL, FeatureStoreResource, WarehouseResource

FEATURE_TABLE = "cohort_features"
ATTRITION_DESCRIPTIONS = {
    "step": "cohort rule, applied on top of the ones above",
    "n_events": "candidate index events left",
    "n_persons": "persons left",
    "removed_events": "index events this rule removed",
    "removed_persons": "persons this rule removed",
}


class FeaturesConfig(dg.Config):
    """Which prediction task to build, how sparse concept flags are kept, and how rows are split."""

    task_file: str | None = Field(
        default=None,
        description="YAML/JSON prediction task (a path, or a name in tasks/ such as t2d_incident_1y); "
        "default: the built-in 30-day readmission task",
    )
    min_prevalence: float = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="keep a per-concept flag when at least this share of index events has it",
    )
    split: Literal["temporal", "person"] = Field(
        default="temporal", description="temporal: later index dates test; person: persons shuffled, stratified"
    )
    test_fraction: float = Field(default=0.25, gt=0.0, lt=1.0)
    seed: int = Field(default=42, description="seed of the person split")


@dg.asset(
    group_name="features",
    kinds={"sql", "parquet"},
    owners=["team:ml"],
    pool=DUCKDB_POOL,
    deps=[DQA_REPORT_KEY, data_elements, *(cdm_key(t) for t in CDM_INPUT_TABLES)],
    automation_condition=AFTER_FATAL_CHECKS_PASSED,
    description=(
        "Cohort, `outcome` label and point-in-time features of a prediction task (config `task_file`; default: "
        "30-day readmission after an adult inpatient stay). Features in the OHDSI FeatureExtraction spirit: "
        "demographics, concept-set groups and per-concept flags kept by prevalence in all-time/365/180/30-day "
        "windows, lab/vital latest/min/max/count from the ML-DQA data elements, visit counts, distinct-concept "
        "counts, Charlson index; all strictly before the index date. `split` is temporal by default (config "
        "`split: person` for a person-stratified split). Written to `features.cohort` and a Parquet snapshot."
    ),
)
def cohort_features(
    context: dg.AssetExecutionContext,
    config: FeaturesConfig,
    warehouse: WarehouseResource,
    feature_store: FeatureStoreResource,
) -> dg.MaterializeResult:
    try:
        task = PredictionTask.from_file(config.task_file) if config.task_file else DEFAULT_TASK
    except ValueError as err:
        raise dg.Failure(description=str(err)) from err
    with warehouse.connect() as con:
        fatal = fatal_failures(latest_results(con))  # every table whose checks run in this deployment
    if fatal:  # a run that did not re-run the checks (retraining, a schedule) must not read a CDM that failed them
        raise dg.Failure(
            description=f"Fatal data-quality checks failed on the latest build of the CDM: "
            f"{', '.join(fatal[:20])}. Fix the data and re-run pipeline_job (or refresh_job) so the checks "
            "pass before features and models are rebuilt.",
            metadata={"fatal_failures": ", ".join(fatal)},
        )
    # The feature SQL is DuckDB's: on PostgreSQL it runs over a snapshot of the CDM tables it reads.
    with warehouse.analytics(CDM_INPUT_TABLES) as con:
        try:
            built = build_features(
                con, task, cdm_schema=warehouse.cdm_schema, sparse=SparseConcepts(min_prevalence=config.min_prevalence)
            )
            attrition = attrition_records(con, task, cdm_schema=warehouse.cdm_schema)
        except ValueError as err:  # a CDM without the tables/columns the task needs (named in the message)
            raise dg.Failure(description=str(err)) from err
    features = built.frame
    if features.empty:
        raise dg.Failure(description=f"The cohort of task {task.name} is empty: {task.summary()}")
    try:
        features["split"] = split_features(features, config.split, config.test_fraction, config.seed)
    except ValueError as err:  # too few distinct index dates (or persons) to split
        raise dg.Failure(description=f"Cannot split the {task.name} cohort ({config.split}): {err}") from err
    with warehouse.connect() as con:
        write_frame(con, "features", "cohort", features)
    fingerprint = data_fingerprint(features)
    path = feature_store.write(FEATURE_TABLE, features)
    split_rows = features["split"].value_counts().to_dict()
    sparse_kept = built.sparse_kept
    context.log.info(
        f"{task.name}: {len(features)} index events, {len(built.features)} features "
        f"({len(sparse_kept)} per-concept flags kept at prevalence >= {config.min_prevalence})"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(features),
            "task": task.name,
            "task_description": task.description,
            "task_definition": task.summary(),
            "positives": int(features[LABEL_COLUMN].sum()),
            "outcome_rate": round(float(features[LABEL_COLUMN].mean()), 4),
            "split": config.split,
            "train_rows": int(split_rows.get("train", 0)),
            "test_rows": int(split_rows.get("test", 0)),
            "index_date_min": str(features["index_date"].min()),
            "index_date_max": str(features["index_date"].max()),
            "n_features": len(built.features),
            "min_prevalence": config.min_prevalence,
            "sparse_features_kept": dg.MetadataValue.json(sparse_kept),
            "cohort_attrition": table(attrition, descriptions=ATTRITION_DESCRIPTIONS),
            "feature_catalogue": table(catalogue_records(built.features)),
            "data_fingerprint": fingerprint,
            "parquet": dg.MetadataValue.path(str(path)),
        }
    )
