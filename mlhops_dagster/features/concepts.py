"""Sparse per-concept flags: every concept of the sparse sources, kept when prevalent enough in the cohort.

Which concepts become columns depends on the data, so this runs one prevalence query before
the feature query; the kept flags are ordinary ``event_flag`` specs
(:meth:`~mlhops_dagster.features.catalogue.SparseConcepts.spec`), named from the vocabulary when
the CDM has one.
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd

from mlhops_dagster.features.catalogue import DEFAULT_SPARSE, FeatureSpec, SparseConcepts
from mlhops_dagster.features.cohort import cohort_ctes
from mlhops_dagster.features.feature_sql import ALIAS, source_base, window_tag, within
from mlhops_dagster.features.schema import check_inputs
from mlhops_dagster.features.sql import ids, quote, text
from mlhops_dagster.features.task import DEFAULT_TASK, PredictionTask

logger = logging.getLogger(__name__)

CANDIDATE_COLUMNS = ["source", "concept_id", "window", "n_events", "prevalence", "kept"]
"""The columns of the prevalence frame of every sparse candidate."""


def concept_names(con: duckdb.DuckDBPyConnection, cdm_schema: str, concept_ids: set[int]) -> dict[int, str]:
    """Concept names from ``<cdm_schema>.concept`` or ``vocab.concept`` when either exists (else none)."""
    if not concept_ids:
        return {}
    for schema in (cdm_schema, "vocab"):
        has = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = 'concept' AND table_catalog = current_database()",
            [schema],
        ).fetchall()
        if has[0][0]:
            rows = con.execute(
                f"SELECT concept_id, concept_name FROM {quote(schema)}.concept "
                f"WHERE concept_id IN ({ids(sorted(concept_ids))})"
            ).fetchall()
            return {int(cid): str(name) for cid, name in rows}
    return {}


def _prevalence_sql(task: PredictionTask, s: str, available: dict[str, set[str]], sparse: SparseConcepts) -> str:
    """Index events with each (source, concept, window), and the cohort size, in one query."""
    bases = [f"b_{ALIAS[src]} AS (\n    {source_base(src, s, available)}\n)" for src in sparse.sources]
    counts = [
        f"SELECT {text(src)} AS source, concept_id, CAST({window_tag(w) if w else 'NULL'} AS INTEGER) AS window_days, "
        f"count(DISTINCT row_id) AS n_events FROM b_{ALIAS[src]} "
        f"WHERE {within(w, 'active_gap')} GROUP BY concept_id"
        for src in sparse.sources
        for w in sparse.windows
    ]
    return (
        f"WITH {cohort_ctes(task, s, available)},\n"
        + ",\n".join(bases)
        + "\nSELECT *, (SELECT count(*) FROM cohort) AS n_cohort FROM (\n"
        + "\nUNION ALL\n".join(counts)
        + ") t"
    )


def _candidates(frame: pd.DataFrame, sparse: SparseConcepts) -> pd.DataFrame:
    """The prevalence frame: prevalence and kept per candidate, by source, concept id and window order."""
    n_cohort = int(frame["n_cohort"].iloc[0]) if len(frame) else 0
    frame = frame.drop(columns="n_cohort").rename(columns={"window_days": "window"})
    frame["window"] = pd.Series([None if pd.isna(w) else int(w) for w in frame["window"]], dtype=object)
    frame["prevalence"] = frame["n_events"] / n_cohort if n_cohort else 0.0
    frame["kept"] = frame["prevalence"] >= sparse.min_prevalence
    window_order = {w: i for i, w in enumerate(sparse.windows)}
    frame["_source_order"] = frame["source"].map({src: i for i, src in enumerate(sparse.sources)})
    frame["_window_order"] = [window_order[w] for w in frame["window"]]
    return (
        frame.sort_values(["_source_order", "concept_id", "_window_order"])
        .drop(columns=["_source_order", "_window_order"])
        .reset_index(drop=True)
    )


def sparse_concept_features(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    sparse: SparseConcepts = DEFAULT_SPARSE,
) -> tuple[list[FeatureSpec], pd.DataFrame]:
    """The per-concept flags whose prevalence among the cohort's index events reaches ``sparse.min_prevalence``.

    Returns the kept specs (by source, then concept id, then window) and every candidate's
    prevalence (columns source, concept_id, window, n_events, prevalence, kept).
    """
    s, available = check_inputs(con, task, cdm_schema, (), sparse)
    if not sparse.sources or not sparse.windows:
        return [], pd.DataFrame(columns=CANDIDATE_COLUMNS)
    frame = _candidates(con.execute(_prevalence_sql(task, s, available, sparse)).df(), sparse)
    kept = frame[frame["kept"]]
    names = concept_names(con, cdm_schema, {int(c) for c in kept["concept_id"]})
    specs = [
        sparse.spec(str(source), int(concept_id), None if window is None else int(window), names.get(int(concept_id)))
        for source, concept_id, window in zip(kept["source"], kept["concept_id"], kept["window"], strict=True)
    ]
    logger.info(
        "sparse concept flags: %d of %d candidates kept at prevalence >= %s",
        len(specs),
        len(frame),
        sparse.min_prevalence,
    )
    return specs, frame
