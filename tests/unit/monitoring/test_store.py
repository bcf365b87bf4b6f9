"""The monitoring tables on a real DuckDB file: created once, each partition's rows replaced, cohort windows read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mlhops_dagster.monitoring.drift import DriftResult
from mlhops_dagster.monitoring.store import (
    batch_score_rows,
    ensure_monitoring_tables,
    extract_period,
    record_drift_result,
    score_summary,
    training_reference,
    window_rows,
    write_batch_scores,
)

SCORED_AT = pd.Timestamp("2024-03-01 12:00:00")


@pytest.fixture()
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture()
def cohort(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Six index events across January and February 2024, train and test split."""
    frame = pd.DataFrame(
        {
            "visit_occurrence_id": [12, 11, 13, 21, 22, 31],
            "person_id": [1, 2, 3, 4, 5, 6],
            "index_date": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-31", "2024-02-01", "2024-02-15", "2023-12-31"]
            ).date,
            "split": ["train", "test", "train", "train", "test", "train"],
            "age": [70, 65, 80, 55, 60, 75],
        }
    )
    con.execute("CREATE SCHEMA features")
    con.register("cohort_frame", frame)
    con.execute("CREATE TABLE features.cohort AS SELECT * FROM cohort_frame")
    con.unregister("cohort_frame")
    return frame


def drift(share: float, fingerprint: str) -> DriftResult:
    return DriftResult(
        share_drifted=share,
        n_drifted=round(share * 10),
        n_columns=10,
        per_feature={},
        per_feature_drifted={},
        psi={},
        html="<html></html>",
        fingerprint=fingerprint,
    )


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'monitoring' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def test_tables_are_created_once_and_kept(con: duckdb.DuckDBPyConnection) -> None:
    ensure_monitoring_tables(con)
    assert _columns(con, "batch_scores") == [
        "extract_id",
        "visit_occurrence_id",
        "person_id",
        "index_date",
        "score",
        "model_name",
        "model_version",
        "scored_at",
    ]
    assert _columns(con, "drift_results") == [
        "extract_id",
        "model_version",
        "share_drifted",
        "n_drifted",
        "n_columns",
        "drift_fingerprint",
        "mlflow_run_id",
        "computed_at",
    ]
    record_drift_result(con, "e1", "3", drift(0.2, "fp1"), "run1")
    ensure_monitoring_tables(con)  # every asset run repeats it: existing rows stay
    assert con.execute("SELECT count(*) FROM monitoring.drift_results").fetchall() == [(1,)]


def test_extract_period_from_the_raw_manifest(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.extract_manifest (extract_id VARCHAR, period_start DATE, period_end DATE)")
    con.execute("INSERT INTO raw.extract_manifest VALUES ('e1', '2024-01-01', '2024-01-31')")
    assert extract_period(con, "e1") == (dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert extract_period(con, "e2") is None


def test_window_rows_are_inclusive_and_ordered(con: duckdb.DuckDBPyConnection, cohort: pd.DataFrame) -> None:
    rows = window_rows(con, (dt.date(2024, 1, 1), dt.date(2024, 1, 31)))
    assert rows["visit_occurrence_id"].tolist() == [11, 12, 13]  # by index date, then visit
    assert list(rows.columns) == list(cohort.columns)
    assert window_rows(con, (dt.date(2025, 1, 1), dt.date(2025, 1, 31))).empty


def test_training_reference_is_the_train_split_up_to_the_cutoff(
    con: duckdb.DuckDBPyConnection, cohort: pd.DataFrame
) -> None:
    reference = training_reference(con, "2024-01-31")
    assert sorted(reference["visit_occurrence_id"]) == [12, 13, 31]
    assert set(reference["split"]) == {"train"}
    assert training_reference(con, None).empty  # a champion without the cutoff tag has no reference


def test_batch_scores_replace_their_own_partition(con: duckdb.DuckDBPyConnection, cohort: pd.DataFrame) -> None:
    ensure_monitoring_tables(con)
    january = window_rows(con, (dt.date(2024, 1, 1), dt.date(2024, 1, 31)))
    february = window_rows(con, (dt.date(2024, 2, 1), dt.date(2024, 2, 29)))
    write_batch_scores(con, "jan", batch_score_rows("jan", january, [0.1, 0.5, 0.9], "readmission", "1", SCORED_AT))
    write_batch_scores(con, "feb", batch_score_rows("feb", february, [0.2, 0.4], "readmission", "1", SCORED_AT))
    # scoring January again with a new champion replaces January's rows only
    write_batch_scores(con, "jan", batch_score_rows("jan", january, [0.3, 0.6, 0.7], "readmission", "2", SCORED_AT))

    stored = con.execute(
        "SELECT extract_id, visit_occurrence_id, person_id, index_date, score, model_name, model_version, scored_at "
        "FROM monitoring.batch_scores ORDER BY extract_id, visit_occurrence_id"
    ).fetchall()
    assert stored == [
        ("feb", 21, 4, dt.date(2024, 2, 1), 0.2, "readmission", "1", SCORED_AT.to_pydatetime()),
        ("feb", 22, 5, dt.date(2024, 2, 15), 0.4, "readmission", "1", SCORED_AT.to_pydatetime()),
        ("jan", 11, 2, dt.date(2024, 1, 1), 0.3, "readmission", "2", SCORED_AT.to_pydatetime()),
        ("jan", 12, 1, dt.date(2024, 1, 1), 0.6, "readmission", "2", SCORED_AT.to_pydatetime()),
        ("jan", 13, 3, dt.date(2024, 1, 31), 0.7, "readmission", "2", SCORED_AT.to_pydatetime()),
    ]


def test_an_empty_window_writes_no_rows(con: duckdb.DuckDBPyConnection, cohort: pd.DataFrame) -> None:
    ensure_monitoring_tables(con)
    empty = window_rows(con, (dt.date(2025, 1, 1), dt.date(2025, 1, 31)))
    scored = batch_score_rows("e9", empty, [], "readmission", "1")
    write_batch_scores(con, "e9", scored)
    assert len(scored) == 0
    assert con.execute("SELECT count(*) FROM monitoring.batch_scores").fetchall() == [(0,)]
    assert score_summary(scored) == (0.0, 0.0)


def test_score_summary_counts_the_threshold_as_high_risk(cohort: pd.DataFrame) -> None:
    scored = batch_score_rows("e1", cohort.iloc[:4], [0.1, 0.3, 0.5, 0.2], "readmission", "1")
    mean, high_risk = score_summary(scored)
    assert mean == pytest.approx(0.275)
    assert high_risk == pytest.approx(0.5)  # 0.3 and 0.5
    assert score_summary(scored, high_risk=0.6) == (pytest.approx(0.275), 0.0)


def test_drift_results_keep_one_row_per_partition(con: duckdb.DuckDBPyConnection) -> None:
    ensure_monitoring_tables(con)
    record_drift_result(con, "e1", "3", drift(0.2, "fp1"), "run1")
    record_drift_result(con, "e2", "3", drift(0.5, "fp2"), "run2")
    record_drift_result(con, "e1", "4", drift(0.6, "fp3"), "run3")  # e1 again, with a new champion

    stored = con.execute(
        "SELECT extract_id, model_version, share_drifted, n_drifted, n_columns, drift_fingerprint, mlflow_run_id "
        "FROM monitoring.drift_results ORDER BY extract_id"
    ).fetchall()
    assert stored == [("e1", "4", 0.6, 6, 10, "fp3", "run3"), ("e2", "3", 0.5, 5, 10, "fp2", "run2")]
    computed = con.execute("SELECT min(computed_at), max(computed_at) FROM monitoring.drift_results").fetchall()[0]
    assert all(isinstance(value, dt.datetime) for value in computed)
