"""The monitoring tables in the warehouse: batch scores and drift results, and the cohort rows they read.

Every function takes an open warehouse connection: DuckDB's, or the PostgreSQL adapter
(:class:`mlhops_dagster.warehouse.PostgresConnection`, same ``execute``/``fetchall``/``df``
with ``?`` placeholders), so the same SQL runs on both backends. Each monitoring partition
(an extract, or a month of a site's own CDM) replaces its own rows: writing a partition
twice leaves one copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mlhops_dagster.monitoring.drift import DriftResult
from mlhops_dagster.warehouse import Connection, write_frame

"""A warehouse connection: DuckDB's, or the PostgreSQL adapter."""

Period = tuple[dt.date, dt.date]
"""Discharge dates a monitoring partition covers: (first, last), both inclusive."""

HIGH_RISK_THRESHOLD = 0.3
"""Scores at or above this count as high risk in a batch's summary."""

MONITORING_DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.batch_scores (
    extract_id VARCHAR, visit_occurrence_id BIGINT, person_id BIGINT, index_date DATE,
    score DOUBLE PRECISION, model_name VARCHAR, model_version VARCHAR, scored_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS monitoring.drift_results (
    extract_id VARCHAR, model_version VARCHAR, share_drifted DOUBLE PRECISION, n_drifted BIGINT, n_columns BIGINT,
    drift_fingerprint VARCHAR, mlflow_run_id VARCHAR, computed_at TIMESTAMP
);
"""


def ensure_monitoring_tables(con: Connection) -> None:
    """Create the ``monitoring`` schema and its tables if they are missing (safe to repeat)."""
    con.execute(MONITORING_DDL)


def extract_period(con: Connection, extract_id: str) -> Period | None:
    """The period an extract's raw manifest recorded, or ``None`` if the extract has not been loaded."""
    period = con.execute(
        "SELECT period_start, period_end FROM raw.extract_manifest WHERE extract_id = ?", [extract_id]
    ).fetchall()
    if not period:
        return None
    return period[0][0], period[0][1]


def window_rows(con: Connection, period: Period) -> pd.DataFrame:
    """Cohort rows whose discharge falls inside ``period``."""
    return con.execute(
        "SELECT * FROM features.cohort WHERE index_date BETWEEN ? AND ? ORDER BY index_date, visit_occurrence_id",
        list(period),
    ).df()


def training_reference(con: Connection, cutoff: str | None) -> pd.DataFrame:
    """The training split of the cohort up to ``cutoff`` (the champion's last training index date)."""
    return con.execute("SELECT * FROM features.cohort WHERE split = 'train' AND index_date <= ?", [cutoff]).df()


def batch_score_rows(
    extract_id: str,
    rows: pd.DataFrame,
    scores: Sequence[float] | np.ndarray,
    model_name: str,
    model_version: str,
    scored_at: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The ``monitoring.batch_scores`` rows of one partition: each cohort row's score and the model that gave it."""
    return pd.DataFrame(
        {
            "extract_id": extract_id,
            "visit_occurrence_id": rows["visit_occurrence_id"],
            "person_id": rows["person_id"],
            "index_date": rows["index_date"],
            "score": scores,
            "model_name": model_name,
            "model_version": model_version,
            "scored_at": pd.Timestamp.now() if scored_at is None else scored_at,
        }
    )


def write_batch_scores(con: Connection, extract_id: str, scored: pd.DataFrame) -> None:
    """Replace the partition's rows of ``monitoring.batch_scores`` with ``scored``."""
    write_frame(con, "monitoring", "batch_scores", scored, replace_where=("extract_id", extract_id))


def score_summary(scored: pd.DataFrame, high_risk: float = HIGH_RISK_THRESHOLD) -> tuple[float, float]:
    """(mean score, share of scores at or above ``high_risk``) of a batch; both 0.0 for an empty batch."""
    if not len(scored):
        return 0.0, 0.0
    return float(scored["score"].mean()), float((scored["score"] >= high_risk).mean())


def record_drift_result(
    con: Connection, extract_id: str, model_version: str, result: DriftResult, mlflow_run_id: str
) -> None:
    """Replace the partition's row of ``monitoring.drift_results`` with ``result``."""
    con.execute("DELETE FROM monitoring.drift_results WHERE extract_id = ?", [extract_id])
    con.execute(
        "INSERT INTO monitoring.drift_results VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [
            extract_id,
            model_version,
            result.share_drifted,
            result.n_drifted,
            result.n_columns,
            result.fingerprint,
            mlflow_run_id,
        ],
    )
