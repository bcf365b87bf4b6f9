"""The registry round trip on a real sqlite store: log, evaluate, register, gate, load by run and alias — through
one ModelRegistry, without MLflow's process-global URIs or the environment."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from mlhops_dagster.modeling import ModelRegistry, evaluate_binary, train_lightgbm, train_logistic_regression
from mlhops_dagster.modeling.evaluation import roc_pr_calibration_png
from mlhops_dagster.modeling.promotion import decide
from tests.unit.modeling.synthetic import make_data


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    X, y = make_data(seed=0)
    X_test, y_test = make_data(n=1000, seed=1)
    return X, y, X_test, y_test


def test_registry_aliases_and_loading(tmp_path, data):
    import mlflow

    X, y, X_test, y_test = data
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    artifacts = tmp_path / "artifacts"
    previous_uri = mlflow.get_tracking_uri()
    registry = ModelRegistry(uri, "readmission_30d", "readmission_test", artifact_root=str(artifacts))

    logreg = train_logistic_regression(X, y)
    lgbm = train_lightgbm(X, y, n_estimators=30)
    run_ids, aurocs = {}, {}
    for trained in (logreg, lgbm):
        scores = trained.estimator.predict_proba(X_test)[:, 1]
        metrics = evaluate_binary(y_test.to_numpy(), scores, n_bootstrap=20)
        png = roc_pr_calibration_png(y_test.to_numpy(), scores, title=trained.family)
        run_id = registry.log_candidate(
            trained,
            X,
            metrics={"train_rows": float(len(X))},
            tags={"dagster_run_id": "r-1", "data_fingerprint": "abc"},
            plot_png=png,
        )
        registry.log_evaluation(run_id, {f"test_{k}": v for k, v in metrics.items()})
        run_ids[trained.family], aurocs[run_id] = run_id, metrics["auroc"]

    assert mlflow.get_tracking_uri() == previous_uri  # no global state leaked
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.get_run(run_ids["logistic_regression"])
    assert run.info.run_name == "logistic_regression" and run.info.status == "FINISHED"
    assert run.data.tags["dagster_run_id"] == "r-1" and run.data.tags["model_family"] == "logistic_regression"
    assert run.data.params["C"] == "1.0" and "test_auroc" in run.data.metrics
    assert "plots/evaluation.png" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert str(artifacts) in client.get_experiment_by_name("readmission_test").artifact_location
    reloaded = registry.load_run_model(run_ids["lightgbm"])
    np.testing.assert_array_equal(reloaded.predict_proba(X_test), lgbm.estimator.predict_proba(X_test))

    first = registry.register_best(aurocs)
    best_run = max(aurocs, key=aurocs.get)
    assert (first.version, first.run_id, first.aliases) == ("1", best_run, ["challenger"])
    mv1 = client.get_model_version("readmission_30d", "1")
    # registration never crowns a champion, not even the first version: only the gate does
    assert list(mv1.aliases) == ["challenger"] and "no champion yet" in mv1.tags["decision"]
    with pytest.raises(LookupError, match="no version has passed the promotion gate"):
        registry.load_model_by_alias()
    assert registry.apply_gate(
        decide("1", {"auroc": first.auroc, "calibration_slope": 1.0, "worst_subgroup_auroc_gap": 0.0}, None, None, []),
    )

    # the next training run: lightgbm wins this time -> version 2 is challenger, champion stays 1
    second = registry.register_best({run_ids["lightgbm"]: 0.9, run_ids["logistic_regression"]: 0.8})
    assert (second.version, second.run_id, second.aliases) == ("2", run_ids["lightgbm"], ["challenger"])
    assert str(client.get_model_version_by_alias("readmission_30d", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("readmission_30d", "challenger").version) == "2"
    assert client.get_model_version("readmission_30d", "2").tags["decision"].startswith("challenger")
    assert "champion stays version 1" in client.get_model_version("readmission_30d", "2").tags["decision"]

    champion, version = registry.load_model_by_alias()
    best_estimator = (logreg if best_run == run_ids["logistic_regression"] else lgbm).estimator
    assert version == "1"
    np.testing.assert_array_equal(champion.predict_proba(X_test), best_estimator.predict_proba(X_test))
    challenger, version = registry.load_model_by_alias("challenger")
    assert version == "2"
    np.testing.assert_array_equal(challenger.predict_proba(X_test), lgbm.estimator.predict_proba(X_test))

    info = registry.champion_info()
    assert info.version == "1" and info.run_id == best_run and info.tags["data_fingerprint"] == "abc"

    with pytest.raises(LookupError, match="no version with alias 'retired'"):
        registry.load_model_by_alias("retired")
    with pytest.raises(LookupError):
        ModelRegistry(uri, "no_such_model", "readmission_test").load_model_by_alias()
    assert mlflow.get_tracking_uri() == previous_uri


def test_a_round_trip_touches_neither_the_environment_nor_mlflow_globals(tmp_path, monkeypatch, data):
    """MLflow's fluent API would follow ``MLFLOW_TRACKING_URI``: point it at a decoy store; after a whole round trip
    the decoy is untouched, the environment and MLflow's global URIs are as they were, the real store has it all."""
    import mlflow
    from mlflow.tracking import _model_registry, _tracking_service

    X, y, X_test, _ = data
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{decoy}/mlflow.db")
    monkeypatch.chdir(decoy)  # and MLflow's cwd-relative default store would land here
    before_env = dict(os.environ)
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    before_private = (_tracking_service.utils._tracking_uri, _model_registry.utils._registry_uri)

    def forbidden(*args, **kwargs):
        raise AssertionError("the registry must not set MLflow's process-global URIs")

    monkeypatch.setattr(mlflow, "set_tracking_uri", forbidden)
    monkeypatch.setattr(mlflow, "set_registry_uri", forbidden)

    uri = f"sqlite:///{tmp_path}/store.db"
    registry = ModelRegistry(uri, "m", "exp", artifact_root=str(tmp_path / "artifacts"))
    trained = train_logistic_regression(X, y)
    run_id = registry.log_candidate(trained, X, metrics={"train_rows": 1.0}, tags={})
    registry.log_evaluation(run_id, {"test_auroc": 0.7})
    registry.register_best({run_id: 0.7})
    registry.apply_gate(
        decide("1", {"auroc": 0.7, "calibration_slope": 1.0, "worst_subgroup_auroc_gap": 0.0}, None, None, [])
    )
    model, version = registry.load_model_by_alias()
    registry.load_run_model(run_id)

    assert dict(os.environ) == before_env
    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == before
    assert (_tracking_service.utils._tracking_uri, _model_registry.utils._registry_uri) == before_private
    assert list(decoy.iterdir()) == []  # nothing was written through the global URI or the cwd default
    np.testing.assert_array_equal(model.predict_proba(X_test), trained.estimator.predict_proba(X_test))
    assert version == "1" and registry.client.get_run(run_id).data.metrics["test_auroc"] == 0.7


def test_a_registry_needs_an_explicit_tracking_uri():
    with pytest.raises(ValueError, match="explicit MLflow tracking URI"):
        ModelRegistry("", "m", "exp")


def test_a_rejected_version_loses_challenger_and_keeps_how_the_champion_was_scored(tmp_path, data) -> None:
    X, y, _, _ = data
    registry = ModelRegistry(f"sqlite:///{tmp_path}/mlflow.db", "m", "exp", artifact_root=str(tmp_path / "artifacts"))
    first = registry.log_candidate(train_logistic_regression(X, y), X, metrics={}, tags={})
    registry.register_best({first: 0.8})
    good = {"auroc": 0.8, "calibration_slope": 1.0, "worst_subgroup_auroc_gap": 0.0}
    assert registry.apply_gate(decide("1", good, None, None, [], notes=("no champion",)))
    assert "gate_notes" not in registry.client.get_model_version("m", "1").tags  # nothing was compared
    second = registry.log_candidate(train_lightgbm(X, y, n_estimators=5), X, metrics={}, tags={})
    registry.register_best({second: 0.6})
    assert dict(registry.client.get_registered_model("m").aliases) == {"champion": 1, "challenger": 2}
    worse = {**good, "auroc": 0.6}
    assert not registry.apply_gate(
        decide("2", worse, "1", 0.79, [], notes=("re-scored on the challenger's test window",))
    )
    assert dict(registry.client.get_registered_model("m").aliases) == {"champion": 1}
    tags = registry.client.get_model_version("m", "2").tags
    assert tags["gate_decision"] == "reject" and tags["gate_notes"] == "re-scored on the challenger's test window"
