"""Promotion gate decisions and champion rollback on a real MLflow registry (sqlite store)."""

from __future__ import annotations

import math

import pytest

from mlhops_dagster.cli import main as mlhops
from mlhops_dagster.modeling.promotion import GatePolicy, decide

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


def test_gate_moves_champion_and_rollback_walks_it_back(tmp_path, monkeypatch, capsys) -> None:
    from mlflow import MlflowClient

    from mlhops_dagster.modeling.registry import apply_gate, rollback_champion

    data_dir = tmp_path.resolve() / "data"
    (data_dir / "mlflow").mkdir(parents=True)
    monkeypatch.setenv("MLHOPS_DATA_DIR", str(data_dir))  # `mlhops rollback` finds the store from the settings
    uri = f"sqlite:///{data_dir / 'mlflow' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("m")
    for _ in range(3):  # versions without a model artifact: the registry logic is what is under test
        client.create_model_version("m", source=str(tmp_path))

    def champion() -> str:
        return str(client.get_model_version_by_alias("m", "champion").version)

    assert apply_gate(uri, "m", decide("1", GOOD, None, None, [])) and champion() == "1"
    assert apply_gate(uri, "m", decide("2", GOOD, "1", 0.80, [])) and champion() == "2"
    rejected = decide("3", {**GOOD, "auroc": 0.70}, "2", 0.80, [])
    assert not apply_gate(uri, "m", rejected) and champion() == "2"
    tags = client.get_model_version("m", "3").tags
    assert tags["gate_decision"] == "reject" and tags["gate_reasons"].startswith("performance:")
    assert client.get_model_version("m", "2").tags["gate_decision"] == "promote"

    assert rollback_champion(uri, "m").message == "m: champion moved from version 2 back to 1"
    assert champion() == "1" and "returned to version 1" in client.get_model_version("m", "2").tags["rolled_back"]
    with pytest.raises(LookupError, match="first champion"):
        rollback_champion(uri, "m")

    # the command says what it did, and fails with a plain message when it cannot
    assert apply_gate(uri, "m", decide("3", GOOD, "1", 0.80, [])) and champion() == "3"
    assert mlhops(["rollback", "--model", "m"]) == 0
    assert "champion moved from version 3 back to 1" in capsys.readouterr().out and champion() == "1"
    assert mlhops(["rollback", "--model", "nope"]) == 1
    assert "has no champion" in capsys.readouterr().err
