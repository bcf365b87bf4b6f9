"""The FeatureExtraction-style catalogue: ids, windows, Charlson concept sets, prevalence-kept concept flags."""

from __future__ import annotations

import csv

import pytest

import mlhops_dagster.features.catalogue as catalogue_module
from mlhops_dagster.features import FEATURE_CATALOGUE, build_features, sparse_concept_features
from mlhops_dagster.features.catalogue import (
    CHARLSON_CATEGORIES,
    PROCEDURE_GROUPS,
    SparseConcepts,
    catalogue_records,
    default_catalogue,
    monitored_features,
    window_suffix,
)
from mlhops_dagster.features.task import DEFAULT_TASK, PredictionTask
from mlhops_dagster.settings import DBT_PROJECT_DIR
from mlhops_dagster.synthetic import codes as generator
from tests.support.cdm import make_cdm


def _demo_concepts() -> dict[int, tuple[str, str]]:
    """concept_id -> (vocabulary_id, concept_code) of the demo vocabulary seed."""
    with open(DBT_PROJECT_DIR / "seeds" / "concept.csv", newline="") as f:
        return {int(r["concept_id"]): (r["vocabulary_id"], r["concept_code"]) for r in csv.DictReader(f)}


def test_ids_encode_windows_and_sources() -> None:
    prefixes = {
        "condition_occurrence": "cond_",
        "drug_exposure": "drug_",
        "procedure_occurrence": "proc_",
        "observation": "obs_",
        "visit_occurrence": "visits_",
        "measurement": ("lab_", "n_"),
    }
    for spec in FEATURE_CATALOGUE:
        if spec.kind in ("demographic", "charlson"):
            assert spec.window is None
            continue
        assert spec.id.endswith("_" + window_suffix(spec.window)), spec.id
        if spec.kind != "distinct_concepts":
            assert spec.id.startswith(prefixes[spec.source]), spec.id
    ids = {s.id for s in FEATURE_CATALOGUE}
    for group in ("hypertension", "type2_diabetes", "chronic_pain"):  # condition groups in all four windows
        assert {f"cond_{group}_{w}" for w in ("anytime", "365d", "180d", "30d")} <= ids
    assert {f"proc_{g.id}_30d" for g in PROCEDURE_GROUPS} <= ids
    assert {f"lab_creatinine_{s}_365d" for s in ("latest", "min", "max", "count")} <= ids
    assert {
        f"visits_{t}_{w}" for t in ("inpatient", "er", "outpatient") for w in ("anytime", "365d", "180d", "30d")
    } <= ids
    assert {
        "n_conditions_365d",
        "n_drugs_365d",
        "n_procedures_365d",
        "n_measurements_365d",
        "charlson_index",
        "index_month",
        "index_year",
        "age_group_100_plus",
    } <= ids


def test_catalogue_follows_the_task() -> None:
    t2d = PredictionTask.from_file("t2d_incident_1y")
    ids = [s.id for s in default_catalogue(t2d)]
    assert "length_of_stay_days" not in ids  # indexed at the visit start: the stay has not ended
    assert "length_of_stay_days" in [s.id for s in default_catalogue(DEFAULT_TASK)]


def test_catalogue_records_list_every_feature() -> None:
    records = catalogue_records(FEATURE_CATALOGUE)
    assert [r["id"] for r in records] == [s.id for s in FEATURE_CATALOGUE]
    assert set(records[0]) == {"id", "description", "kind", "window", "source"}
    by_id = {r["id"]: r for r in records}
    hypertension = by_id["cond_hypertension_365d"]
    assert (hypertension["window"], hypertension["source"]) == ("365 days before index", "condition_occurrence")
    assert by_id["charlson_index"]["window"] == "all history before index"


def test_charlson_concepts_are_the_generators_codes_and_gaps_are_documented() -> None:
    assert len(CHARLSON_CATEGORIES) == 17
    assert {c.id: c.weight for c in CHARLSON_CATEGORIES if c.weight > 1} == {
        "diabetes_complications": 2,
        "hemiplegia_paraplegia": 2,
        "renal_disease": 2,
        "malignancy": 2,
        "severe_liver_disease": 3,
        "metastatic_tumor": 6,
        "aids": 6,
    }
    concepts = _demo_concepts()
    emitted = set(generator.CONDITION_CODES)
    for category in CHARLSON_CATEGORIES:
        for concept_id in category.concept_ids:
            vocabulary, code = concepts[concept_id]
            assert vocabulary == "SNOMED" and code in emitted, (category.id, concept_id)
    doc = " ".join(catalogue_module.__doc__.split()).lower()
    gaps = doc.split("no code in the demo data")[1]
    for category in CHARLSON_CATEGORIES:
        if not category.concept_ids:
            assert category.description.lower() in gaps, category.id


def test_t2d_task_uses_the_generators_diabetes_code() -> None:
    task = PredictionTask.from_file("t2d_incident_1y")
    concepts = _demo_concepts()
    assert {concepts[c] for c in task.outcome.concept_ids} == {("SNOMED", generator.DIABETES)}


def test_sparse_flags_are_kept_by_prevalence() -> None:
    con = make_cdm()
    try:
        kept, candidates = sparse_concept_features(con, sparse=SparseConcepts(min_prevalence=0.3))
        loose, _ = sparse_concept_features(con, sparse=SparseConcepts(min_prevalence=0.0))
        con.execute("CREATE SCHEMA vocab")
        con.execute(
            "CREATE TABLE vocab.concept AS SELECT 320128 AS concept_id, 'Essential hypertension' AS concept_name"
        )
        built = build_features(con, sparse=SparseConcepts(min_prevalence=0.3))
    finally:
        con.close()
    prevalence = {(r.source, r.concept_id, r.window): r.prevalence for r in candidates.itertuples()}
    # 8 index stays: hypertension (person 1, ongoing) 3/8; diabetes active in 365 d only for stay 201
    assert prevalence[("condition_occurrence", 320128, 365)] == pytest.approx(3 / 8)
    assert prevalence[("condition_occurrence", 201826, 365)] == pytest.approx(1 / 8)
    assert prevalence[("condition_occurrence", 201826, None)] == pytest.approx(4 / 8)
    ids = [s.id for s in kept]
    assert "cond_320128_365d" in ids and "cond_201826_anytime" in ids and "cond_201826_365d" not in ids
    assert set(ids) < {s.id for s in loose}
    assert built.sparse_kept == ids
    assert "Essential hypertension" in next(s.description for s in built.features if s.id == "cond_320128_365d")
    assert list(built.frame.columns[-len(ids) :]) == ids
    with pytest.raises(ValueError, match="min_prevalence"):
        SparseConcepts(min_prevalence=1.5)
    with pytest.raises(ValueError, match="event tables"):
        SparseConcepts(sources=("visit_occurrence",))


def test_drift_monitors_each_signal_once_in_its_long_windows() -> None:
    """Drift leaves out the 180/30-day variants, age-group flags, per-concept flags and the index date's calendar
    (a later extract differs in its year by construction), and keeps the rest."""
    ids = [f.id for f in default_catalogue(DEFAULT_TASK)] + ["cond_201826_365d", "drug_1234567_anytime"]
    monitored = monitored_features(ids)
    assert {"age_at_index", "charlson_index", "sex_male"} <= set(monitored)
    assert any(c.endswith("_365d") for c in monitored) and any(c.endswith("_anytime") for c in monitored)
    assert not [c for c in monitored if c.endswith(("_30d", "_180d")) or c.startswith("age_group_")]
    assert "cond_201826_365d" not in monitored and "drug_1234567_anytime" not in monitored
    assert {"index_year", "index_month"} <= set(ids) and not {"index_year", "index_month"} & set(monitored)
    assert monitored == [c for c in ids if c in set(monitored)]  # order kept
    assert len(monitored) < len(ids) * 0.7
