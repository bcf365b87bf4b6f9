"""Stage 4 — features: 30-day readmission cohort, labels and point-in-time features, temporal split."""


import dagster as dg

from assets.data_elements import data_elements
from assets.quality import AFTER_FATAL_CHECKS_PASSED, DQA_REPORT_KEY, cdm_key
from mlhops_dagster.features.readmission import (
    CDM_INPUT_TABLES,
    LABEL_COLUMN,
    ReadmissionTask,
    build_readmission_features,
    data_fingerprint,
    temporal_split,
)
from mlhops_dagster.quality.report import fatal_failures, latest_results
from mlhops_dagster.warehouse import write_frame
from resources import DUCKDB_POOL, FeatureStoreResource, WarehouseResource

FEATURE_TABLE = "readmission_features"


@dg.asset(
    group_name="features",
    kinds={"sql", "parquet"},
    owners=["team:ml"],
    pool=DUCKDB_POOL,
    deps=[DQA_REPORT_KEY, data_elements, *(cdm_key(t) for t in CDM_INPUT_TABLES)],
    automation_condition=AFTER_FATAL_CHECKS_PASSED,
    description=(
        "Cohort = adult inpatient stays with a discharge; label = another inpatient admission within 30 days; "
        "features known strictly before discharge (demographics, prior-year conditions, drugs and visits, "
        "latest plausible labs/vitals from the ML-DQA data elements, units harmonised). `split` is temporal: earlier discharges train, later ones test. "
        "Written to `features.readmission` and a Parquet snapshot."
    ),
)
def readmission_features(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, feature_store: FeatureStoreResource
) -> dg.MaterializeResult:
    task = ReadmissionTask()
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
            features = build_readmission_features(con, task, cdm_schema=warehouse.cdm_schema)
        except ValueError as err:  # a CDM without the tables/columns the task needs (named in the message)
            raise dg.Failure(description=str(err)) from err
    if features.empty:
        raise dg.Failure(description="The readmission cohort is empty: no adult inpatient stay with a discharge")
    try:
        features["split"] = temporal_split(features)
    except ValueError as err:  # too few distinct discharge dates to split in time
        raise dg.Failure(description=f"Cannot split the readmission cohort in time: {err}") from err
    with warehouse.connect() as con:
        write_frame(con, "features", "readmission", features)
    fingerprint = data_fingerprint(features)
    path = feature_store.write(FEATURE_TABLE, features)
    by_split = features.groupby("split")[LABEL_COLUMN].agg(["count", "mean"])
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(features),
            "positives": int(features[LABEL_COLUMN].sum()),
            "readmission_rate": round(float(features[LABEL_COLUMN].mean()), 4),
            "train_rows": int(by_split.loc["train", "count"]) if "train" in by_split.index else 0,
            "test_rows": int(by_split.loc["test", "count"]) if "test" in by_split.index else 0,
            "index_date_min": str(features["index_date"].min()),
            "index_date_max": str(features["index_date"].max()),
            "data_fingerprint": fingerprint,
            "parquet": dg.MetadataValue.path(str(path)),
            "task": str(task),
        }
    )
