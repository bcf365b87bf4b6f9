"""Promotion gate decisions, their table records, and the champion's AUROC on the challenger's window."""

from __future__ import annotations

import math

import pytest
from sklearn.metrics import roc_auc_score

from mlhops_dagster.modeling.promotion import GatePolicy, champion_auroc, decide
from mlhops_dagster.modeling.registry import ModelRegistry
from mlhops_dagster.modeling.trainers import train_logistic_regression
from tests.unit.modeling.synthetic import make_data

GOOD = {"auroc": 0.80, "calibration_slope": 1.02, "worst_subgroup_auroc_gap": 0.04}


def rule(decision, name: str):
    return next(r for r in decision.rules if r.name == name)


def test_promotes_a_challenger_that_passes_every_rule() -> None:
    decision = decide("2", GOOD, "1", 0.805, [])
    assert decision.promote and all(r.passed for r in decision.rules)
    assert decision.summary.startswith("promote version 2")
    assert "0.800 vs champion v1 0.805" in rule(decision, "performance").detail


def test_rejects_on_performance_beyond_the_tolerance() -> None:
    decision = decide("2", GOOD, "1", 0.83, [], GatePolicy(auroc_tolerance=0.02))
    assert not decision.promote
    assert [r.name for r in decision.rules if not r.passed] == ["performance"]
    assert decision.reasons == [
        "performance: challenger AUROC 0.800 vs champion v1 0.830 (minimum 0.810 = champion - 0.02)"
    ]


def test_rejects_on_fairness_calibration_and_data_quality() -> None:
    unfair = decide("2", {**GOOD, "worst_subgroup_auroc_gap": 0.15}, "1", 0.80, [])
    assert not unfair.promote and [r.name for r in unfair.rules if not r.passed] == ["fairness"]
    miscalibrated = decide("2", {**GOOD, "calibration_slope": 0.6}, "1", 0.80, [])
    assert not miscalibrated.promote and [r.name for r in miscalibrated.rules if not r.passed] == ["calibration"]
    dirty = decide("2", GOOD, "1", 0.80, ["person.plausibleValueLow_person_year_of_birth"])
    assert not dirty.promote and "person.plausibleValueLow_person_year_of_birth" in rule(dirty, "data_quality").detail
    assert decide("2", GOOD, "1", 0.80, ["x"], GatePolicy(require_data_quality=False)).promote


def test_edge_cases_first_champion_undefined_metrics_and_bad_policy() -> None:
    first = decide("1", GOOD, None, None, [])  # no champion yet: nothing to be worse than ...
    assert first.promote and rule(first, "performance").detail.startswith("not applicable")
    # ... but the absolute rules still decide for the first version
    unfair_first = decide("1", {**GOOD, "worst_subgroup_auroc_gap": 0.2}, None, None, [])
    assert not unfair_first.promote and [r.name for r in unfair_first.rules if not r.passed] == ["fairness"]
    assert not decide("1", {**GOOD, "calibration_slope": 1.6}, None, None, []).promote
    assert not decide("1", GOOD, None, None, ["person.x"]).promote
    no_groups = decide("2", {**GOOD, "worst_subgroup_auroc_gap": math.nan}, "1", 0.8, [])
    assert no_groups.promote and "not computed" in rule(no_groups, "fairness").detail
    assert not decide("2", {**GOOD, "calibration_slope": math.nan}, "1", 0.8, []).promote
    assert not decide("2", GOOD, "1", math.nan, []).promote
    with pytest.raises(ValueError, match="bracket 1"):
        GatePolicy(calibration_slope_bounds=(1.1, 1.3))


def test_records_list_every_rule_in_order() -> None:
    decision = decide("2", {**GOOD, "calibration_slope": 0.6}, "1", 0.80, [], notes=("re-scored",))
    assert decision.records() == [{"rule": r.name, "passed": r.passed, "detail": r.detail} for r in decision.rules]
    assert [r["rule"] for r in decision.records()] == ["performance", "fairness", "calibration", "data_quality"]
    assert [r["passed"] for r in decision.records()] == [True, True, False, True]


def test_champion_auroc_rescores_or_falls_back_to_the_recorded_value(tmp_path) -> None:
    X, y = make_data(n=400, p=6, seed=3)
    window, window_y = make_data(n=300, p=6, seed=4)
    window = window.assign(readmitted_30d=window_y)
    registry = ModelRegistry(f"sqlite:///{tmp_path}/mlflow.db", "m", "exp", artifact_root=str(tmp_path / "a"))
    assert champion_auroc(registry, window, "readmitted_30d") == (None, None, "no champion")

    trained = train_logistic_regression(X, y)
    run_id = registry.log_candidate(trained, X, metrics={}, tags={})
    registry.log_evaluation(run_id, {"test_auroc": 0.61})
    registry.register_best({run_id: 0.61})
    registry.apply_gate(decide("1", GOOD, None, None, []))
    version, auroc, note = champion_auroc(registry, window, "readmitted_30d")
    expected = roc_auc_score(window_y, trained.estimator.predict_proba(window.drop(columns="readmitted_30d"))[:, 1])
    assert (version, note) == ("1", "re-scored on the challenger's test window") and auroc == pytest.approx(expected)

    other_columns = window.rename(columns={"feat_02": "feat_new"})  # the champion's column is gone
    version, auroc, note = champion_auroc(registry, other_columns, "readmitted_30d")
    assert (version, auroc) == ("1", 0.61) and "recorded test AUROC used" in note and "feat_02" in note
