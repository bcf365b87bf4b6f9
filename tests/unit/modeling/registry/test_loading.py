"""Loading estimators back: from a store the earlier fluent-API code wrote, and feeding them their own columns."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

from mlhops_dagster.modeling.promotion import decide
from mlhops_dagster.modeling.registry import CHAMPION_HISTORY_TAG, MODEL_ID_TAG, ModelRegistry, model_input
from mlhops_dagster.modeling.trainers import train_lightgbm, train_logistic_regression
from tests.unit.modeling.synthetic import make_data

GOOD = {"auroc": 0.8, "calibration_slope": 1.0, "worst_subgroup_auroc_gap": 0.0}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    X, y = make_data(n=600, p=10, seed=0)
    X_test, y_test = make_data(n=300, p=10, seed=1)
    return X, y, X_test, y_test


def _fluent_store(uri: str, artifacts: str, estimator, monkeypatch) -> tuple[str, str]:
    """A candidate run and champion version 1 written the way the fluent-API registry wrote them: the estimator
    through ``mlflow.sklearn.log_model`` in the resumed run, the version's source ``models:/<model id>``."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("exp", artifact_location=f"{artifacts}/exp")
    run_id = client.create_run(experiment_id, run_name="logistic_regression").info.run_id
    with monkeypatch.context() as scoped:
        scoped.setenv("MLFLOW_TRACKING_URI", uri)
        scoped.setenv("MLFLOW_REGISTRY_URI", uri)
        with mlflow.start_run(run_id=run_id):
            mlflow.log_params({"family": "logistic_regression", "C": "1.0"})
            info = mlflow.sklearn.log_model(
                sk_model=estimator,
                name="model",
                serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                pyfunc_predict_fn="predict_proba",
                pip_requirements=["scikit-learn"],
            )
            mlflow.set_tag(MODEL_ID_TAG, info.model_id)
            mlflow.set_tag("model_family", "logistic_regression")
        client.create_registered_model("m")
        client.create_model_version("m", source=f"models:/{info.model_id}", run_id=run_id, model_id=info.model_id)
    client.set_registered_model_alias("m", "champion", "1")
    client.set_registered_model_tag("m", CHAMPION_HISTORY_TAG, "1")
    return run_id, info.model_id


def test_a_store_written_by_the_fluent_api_keeps_working(tmp_path, monkeypatch, data) -> None:
    X, y, X_test, _ = data
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    old = train_logistic_regression(X, y).estimator
    old_run, model_id = _fluent_store(uri, (tmp_path / "artifacts").as_uri(), old, monkeypatch)

    registry = ModelRegistry(uri, "m", "exp")
    np.testing.assert_array_equal(registry.load_run_model(old_run).predict_proba(X_test), old.predict_proba(X_test))
    champion, version = registry.load_model_by_alias()
    assert version == "1" and registry.champion_info().source == f"models:/{model_id}"
    np.testing.assert_array_equal(champion.predict_proba(X_test), old.predict_proba(X_test))

    # a new candidate beside the old one: registered, promoted, rolled back with the old history
    new = train_lightgbm(X, y, n_estimators=20)
    new_run = registry.log_candidate(new, X, metrics={}, tags={})
    assert registry.register_best({new_run: 0.8, old_run: 0.7}).version == "2"
    assert registry.apply_gate(decide("2", GOOD, "1", 0.79, []))
    champion, version = registry.load_model_by_alias()
    assert version == "2" and registry.history() == ["1", "2"]
    np.testing.assert_array_equal(champion.predict_proba(X_test), new.estimator.predict_proba(X_test))
    assert registry.rollback().to_version == "1"
    assert registry.load_model_by_alias()[1] == "1"


def test_a_new_candidate_has_the_fluent_api_layout(tmp_path, data) -> None:
    """The run's logged model ``model``: READY, linked as the run's output, holding the run's params and metrics,
    with the MLmodel files ``log_model`` writes (cloudpickle, predict_proba, signature, input example)."""
    X, y, _, _ = data
    registry = ModelRegistry(f"sqlite:///{tmp_path}/mlflow.db", "m", "exp", artifact_root=str(tmp_path / "artifacts"))
    run_id = registry.log_candidate(train_logistic_regression(X, y), X, metrics={"train_rows": 600.0}, tags={})
    run = registry.client.get_run(run_id)
    logged = registry.client.get_logged_model(run.data.tags[MODEL_ID_TAG])
    assert (logged.name, str(logged.status), logged.source_run_id) == ("model", "READY", run_id)
    assert [o.model_id for o in run.outputs.model_outputs] == [logged.model_id]
    assert logged.params == run.data.params and {m.key: m.value for m in logged.metrics} == {"train_rows": 600.0}
    files = {a.path for a in registry.client.list_logged_model_artifacts(logged.model_id)}
    assert {"MLmodel", "model.pkl", "requirements.txt", "input_example.json", "serving_input_example.json"} <= files
    from mlflow.models import Model

    mlmodel = Model.load(Path(urlparse(logged.artifact_location).path) / "MLmodel")
    assert mlmodel.model_id == logged.model_id and mlmodel.run_id == run_id and mlmodel.signature is not None
    assert mlmodel.flavors["python_function"]["predict_fn"] == "predict_proba"
    assert mlmodel.flavors["sklearn"]["serialization_format"] == "cloudpickle"


def test_model_input_feeds_the_fitted_columns_in_order_and_names_missing_ones(data):
    """A rebuilt feature table may hold other columns: scoring takes the model's own, or says what is missing."""
    X_train, y_train, X_test, _ = data
    model = train_logistic_regression(X_train, y_train, seed=0).estimator
    shuffled = X_test[list(reversed(X_test.columns))].assign(flag_new=1)  # other order, one column the model never saw
    fed = model_input(model, shuffled)
    assert list(fed.columns) == list(X_train.columns)
    np.testing.assert_allclose(model.predict_proba(fed), model.predict_proba(X_test), rtol=1e-12)
    with pytest.raises(ValueError, match=str(X_train.columns[3])):
        model_input(model, X_test.drop(columns=[X_train.columns[3]]))
