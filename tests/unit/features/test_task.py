"""Prediction tasks as configuration: the shipped YAML files, validation errors, and the cohorts they build.

The T2D task runs on its own hand-made CDM where every index date, exclusion, label and
censoring decision is checked by hand (see the comments on each person)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mlhops_dagster.features import (
    LABEL_COLUMN,
    build_cohort_features,
    build_features,
    cohort_attrition,
)
from mlhops_dagster.features.task import DEFAULT_TASK, TASKS_DIR, PredictionTask
from tests.support.cdm import T2D, insert_t2d_rows, make_cdm

T2D_FILE = TASKS_DIR / "t2d_incident_1y.yaml"


def test_shipped_readmission_file_is_the_default_task() -> None:
    task = PredictionTask.from_file(TASKS_DIR / "readmission_30d.yaml")
    assert task == DEFAULT_TASK
    assert PredictionTask.from_file("readmission_30d") == DEFAULT_TASK  # a bare name is looked up in tasks/
    con = make_cdm()
    try:
        pd.testing.assert_frame_equal(build_cohort_features(con, task), build_cohort_features(con))
    finally:
        con.close()


def test_t2d_file() -> None:
    task = PredictionTask.from_file(T2D_FILE)
    assert task.name == "t2d_incident_1y"
    assert (task.index.domain, task.index.concept_ids, task.index.date) == ("visit", (9202,), "visit_start")
    assert (task.min_age, task.prior_observation_days, task.first_only) == (18, 365, True)
    assert [(e.name, e.domain, e.concept_ids, e.start_day, e.end_day) for e in task.exclusions] == [
        ("prior_type2_diabetes", "condition", (T2D,), None, 0)
    ]
    assert (task.time_at_risk.start_day, task.time_at_risk.end_day) == (1, 365)
    assert (task.outcome.domain, task.outcome.concept_ids) == ("condition", (T2D,))
    assert "t2d_incident_1y" in task.summary() and "prior_type2_diabetes" in task.summary()


@pytest.fixture(scope="module")
def t2d_cdm() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    insert_t2d_rows(con)
    yield con
    con.close()


def test_t2d_cohort_index_dates_labels_and_censoring(t2d_cdm: duckdb.DuckDBPyConnection) -> None:
    task = PredictionTask.from_file(T2D_FILE)
    built = build_features(t2d_cdm, task)
    frame = built.frame
    got = {
        int(r.person_id): (r.visit_occurrence_id, r.index_date.date().isoformat(), r.outcome)
        for r in frame.itertuples()
    }
    assert got == {
        1: (11, "2019-03-01", 1),
        2: (21, "2019-03-01", 0),
        3: (31, "2019-03-01", 0),
        6: (62, "2016-02-01", 0),
        8: (81, "2019-03-01", 1),
        11: (111, "2019-03-01", 1),
    }
    assert frame[LABEL_COLUMN].dtype.kind == "i"
    assert "length_of_stay_days" not in frame.columns  # the index is the visit start: no stay length yet
    # the outcome concept itself is never a feature value of an included person (all excluded before index)
    assert (frame["cond_type2_diabetes_anytime"] == 0).all()
    attrition = cohort_attrition(t2d_cdm, task)
    assert list(attrition["step"]) == [
        "index_events",
        "valid_index_date",
        "age_at_least_18",
        "alive_at_index",
        "prior_observation_365d",
        "no_prior_type2_diabetes",
        "first_per_person",
        "sufficient_follow_up",
    ]
    assert list(attrition["n_events"]) == [12, 12, 11, 11, 10, 8, 7, 6]
    assert list(attrition["n_persons"]) == [10, 10, 9, 9, 9, 7, 7, 6]


def test_t2d_without_censoring_keeps_short_follow_up(t2d_cdm: duckdb.DuckDBPyConnection) -> None:
    task = PredictionTask.from_file(T2D_FILE).model_copy(update={"require_full_follow_up": False})
    frame = build_features(t2d_cdm, task, sparse=None).frame
    assert 7 in set(frame["person_id"])  # no longer censored (label 0)
    first_only = PredictionTask.from_file(T2D_FILE).model_copy(update={"first_only": False})
    frame = build_features(t2d_cdm, first_only, sparse=None).frame
    assert sorted(frame.loc[frame["person_id"] == 1, "visit_occurrence_id"]) == [11, 12]  # both visits
    assert frame.loc[frame["visit_occurrence_id"] == 12, LABEL_COLUMN].item() == 1  # T2D 91 days later


def test_condition_indexed_task_with_a_visit_outcome() -> None:
    """Index = a diabetes diagnosis, outcome = an inpatient stay within a year (the readmission test CDM)."""
    task = PredictionTask.from_dict(
        {
            "name": "admission_after_diabetes",
            "index": {"domain": "condition", "concept_ids": [T2D]},
            "min_age": 18,
            "time_at_risk": {"start_day": 1, "end_day": 365},
            "outcome": {"domain": "visit", "concept_ids": [9201, 262]},
        }
    )
    con = make_cdm()
    frame = build_features(con, task).frame
    con.close()
    got = {int(r.person_id): (r.index_date.date().isoformat(), r.outcome) for r in frame.itertuples()}
    # person 1: diagnosed 2018-01-01, first stay 2020 -> 0; person 2: 2019-05-01, stay 2020-03-01 (day 305) -> 1,
    # kept although observation ends 2020-04-20 (the outcome was observed)
    assert got == {1: ("2018-01-01", 0), 2: ("2019-05-01", 1)}
    assert frame["visit_occurrence_id"].isna().all()  # a condition index has no visit here


def test_task_from_json_and_max_age(tmp_path: Path) -> None:
    data = PredictionTask.from_file(T2D_FILE).model_dump(mode="json")
    data["max_age"] = 50
    path = tmp_path / "young.json"
    path.write_text(json.dumps(data))
    task = PredictionTask.from_file(path)
    assert task.max_age == 50
    con = make_cdm()
    columns = list(build_features(con, task, sparse=None).frame.columns)
    con.close()
    assert "age_group_50_54" in columns and "age_group_55_59" not in columns


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: x\nindex: {concept_ids: [9202]}\ntime_at_risk: {end_day: 30}\n", "outcome: Field required"),
        (
            "name: x\nindex: {concept_ids: [9202]}\ntime_at_risk: {start_day: 40, end_day: 30}\n"
            "outcome: {domain: visit, concept_ids: [1]}\n",
            "time_at_risk: Value error, start_day 40 is after end_day 30",
        ),
        (
            "name: x\nindex: {concept_ids: []}\ntime_at_risk: {end_day: 30}\noutcome: {domain: visit, concept_ids: [1]}\n",
            "index.concept_ids",
        ),
        (
            "name: x\nindex: {concept_ids: [9202]}\ntime_at_risk: {end_day: 30}\noutcome: {domain: visit, concept_ids: [1]}"
            "\nexclusions: [{name: later, domain: drug, concept_ids: [1], end_day: 5}]\n",
            "exclusions.0.end_day",
        ),
        (
            "name: x\nindex: {concept_ids: [9202]}\ntime_at_risk: {end_day: 30}\noutcome: {domain: visit, concept_ids: [1]}"
            "\nwashout: 365\n",
            "washout: Extra inputs are not permitted",
        ),
        (
            "name: x\nindex: {domain: condition, concept_ids: [1], date: visit_end}\ntime_at_risk: {end_day: 30}\n"
            "outcome: {domain: visit, concept_ids: [1]}\n",
            "index: Value error",
        ),
        ("- just\n- a list\n", "must hold a mapping"),
        ("name: [unclosed\n", "cannot parse"),
    ],
)
def test_invalid_task_files_name_the_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad_task.yaml"
    path.write_text(content)
    with pytest.raises(ValueError) as err:
        PredictionTask.from_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_or_unknown_task_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        PredictionTask.from_file(tmp_path / "nope.yaml")
    (tmp_path / "task.toml").write_text("name = 'x'")
    with pytest.raises(ValueError, match=r"\.yaml, \.yml or \.json"):
        PredictionTask.from_file(tmp_path / "task.toml")
