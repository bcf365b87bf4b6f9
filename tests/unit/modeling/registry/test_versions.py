"""Versions and aliases on a real sqlite registry: the gate moves `champion`, rollback walks its history back."""

from __future__ import annotations

import pytest

from mlhops_dagster.cli import main as mlhops
from mlhops_dagster.modeling.promotion import decide
from mlhops_dagster.modeling.registry import ModelRegistry

GOOD = {"auroc": 0.80, "calibration_slope": 1.02, "worst_subgroup_auroc_gap": 0.04}


def test_gate_moves_champion_and_rollback_walks_it_back(tmp_path, monkeypatch, capsys) -> None:
    from mlflow import MlflowClient

    data_dir = tmp_path.resolve() / "data"
    (data_dir / "mlflow").mkdir(parents=True)
    monkeypatch.setenv("MLHOPS_DATA_DIR", str(data_dir))  # `mlhops rollback` finds the store from the settings
    uri = f"sqlite:///{data_dir / 'mlflow' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("m")
    for _ in range(3):  # versions without a model artifact: the registry logic is what is under test
        client.create_model_version("m", source=str(tmp_path))
    registry = ModelRegistry(uri, "m", "exp")

    def champion() -> str:
        return str(client.get_model_version_by_alias("m", "champion").version)

    assert registry.apply_gate(decide("1", GOOD, None, None, [])) and champion() == "1"
    assert registry.apply_gate(decide("2", GOOD, "1", 0.80, [])) and champion() == "2"
    rejected = decide("3", {**GOOD, "auroc": 0.70}, "2", 0.80, [])
    assert not registry.apply_gate(rejected) and champion() == "2"
    tags = client.get_model_version("m", "3").tags
    assert tags["gate_decision"] == "reject" and tags["gate_reasons"].startswith("performance:")
    assert client.get_model_version("m", "2").tags["gate_decision"] == "promote"
    assert registry.history() == ["1", "2"]

    assert registry.rollback().message == "m: champion moved from version 2 back to 1"
    assert champion() == "1" and "returned to version 1" in client.get_model_version("m", "2").tags["rolled_back"]
    assert registry.history() == ["1"]
    with pytest.raises(LookupError, match="first champion"):
        registry.rollback()

    # the command says what it did, and fails with a plain message when it cannot
    assert registry.apply_gate(decide("3", GOOD, "1", 0.80, [])) and champion() == "3"
    assert mlhops(["rollback", "--model", "m"]) == 0
    assert "champion moved from version 3 back to 1" in capsys.readouterr().out and champion() == "1"
    assert mlhops(["rollback", "--model", "nope"]) == 1
    assert "has no champion" in capsys.readouterr().err


def test_reapplying_a_promotion_to_the_champion_moves_nothing(tmp_path) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    registry = ModelRegistry(uri, "m", "exp")
    registry.client.create_registered_model("m")
    registry.client.create_model_version("m", source=str(tmp_path))
    assert registry.apply_gate(decide("1", GOOD, None, None, []))
    assert not registry.apply_gate(decide("1", GOOD, "1", 0.80, []))  # already champion
    assert registry.history() == ["1"] and registry.champion_info().aliases == ["champion"]
