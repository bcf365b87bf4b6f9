"""The feature builder: cohort, label and point-in-time features of a prediction task, in one DuckDB query.

What is built is decided by a :class:`~mlhops_dagster.features.task.PredictionTask` (the cohort,
:mod:`~mlhops_dagster.features.cohort`) and a catalogue of
:class:`~mlhops_dagster.features.catalogue.FeatureSpec` rows
(:mod:`~mlhops_dagster.features.feature_sql`), plus the sparse per-concept flags kept by
prevalence (:mod:`~mlhops_dagster.features.concepts`). Everything runs in SQL inside DuckDB; no
Python row loops.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from mlhops_dagster.features.catalogue import DEFAULT_SPARSE, FeatureSpec, SparseConcepts, default_catalogue
from mlhops_dagster.features.cohort import cohort_ctes
from mlhops_dagster.features.columns import LABEL_COLUMN
from mlhops_dagster.features.concepts import CANDIDATE_COLUMNS, sparse_concept_features
from mlhops_dagster.features.feature_sql import feature_sql
from mlhops_dagster.features.schema import check_inputs
from mlhops_dagster.features.sql import quote
from mlhops_dagster.features.task import DEFAULT_TASK, PredictionTask

logger = logging.getLogger(__name__)


def build_feature_sql(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    features: Sequence[FeatureSpec] | None = None,
) -> str:
    """The one SQL statement that builds cohort, label and ``features`` (for inspection and logging)."""
    features = default_catalogue(task) if features is None else features
    s, available = check_inputs(con, task, cdm_schema, features)
    sql = feature_sql(features, s, available)
    columns = [
        "c.person_id",
        "c.visit_occurrence_id",
        "c.index_date",
        "c.care_site_id",
        "c.gender_concept_id",
        "c.race_concept_id",
        f"CAST(c.outcome AS INTEGER) AS {quote(LABEL_COLUMN)}",
        *(f"{sql.columns[f.id]} AS {quote(f.id)}" for f in features),
    ]
    select = ",\n    ".join(columns)
    ctes = "".join(f",\n{cte}" for cte in sql.ctes)
    joins = "\n".join(sql.joins)
    # Row order: index_date, then every column but person_id and visit_occurrence_id (by
    # position), then visit_occurrence_id. The ids derive from the site's pseudonymisation
    # key, so ordering ties by them would hand a model (LightGBM subsamples rows by position)
    # and the bootstrap another row order under another key; rows that tie on every other
    # column are interchangeable for training and evaluation.
    order = ", ".join(str(position) for position in range(3, len(columns) + 1))
    return f"""WITH {cohort_ctes(task, s, available)}{ctes}
SELECT
    {select}
FROM cohort c
{joins}
ORDER BY {order}, 2"""


@dataclass(frozen=True)
class FeatureBuild:
    """A built feature table and what it was built from."""

    frame: pd.DataFrame
    task: PredictionTask
    features: tuple[FeatureSpec, ...]  # every column's spec, fixed catalogue then kept sparse flags
    sparse_kept: list[str]  # ids of the per-concept flags kept by prevalence
    sparse: pd.DataFrame  # every sparse candidate with its prevalence and whether it was kept


def build_features(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    features: Sequence[FeatureSpec] | None = None,
    sparse: SparseConcepts | None = DEFAULT_SPARSE,
) -> FeatureBuild:
    """Cohort, label and point-in-time features, one row per index event.

    ``features``: the fixed catalogue (default :func:`default_catalogue` of ``task``);
    ``sparse``: the per-concept flags added by prevalence (``None``: none). Columns:
    :data:`~mlhops_dagster.features.columns.ID_COLUMNS`, the label ``outcome``, then the
    features in order. Rows are sorted by ``index_date``, then by the values of every other
    column but the two ids, then by ``visit_occurrence_id``: an order that does not depend on
    the pseudonymisation key, so the same extract gives the same models and metrics at every
    site and in every fresh demo. Flags and counts are ``int32``, lab values ``float64`` (NaN
    when unmeasured), ``index_date`` is ``datetime64``.
    """
    started = time.perf_counter()
    specs = list(default_catalogue(task) if features is None else features)
    added: list[FeatureSpec] = []
    if sparse is not None:
        kept, candidates = sparse_concept_features(con, task, cdm_schema, sparse)
        taken = {f.id for f in specs}
        added = [f for f in kept if f.id not in taken]
    else:
        candidates = pd.DataFrame(columns=CANDIDATE_COLUMNS)
    sparse_s = time.perf_counter() - started
    specs += added
    frame = con.execute(build_feature_sql(con, task, cdm_schema, specs)).df().reset_index(drop=True)
    total_s = time.perf_counter() - started
    logger.info(
        "task %s: cohort of %d index events (%d persons); %d features (%d fixed, %d sparse concept flags kept) "
        "in %.2f s (sparse prevalence %.2f s, feature query %.2f s)",
        task.name,
        len(frame),
        frame["person_id"].nunique(),
        len(specs),
        len(specs) - len(added),
        len(added),
        total_s,
        sparse_s,
        total_s - sparse_s,
    )
    return FeatureBuild(frame, task, tuple(specs), [f.id for f in added], candidates)


def build_cohort_features(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    features: Sequence[FeatureSpec] | None = None,
    sparse: SparseConcepts | None = DEFAULT_SPARSE,
) -> pd.DataFrame:
    """The frame of :func:`build_features` (by default of :data:`~mlhops_dagster.features.task.DEFAULT_TASK`)."""
    return build_features(con, task, cdm_schema, features, sparse).frame
