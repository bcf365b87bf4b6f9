"""The jobs that sensors, schedules and the demo launch."""

import dagster as dg

PIPELINE_GROUPS = ("omop", "quality", "features", "training", "evaluation")
REFRESH_GROUPS = ("omop", "quality", "features")

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("raw"),
    description="Load one extract folder into the raw schema.",
)
pipeline_job = dg.define_asset_job(
    "pipeline_job",
    selection=dg.AssetSelection.groups(*PIPELINE_GROUPS),
    description="The main job: OMOP mapping, data-quality checks, features, training, evaluation and registration.",
)
retraining_job = dg.define_asset_job(
    "retraining_job",
    selection=dg.AssetSelection.groups("features", "training", "evaluation"),
    description="Rebuild features and retrain every candidate; the best becomes the `challenger`.",
)
monitoring_job = dg.define_asset_job(
    "monitoring_job",
    selection=dg.AssetSelection.groups("monitoring"),
    description="Score one extract with the champion and compute its drift report.",
)
refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.groups(*REFRESH_GROUPS),
    description="Rebuild OMOP, re-run the checks and refresh features after a new extract, without retraining.",
)


def own_cdm_jobs() -> list:
    """Jobs on a site's own CDM (MLHOPS_CDM_SOURCE): no ingest or mapping; checks run on the external CDM tables."""
    checks = dg.AssetSelection.all_asset_checks()  # on a site's CDM every check is a data-quality check
    return [
        dg.define_asset_job(
            "pipeline_job",
            selection=dg.AssetSelection.groups("quality", "features", "training", "evaluation") | checks,
            description="The main job on the site's CDM: data-quality checks, features, training, evaluation "
            "and registration.",
        ),
        retraining_job,
        dg.define_asset_job(
            "monitoring_job",
            selection=dg.AssetSelection.groups("monitoring"),
            description="Score one month of discharges with the champion and compute its drift report.",
        ),
    ]
