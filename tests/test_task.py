"""Prediction tasks as configuration: the shipped YAML files, validation errors, and the cohorts they build.

The T2D task runs on its own hand-made CDM where every index date, exclusion, label and
censoring decision is checked by hand (see the comments on each person)."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from test_features import DDL, INPATIENT, OUTPATIENT, _rows, make_cdm

from assets.features import readmission_features
from mlhops_dagster.features.readmission import (
    LABEL_COLUMN,
    build_features,
    build_readmission_features,
    cohort_attrition,
)
from mlhops_dagster.features.task import DEFAULT_TASK, TASKS_DIR, PredictionTask
from resources import FeatureStoreResource, WarehouseResource

T2D = 201826
T2D_FILE = TASKS_DIR / "t2d_incident_1y.yaml"


def test_shipped_readmission_file_is_the_default_task() -> None:
    task = PredictionTask.from_file(TASKS_DIR / "readmission_30d.yaml")
    assert task == DEFAULT_TASK
    assert PredictionTask.from_file("readmission_30d") == DEFAULT_TASK  # a bare name is looked up in tasks/
    con = make_cdm()
    try:
        pd.testing.assert_frame_equal(build_readmission_features(con, task), build_readmission_features(con))
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


# person_id, year of birth, observation period end (start is 2015-01-01 for everyone)
T2D_PERSONS = {
    1: (1960, "2022-12-31"),  # first of two qualifying visits; T2D 275 days later -> 1
    2: (1960, "2022-12-31"),  # T2D 397 days after index -> 0
    3: (1960, "2022-12-31"),  # never T2D -> 0
    4: (1960, "2022-12-31"),  # T2D in 2017 -> excluded (prior outcome)
    5: (1960, "2022-12-31"),  # T2D on the index day -> excluded (the window ends on day 0)
    6: (1960, "2022-12-31"),  # first visit 151 days into observation (washout fails) -> indexed on the second
    7: (1960, "2019-10-01"),  # observation ends 214 days after index, no T2D -> censored
    8: (1960, "2019-10-01"),  # observation ends early but T2D observed on day 153 -> kept, 1
    9: (2005, "2022-12-31"),  # 14 at index -> excluded by age
    10: (1960, "2022-12-31"),  # inpatient visit only -> no index event
    11: (1960, "2022-12-31"),  # T2D on day 365 exactly (2020 is a leap year) -> 1
}
T2D_VISITS = [  # visit_occurrence_id, person_id, concept, start, end, care_site_id
    (11, 1, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (12, 1, OUTPATIENT, "2019-09-01", "2019-09-01", 1),
    (21, 2, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (31, 3, OUTPATIENT, "2019-03-01", "2019-03-01", 2),
    (41, 4, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (51, 5, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (61, 6, OUTPATIENT, "2015-06-01", "2015-06-01", 1),
    (62, 6, OUTPATIENT, "2016-02-01", "2016-02-01", 1),
    (71, 7, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (81, 8, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (91, 9, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (101, 10, INPATIENT, "2019-03-01", "2019-03-05", 1),
    (111, 11, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
]
T2D_CONDITIONS = [  # condition_occurrence_id, person_id, concept, start, end
    (1, 1, T2D, "2019-12-01", None),
    (2, 2, T2D, "2020-04-01", None),
    (4, 4, T2D, "2017-05-01", None),
    (5, 5, T2D, "2019-03-01", None),
    (8, 8, T2D, "2019-08-01", None),
    (11, 11, T2D, "2020-02-29", None),
]


def _t2d_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    _rows(con, "person", [(p, 8507, year, 1, 1, f"{year}-01-01", 8527, 0) for p, (year, _) in T2D_PERSONS.items()])
    _rows(con, "observation_period", [(p, p, "2015-01-01", end) for p, (_, end) in T2D_PERSONS.items()])
    _rows(con, "visit_occurrence", T2D_VISITS)
    _rows(con, "condition_occurrence", T2D_CONDITIONS)


@pytest.fixture(scope="module")
def t2d_cdm() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    _t2d_rows(con)
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


def test_features_asset_runs_a_task_file_with_a_person_split(tmp_path: Path) -> None:
    """The asset's config picks the task file and the split; the task name and catalogue land in its metadata."""
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    _t2d_rows(con)
    con.close()
    result = dg.materialize(
        [readmission_features],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "feature_store": FeatureStoreResource(root=str(tmp_path / "features")),
        },
        run_config={
            "ops": {
                "readmission_features": {
                    "config": {"task_file": "t2d_incident_1y", "split": "person", "test_fraction": 0.34, "seed": 3}
                }
            }
        },
    )
    assert result.success
    metadata = result.asset_materializations_for_node("readmission_features")[0].metadata
    assert metadata["task"].value == "t2d_incident_1y" and metadata["split"].value == "person"
    assert metadata["positives"].value == 3 and metadata["dagster/row_count"].value == 6
    assert "`charlson_index`" in metadata["feature_catalogue"].value
    assert "cond_201826_365d" not in metadata["sparse_features_kept"].value  # excluded before index: never present
    con = duckdb.connect(str(warehouse), read_only=True)
    table = con.execute("SELECT * FROM features.readmission").df()
    con.close()
    assert table.groupby("person_id")["split"].nunique().max() == 1
    assert sorted(table.groupby("split")[LABEL_COLUMN].sum().tolist()) == [1, 2]  # stratified: 3 positives of 6

    bad = dg.materialize(
        [readmission_features],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "feature_store": FeatureStoreResource(root=str(tmp_path / "features")),
        },
        run_config={"ops": {"readmission_features": {"config": {"task_file": str(tmp_path / "missing.yaml")}}}},
        raise_on_error=False,
    )
    assert not bad.success
    failure = next(e for e in bad.all_events if e.is_step_failure)
    assert "missing.yaml" in failure.step_failure_data.user_failure_data.description
