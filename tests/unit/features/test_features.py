"""Readmission cohort, label and point-in-time features on a tiny hand-made OMOP schema.

The hand-made CDM is ``tests.support.cdm``."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from mlhops_dagster.features import (
    FEATURE_CATALOGUE,
    FEATURE_COLUMNS,
    ID_COLUMNS,
    LABEL_COLUMN,
    build_cohort_features,
    build_features,
    cohort_attrition,
    data_fingerprint,
    feature_columns,
    model_feature_columns,
    person_split,
    split_features,
    temporal_split,
)
from mlhops_dagster.features.catalogue import FeatureSpec
from mlhops_dagster.features.task import DEFAULT_TASK, TimeAtRisk
from tests.support.cdm import (
    ANEMIA,
    CARDIAC_ARREST,
    CHEST_XRAY,
    CLOPIDOGREL,
    CREATININE,
    DIABETES,
    ECHO,
    ER,
    INPATIENT,
    OBESITY,
    OUTPATIENT,
    SYSTOLIC,
    make_cdm,
)


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    con = make_cdm()
    try:
        return build_cohort_features(con)
    finally:
        con.close()


def row(frame: pd.DataFrame, visit_id: int) -> pd.Series:
    match = frame[frame["visit_occurrence_id"] == visit_id]
    assert len(match) == 1, f"visit {visit_id} not exactly once in the cohort"
    return match.iloc[0]


def test_columns_and_order(features: pd.DataFrame) -> None:
    assert LABEL_COLUMN == "outcome"
    fixed = [*ID_COLUMNS, LABEL_COLUMN, *FEATURE_COLUMNS]
    assert list(features.columns[: len(fixed)]) == fixed
    sparse = list(features.columns[len(fixed) :])  # per-concept flags kept by prevalence follow the catalogue
    assert sparse == [
        "cond_201826_365d",
        "cond_201826_anytime",
        "cond_320128_365d",
        "cond_320128_anytime",
        "cond_4329847_365d",
        "cond_4329847_anytime",
        "drug_1545959_365d",
        "drug_1545959_anytime",
        "drug_19080128_365d",
        "drug_19080128_anytime",
        "proc_4230911_365d",
        "proc_4230911_anytime",
    ]
    assert model_feature_columns(features) == [*FEATURE_COLUMNS, *sparse]
    assert feature_columns(FEATURE_CATALOGUE) == FEATURE_COLUMNS
    # index_date, then every other column but the two ids, then visit_occurrence_id
    order = [
        "index_date",
        *(c for c in features.columns if c not in ("person_id", "visit_occurrence_id", "index_date")),
        "visit_occurrence_id",
    ]
    pd.testing.assert_frame_equal(features.sort_values(order, kind="stable").reset_index(drop=True), features)
    assert features.index.equals(pd.RangeIndex(len(features)))


def _rekey(con: duckdb.DuckDBPyConnection) -> None:
    """What another pseudonymisation key does to a CDM: the same rows under other person and visit ids."""
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'omop' "
        "AND column_name IN ('person_id', 'visit_occurrence_id')"
    ).fetchall()
    for table, column in columns:
        con.execute(f"UPDATE omop.{table} SET {column} = 1000000 - {column}")


def test_row_order_does_not_depend_on_the_pseudonymisation_key() -> None:
    # two discharges on the same day; under the other key their visit ids come in the other order
    extra = {
        "person": [(10, 8507, 1950, 1, 1, "1950-01-01", 8527, 0), (11, 8532, 1990, 1, 1, "1990-01-01", 8527, 0)],
        "observation_period": [(10, 10, "2000-01-01", "2021-12-31"), (11, 11, "2000-01-01", "2021-12-31")],
        "visit_occurrence": [
            (1001, 10, INPATIENT, "2020-11-01", "2020-11-03", 90),
            (1002, 11, INPATIENT, "2020-11-02", "2020-11-03", 91),
        ],
    }
    first, other = make_cdm(extra), make_cdm(extra)
    try:
        _rekey(other)
        a, b = build_cohort_features(first), build_cohort_features(other)
    finally:
        first.close()
        other.close()
    ids = ["person_id", "visit_occurrence_id"]
    pd.testing.assert_frame_equal(a.drop(columns=ids), b.drop(columns=ids))
    np.testing.assert_array_equal(b["visit_occurrence_id"], 1000000 - a["visit_occurrence_id"])
    # ordering ties by the ids instead would have given the two keys different row orders
    by_ids = b.sort_values(["index_date", "visit_occurrence_id"], kind="stable").reset_index(drop=True)
    assert not by_ids.drop(columns=ids).equals(a.drop(columns=ids))


def test_cohort_membership(features: pd.DataFrame) -> None:
    # inpatient / ER+inpatient only, adults, alive at discharge, valid dates, enough follow-up
    assert sorted(features["visit_occurrence_id"]) == [101, 102, 103, 201, 601, 801, 802, 901]


def test_labels(features: pd.DataFrame) -> None:
    labels = dict(zip(features["visit_occurrence_id"], features[LABEL_COLUMN], strict=True))
    assert labels[101] == 1  # readmitted on day 10
    assert labels[102] == 0  # next stay on day 40
    assert labels[201] == 1  # readmitted exactly on day 30
    assert labels[801] == 0  # readmitted on day 31
    assert labels[901] == 1  # readmission observed although observation ends within 30 days
    assert labels[103] == 0 and labels[601] == 0


def test_meta_and_demographics(features: pd.DataFrame) -> None:
    r = row(features, 101)
    assert r["person_id"] == 1 and r["care_site_id"] == 10
    assert r["gender_concept_id"] == 8507 and r["race_concept_id"] == 8527
    assert r["index_date"] == pd.Timestamp("2020-01-05")
    assert r["age_at_index"] == 59  # born 1960-05-01, birthday not yet reached
    assert r["age_group_55_59"] == 1 and r["age_group_60_64"] == 0
    assert (r["index_month"], r["index_year"]) == (1, 2020)
    assert r["sex_male"] == 1 and r["race_white"] == 1 and r["race_other"] == 0
    assert r["length_of_stay_days"] == 4
    r2 = row(features, 201)  # birth date from year/month/day (birth_datetime missing)
    assert r2["age_at_index"] == 69 and r2["age_group_65_69"] == 1
    assert (r2["sex_male"], r2["race_black"], r2["ethnicity_hispanic"]) == (0, 1, 1)
    assert row(features, 601)["race_asian"] == 1
    groups = [c for c in features.columns if c.startswith("age_group_")]
    assert groups[0] == "age_group_15_19" and groups[-1] == "age_group_100_plus"  # adults only (min_age 18)
    assert (features[groups].sum(axis=1) == 1).all()  # exactly one age group each


def test_history_features(features: pd.DataFrame) -> None:
    r = row(features, 101)
    assert r["cond_hypertension_30d"] == 1  # ongoing, diagnosed years earlier: active in every window
    assert (r["cond_type2_diabetes_anytime"], r["cond_type2_diabetes_365d"]) == (1, 0)  # ended 2018-06-01
    assert r["cond_myocardial_infarction_30d"] == 1  # during the stay, before the discharge day
    assert row(features, 103)["cond_myocardial_infarction_30d"] == 0  # ended 58 days before
    assert row(features, 103)["cond_myocardial_infarction_180d"] == 1
    assert r["obs_obesity_anytime"] == 1 and r["obs_obesity_365d"] == 0  # observation in 2010
    assert r["drug_antihypertensive_30d"] == 1
    assert r["drug_statin_anytime"] == 0  # starts on the index date
    assert row(features, 102)["drug_statin_30d"] == 1
    assert r["proc_echocardiography_30d"] == 1 and r["proc_chest_xray_anytime"] == 0
    assert (r["visits_inpatient_365d"], r["visits_er_365d"], r["visits_outpatient_365d"]) == (0, 1, 1)
    assert r["visits_outpatient_30d"] == 0  # 2019-06-01
    assert row(features, 102)["visits_inpatient_30d"] == 1  # 101, never the index stay itself
    assert row(features, 103)["visits_inpatient_365d"] == 2
    assert row(features, 103)["visits_inpatient_30d"] == 0  # 101 and 102 started 60 and 46 days before
    assert row(features, 201)["cond_type2_diabetes_30d"] == 1
    # distinct concepts that *started* in the 365 days: MI (not hypertension 2015, diabetes 2018)
    assert (r["n_conditions_365d"], r["n_drugs_365d"], r["n_procedures_365d"], r["n_measurements_365d"]) == (1, 1, 1, 2)
    assert row(features, 102)["n_drugs_365d"] == 2  # + atorvastatin from 2020-01-05
    # Charlson (Deyo): MI 1 + diabetes 1 (hypertension scores nothing); person 2: diabetes only
    assert (r["charlson_index"], row(features, 201)["charlson_index"], row(features, 601)["charlson_index"]) == (
        2,
        1,
        0,
    )


def test_lab_values_in_365_days(features: pd.DataFrame) -> None:
    r = row(features, 101)
    assert r["lab_creatinine_latest_365d"] == 1.5  # not 9.9 from the index date
    assert (r["lab_creatinine_min_365d"], r["lab_creatinine_max_365d"], r["lab_creatinine_count_365d"]) == (1.0, 1.5, 2)
    assert row(features, 102)["lab_creatinine_latest_365d"] == 9.9
    assert row(features, 102)["lab_creatinine_count_365d"] == 3
    assert r["lab_systolic_bp_latest_365d"] == 135.0  # later the same day
    assert r["lab_systolic_bp_min_365d"] == 120.0
    assert row(features, 201)["lab_creatinine_latest_365d"] == 0.8
    assert math.isnan(row(features, 601)["lab_creatinine_latest_365d"])
    assert row(features, 601)["lab_creatinine_count_365d"] == 0
    assert features["lab_hba1c_latest_365d"].isna().all()
    assert features["lab_hba1c_latest_365d"].dtype == np.float64


def test_lab_values_are_harmonised_and_plausible() -> None:
    """Through the ML-DQA element values: an implausible value is not a feature value; 365 days bound it."""
    con = make_cdm(
        {
            "measurement": [
                (50, 1, CREATININE, "2020-01-04", "2020-01-04 08:00", 900.0),  # implausible in mg/dL
                (51, 1, CREATININE, "2018-12-01", "2018-12-01 08:00", 0.5),  # older than 365 days
            ]
        }
    )
    r = row(build_cohort_features(con), 101)
    con.close()
    assert r["lab_creatinine_latest_365d"] == 1.5 and r["lab_creatinine_max_365d"] == 1.5
    assert r["lab_creatinine_min_365d"] == 1.0 and r["lab_creatinine_count_365d"] == 2


def _plant(person_id: int, day: pd.Timestamp, offset: int) -> dict[str, list[tuple]]:
    """Records of every source dated ``offset`` days after ``day`` for ``person_id``, ids far from the fixture's."""
    d = (day + pd.Timedelta(days=offset)).date().isoformat()
    base = 1_000_000 * person_id + 100 * (offset + 1_000)
    return {
        "measurement": [
            (base + 1, person_id, CREATININE, d, f"{d} 06:00", 24.0),
            (base + 2, person_id, SYSTOLIC, d, f"{d} 06:00", 200.0),
        ],
        "condition_occurrence": [
            (base + 1, person_id, ANEMIA, d, None),
            (base + 2, person_id, CARDIAC_ARREST, d, d),
            (base + 3, person_id, DIABETES, d, None),
        ],
        "drug_exposure": [(base + 1, person_id, CLOPIDOGREL, d, d)],
        "procedure_occurrence": [(base + 1, person_id, CHEST_XRAY, d), (base + 2, person_id, ECHO, d)],
        "observation": [(base + 1, person_id, OBESITY, d)],
        "visit_occurrence": [
            (base + 1, person_id, ER, d, d, 99),
            (base + 2, person_id, OUTPATIENT, d, d, 99),
            (base + 3, person_id, INPATIENT, d, d, 99),
        ],
    }


def test_no_leakage_from_records_at_or_after_index(features: pd.DataFrame) -> None:
    """Records of every source dated on or 31 days after a row's index_date change none of its features.

    Persons are independent, so each round plants records after the k-th index stay of
    every person at once and checks those stays (records after one stay may precede a later
    stay of the same person: that is why the rounds exist, and why the per-concept columns
    may grow; every original column must still be there).
    """
    columns = model_feature_columns(features)
    rounds = features.groupby("person_id").cumcount()
    for k in sorted(rounds.unique()):
        checked = features[rounds == k]
        extra: dict[str, list[tuple]] = {}
        for _, base_row in checked.iterrows():
            for offset in (0, 31):
                for table, rows in _plant(int(base_row["person_id"]), base_row["index_date"], offset).items():
                    extra.setdefault(table, []).extend(rows)
        con = make_cdm(extra)
        planted = build_cohort_features(con)
        con.close()
        assert set(columns) <= set(model_feature_columns(planted))
        for _, base_row in checked.iterrows():
            after = row(planted, int(base_row["visit_occurrence_id"]))
            pd.testing.assert_series_equal(
                after[columns], base_row[columns], check_names=False, obj=f"visit {base_row['visit_occurrence_id']}"
            )


def test_leakage_check_has_teeth(features: pd.DataFrame) -> None:
    """The same records planted *before* the index date do change the features, of every source."""
    extra = _plant(1, row(features, 101)["index_date"], -1)  # during the stay 2020-01-01..05, before discharge
    for table, rows in _plant(2, row(features, 201)["index_date"], -1).items():
        extra[table] += rows
    con = make_cdm(extra)
    planted = build_cohort_features(con)
    con.close()
    r = row(planted, 101)
    assert r["lab_creatinine_latest_365d"] == 24.0 and r["lab_systolic_bp_max_365d"] == 200.0
    assert r["cond_anemia_30d"] == 1 and r["cond_cardiac_arrest_30d"] == 1 and r["cond_type2_diabetes_30d"] == 1
    assert r["drug_antiplatelet_30d"] == 1 and r["proc_chest_xray_30d"] == 1
    assert r["cond_439777_365d"] == 1  # anemia now has a per-concept flag (2 of 8 index stays)
    assert r["n_conditions_365d"] == 4 and r["charlson_index"] == 2  # diabetes counted once
    assert row(planted, 201)["obs_obesity_30d"] == 1
    # visits that start during the index stay are not prior visits
    assert (r["visits_er_365d"], r["visits_outpatient_365d"], r["visits_inpatient_365d"]) == (1, 1, 0)

    con = make_cdm(_plant(1, row(features, 101)["index_date"], -10))  # before the stay started
    r = row(build_cohort_features(con), 101)
    con.close()
    assert (r["visits_inpatient_30d"], r["visits_er_30d"], r["visits_outpatient_30d"]) == (1, 2, 1)


def test_task_parameters() -> None:
    con = make_cdm()
    longer = DEFAULT_TASK.model_copy(
        update={"time_at_risk": TimeAtRisk(start_day=1, end_day=45), "require_full_follow_up": False}
    )
    frame = build_cohort_features(con, longer)
    labels = dict(zip(frame["visit_occurrence_id"], frame[LABEL_COLUMN], strict=True))
    assert labels[102] == 1 and labels[801] == 1  # day 40 and day 31 now inside the window
    assert {202, 902} <= set(labels)  # no censoring
    kids = build_cohort_features(con, DEFAULT_TASK.model_copy(update={"min_age": 0}))
    assert 301 in set(kids["visit_occurrence_id"])
    assert "age_group_10_14" in kids.columns  # age groups follow the task's age range
    con.close()


def test_custom_catalogue_and_windows() -> None:
    catalogue = (
        FeatureSpec(
            "creat_10d",
            "Latest creatinine, 10 days",
            "measurement",
            "measurement",
            (CREATININE,),
            window=10,
            stat="latest",
        ),
        FeatureSpec(
            "dm_30d", "Diabetes active in 30 days", "event_flag", "condition_occurrence", (DIABETES,), window=30
        ),
        FeatureSpec(
            "any_visit_60d", "Visits in 60 days", "visit_count", "visit_occurrence", (ER, OUTPATIENT), window=60
        ),
    )
    con = make_cdm()
    frame = build_cohort_features(con, features=catalogue, sparse=None)
    con.close()
    assert list(frame.columns) == [*ID_COLUMNS, LABEL_COLUMN, "creat_10d", "dm_30d", "any_visit_60d"]
    assert row(frame, 101)["creat_10d"] == 1.5  # 2 days before the index date
    assert math.isnan(row(frame, 102)["creat_10d"])  # the latest, 2020-01-05, is 13 days before
    assert (row(frame, 101)["dm_30d"], row(frame, 201)["dm_30d"]) == (0, 1)  # ended 2018 / ongoing
    assert row(frame, 101)["any_visit_60d"] == 1  # the ER visit, not the outpatient one 7 months before
    with pytest.raises(ValueError, match="snake_case"):
        FeatureSpec("Bad-Id", "x", "event_flag", "condition_occurrence", (1,))
    with pytest.raises(ValueError, match="unknown source"):
        FeatureSpec("x", "x", "event_flag", "nowhere", (1,))
    with pytest.raises(ValueError, match="stat"):
        FeatureSpec("x", "x", "measurement", "measurement", (1,), window=30)


def test_cohort_attrition() -> None:
    con = make_cdm()
    attrition = cohort_attrition(con)
    con.close()
    assert list(attrition["step"]) == [
        "index_events",
        "valid_index_date",
        "age_at_least_18",
        "alive_at_index",
        "sufficient_follow_up",
    ]
    assert list(attrition["n_events"]) == [14, 13, 12, 10, 8]


def test_missing_table_is_a_clear_error() -> None:
    con = make_cdm()
    con.execute("DROP TABLE omop.measurement")
    with pytest.raises(ValueError, match="omop.measurement.value_as_number"):
        build_cohort_features(con)
    with pytest.raises(ValueError, match="identifier"):
        build_cohort_features(make_cdm(), cdm_schema="omop; DROP TABLE x")
    con.close()


def test_empty_cohort_keeps_columns() -> None:
    con = make_cdm()
    con.execute("DELETE FROM omop.visit_occurrence")
    built = build_features(con)
    con.close()
    assert built.frame.empty and built.sparse_kept == []
    assert list(built.frame.columns) == [*ID_COLUMNS, LABEL_COLUMN, *FEATURE_COLUMNS]


def test_temporal_split(features: pd.DataFrame) -> None:
    split = temporal_split(features)
    assert split.index.equals(features.index)
    assert set(split) == {"train", "test"}
    train_dates = features.loc[split == "train", "index_date"]
    test_dates = features.loc[split == "test", "index_date"]
    assert train_dates.max() < test_dates.min()
    assert not set(train_dates) & set(test_dates)
    assert split_features(features).equals(split)  # temporal is the default


def test_temporal_split_never_straddles_a_date() -> None:
    dates = pd.to_datetime(["2020-01-01"] * 3 + ["2020-01-02"] * 4 + ["2020-01-03"] * 3)
    frame = pd.DataFrame({"index_date": dates[::-1]}, index=range(100, 110))  # unsorted, custom index
    split = temporal_split(frame, test_fraction=0.25)
    assert (split[frame["index_date"] == pd.Timestamp("2020-01-03")] == "test").all()
    assert (split[frame["index_date"] < pd.Timestamp("2020-01-03")] == "train").all()
    half = temporal_split(frame, test_fraction=0.6)  # 7/10 on or after 01-02 is closest
    assert (half[frame["index_date"] >= pd.Timestamp("2020-01-02")] == "test").all()
    with pytest.raises(ValueError):
        temporal_split(frame.iloc[:3])  # one distinct date
    with pytest.raises(ValueError):
        temporal_split(frame, test_fraction=1.0)


def _people(n_persons: int = 400, seed: int = 0) -> pd.DataFrame:
    """1-5 index events per person; a fifth of the persons have the outcome at their last event."""
    rng = np.random.default_rng(seed)
    events = rng.integers(1, 6, n_persons)
    person = np.repeat(np.arange(1, n_persons + 1) * 7, events)
    last = np.r_[np.diff(person) != 0, True]
    positive_person = np.repeat(rng.random(n_persons) < 0.2, events)
    return pd.DataFrame(
        {
            "person_id": person,
            "outcome": (last & positive_person).astype(int),
            "index_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, len(person)), "D"),
        },
        index=np.arange(len(person)) + 1000,
    )


def test_person_split_keeps_persons_whole_and_stratifies() -> None:
    frame = _people()
    split = person_split(frame, test_fraction=0.25, seed=7)
    assert split.index.equals(frame.index) and set(split) == {"train", "test"}
    sides = frame.assign(split=split).groupby("person_id")["split"].nunique()
    assert (sides == 1).all()  # a person is never on both sides
    persons = frame.assign(split=split).groupby("person_id").agg(outcome=("outcome", "max"), split=("split", "first"))
    test_persons = persons[persons["split"] == "test"]
    assert len(test_persons) == 100  # 25 % of 400 persons
    # stratified at person level: the outcome share is the same on both sides (to one person)
    expected = persons["outcome"].mean() * len(test_persons)
    assert abs(test_persons["outcome"].sum() - expected) <= 1
    assert person_split(frame, test_fraction=0.25, seed=7).equals(split)  # deterministic
    assert not person_split(frame, test_fraction=0.25, seed=8).equals(split)  # the seed matters
    assert split_features(frame, "person", 0.25, seed=7).equals(split)
    with pytest.raises(ValueError, match="unknown split"):
        split_features(frame, "random")  # type: ignore[arg-type]


def test_person_split_on_the_cohort(features: pd.DataFrame) -> None:
    split = person_split(features, test_fraction=0.4, seed=1)
    assert (features.assign(split=split).groupby("person_id")["split"].nunique() == 1).all()
    assert set(split) == {"train", "test"}
    with pytest.raises(ValueError, match="two persons"):
        person_split(features[features["person_id"] == 1])


def test_data_fingerprint(features: pd.DataFrame) -> None:
    fp = data_fingerprint(features)
    assert len(fp) == 64
    assert data_fingerprint(features.copy()) == fp
    assert data_fingerprint(features.set_axis(range(10, 10 + len(features)))) == fp  # index ignored
    changed = features.copy()
    changed.loc[0, "lab_creatinine_latest_365d"] = 123.0
    assert data_fingerprint(changed) != fp
    assert data_fingerprint(features.rename(columns={"sex_male": "male"})) != fp
    assert data_fingerprint(features.iloc[::-1]) != fp  # row order matters
