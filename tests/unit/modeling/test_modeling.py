"""Modeling: metrics vs hand/sklearn values, trainers (signal, determinism, DP budget, pickling), MLflow registry."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from mlhops_dagster.modeling import (
    DPMLPClassifier,
    TrainedModel,
    champion_info,
    evaluate_binary,
    load_model_by_alias,
    load_run_model,
    log_candidate,
    log_evaluation,
    register_best,
    roc_pr_calibration_png,
    train_dp_mlp,
    train_lightgbm,
    train_logistic_regression,
)
from mlhops_dagster.modeling.promotion import decide
from mlhops_dagster.modeling.registry import apply_gate, model_input


def make_data(n: int = 1500, p: int = 24, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """EHR-like synthetic data: some 0/1 flags, ~5 % missing values, ~15-20 % positives, 8 informative columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, : min(p, 4)] = (X[:, : min(p, 4)] > 0.3).astype(float)
    w = np.zeros(p)
    k = min(p, 8)
    w[:k] = [1.2, 0.9, -0.8, 0.7, 0.9, -0.8, 0.7, 0.6][:k]
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w - 2.2)))).astype(int)
    X[rng.random((n, p)) < 0.05] = np.nan
    return pd.DataFrame(X, columns=[f"feat_{i:02d}" for i in range(p)]), pd.Series(y, name="readmitted_30d")


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    X, y = make_data(seed=0)
    X_test, y_test = make_data(n=1000, seed=1)
    return X, y, X_test, y_test


# --------------------------------------------------------------------------- evaluation
Y6 = np.array([0, 0, 1, 1, 0, 1])
P6 = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])


def test_metrics_hand_checked_six_samples():
    m = evaluate_binary(Y6, P6, n_bootstrap=50)
    # positives {0.35, 0.8, 0.9} vs negatives {0.1, 0.4, 0.2}: 8 of 9 pairs ordered correctly
    assert m["auroc"] == pytest.approx(8 / 9)
    # ranked: 0.9(+) 0.8(+) 0.4(-) 0.35(+) ...: AP = 1/3*1 + 1/3*1 + 1/3*3/4
    assert m["auprc"] == pytest.approx(11 / 12)
    assert m["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04 + 0.04 + 0.01) / 6)
    assert m["auroc"] == pytest.approx(roc_auc_score(Y6, P6))
    assert m["auprc"] == pytest.approx(average_precision_score(Y6, P6))
    assert m["brier"] == pytest.approx(brier_score_loss(Y6, P6))
    assert (m["n"], m["n_positive"], m["prevalence"]) == (6.0, 3.0, 0.5)
    assert all(isinstance(v, float) for v in m.values())


def test_metrics_match_sklearn_and_ci_contains_estimate():
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.15).astype(int)
    p = np.clip(0.15 + 0.2 * y + rng.normal(0, 0.12, 400), 0, 1)
    m = evaluate_binary(y, p, n_bootstrap=200, seed=7)
    assert m["auroc"] == pytest.approx(roc_auc_score(y, p))
    assert m["auprc"] == pytest.approx(average_precision_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    for name in ("auroc", "auprc", "brier"):
        assert m[f"{name}_ci_low"] <= m[name] <= m[f"{name}_ci_high"]
        assert m[f"{name}_ci_low"] < m[f"{name}_ci_high"]
    assert m["n_bootstrap_used"] == 200
    assert m["prevalence"] == pytest.approx(y.mean())
    # reproducible for a seed; predict_proba (n, 2) output is accepted
    assert evaluate_binary(y, np.column_stack([1 - p, p]), n_bootstrap=200, seed=7) == m


def test_bootstrap_skips_single_class_resamples():
    y = np.array([1] + [0] * 9)
    p = np.linspace(0.9, 0.0, 10)
    m = evaluate_binary(y, p, n_bootstrap=100, seed=0)
    assert 0 < m["n_bootstrap_used"] < 100  # ~35 % of resamples contain no positive
    assert math.isfinite(m["auroc_ci_low"]) and math.isfinite(m["auroc_ci_high"])


def test_single_class_raises_clear_error():
    with pytest.raises(ValueError, match="single class"):
        evaluate_binary(np.zeros(20, dtype=int), np.linspace(0, 1, 20))
    with pytest.raises(ValueError, match="single class"):
        roc_pr_calibration_png(np.ones(5, dtype=int), np.linspace(0, 1, 5), title="x")
    with pytest.raises(ValueError, match="NaN"):
        evaluate_binary(Y6, np.array([0.1, np.nan, 0.3, 0.4, 0.5, 0.6]))


def test_plot_is_png():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.2).astype(int)
    p = np.clip(0.2 + 0.3 * y + rng.normal(0, 0.15, 300), 0, 1)
    png = roc_pr_calibration_png(y, p, title="lightgbm — test split")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


# --------------------------------------------------------------------------- trainers
FAST_TRAINERS = {
    "lightgbm": lambda X, y, seed: train_lightgbm(X, y, seed=seed),
    "logistic_regression": lambda X, y, seed: train_logistic_regression(X, y, seed=seed),
}


@pytest.fixture(scope="module")
def dp_models(data) -> tuple[TrainedModel, TrainedModel]:
    """Two DP fits with the same seed (shared by the DP tests to keep the suite fast)."""
    X, y, _, _ = data
    return train_dp_mlp(X, y, seed=0), train_dp_mlp(X, y, seed=0)


@pytest.mark.parametrize("family", sorted(FAST_TRAINERS))
def test_trainer_learns_signal_and_is_deterministic(family, data):
    X, y, X_test, y_test = data
    first, second = FAST_TRAINERS[family](X, y, 0), FAST_TRAINERS[family](X, y, 0)
    assert first.family == family and first.privacy is None and first.params
    proba = first.estimator.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2) and np.allclose(proba.sum(axis=1), 1)
    assert list(first.estimator.classes_) == [0, 1]
    assert roc_auc_score(y_test, proba[:, 1]) > 0.7
    np.testing.assert_array_equal(proba, second.estimator.predict_proba(X_test))


def test_dp_mlp_learns_signal_and_is_deterministic(dp_models, data):
    _, _, X_test, y_test = data
    first, second = dp_models
    assert first.family == "dp_mlp" and isinstance(first.estimator, DPMLPClassifier)
    proba = first.estimator.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2) and np.allclose(proba.sum(axis=1), 1)
    assert roc_auc_score(y_test, proba[:, 1]) > 0.7
    np.testing.assert_array_equal(proba, second.estimator.predict_proba(X_test))


def test_dp_mlp_privacy_budget(dp_models):
    privacy = dp_models[0].privacy
    assert privacy is not None and set(privacy) >= {"epsilon_target", "epsilon_spent", "delta"}
    assert privacy["epsilon_target"] == 3.0 and privacy["delta"] == 1e-5
    eps = privacy["epsilon_spent"]
    assert math.isfinite(eps) and 0 < eps <= privacy["epsilon_target"] * 1.05
    assert privacy["noise_multiplier"] > 0


def test_dp_mlp_pickles_without_opacus(dp_models, data):
    _, _, X_test, _ = data
    est = dp_models[0].estimator
    blob = pickle.dumps(est)
    assert b"opacus" not in blob and b"GradSample" not in blob
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict_proba(X_test), est.predict_proba(X_test))
    # columns are matched by name, as for sklearn estimators fitted on DataFrames
    np.testing.assert_array_equal(restored.predict_proba(X_test[X_test.columns[::-1]]), est.predict_proba(X_test))


def test_dp_mlp_leaves_global_torch_rng_alone():
    import torch

    X, y = make_data(n=200, p=5, seed=4)
    before = torch.random.get_rng_state().clone()
    threads = torch.get_num_threads()
    DPMLPClassifier(epochs=1, accountant="rdp").fit(X, y)
    assert torch.equal(before, torch.random.get_rng_state())
    assert torch.get_num_threads() == threads


def test_trainers_reject_single_class():
    X, _ = make_data(n=50, p=4)
    with pytest.raises(ValueError, match="single class"):
        train_logistic_regression(X, pd.Series(np.zeros(50, dtype=int)))


# --------------------------------------------------------------------------- registry
def test_registry_aliases_and_loading(tmp_path, data):
    import mlflow

    X, y, X_test, y_test = data
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    artifacts = tmp_path / "artifacts"
    previous_uri = mlflow.get_tracking_uri()

    logreg = train_logistic_regression(X, y)
    lgbm = train_lightgbm(X, y, n_estimators=30)
    run_ids, aurocs = {}, {}
    for trained in (logreg, lgbm):
        scores = trained.estimator.predict_proba(X_test)[:, 1]
        metrics = evaluate_binary(y_test.to_numpy(), scores, n_bootstrap=20)
        png = roc_pr_calibration_png(y_test.to_numpy(), scores, title=trained.family)
        run_id = log_candidate(
            uri,
            "readmission_test",
            trained,
            X,
            metrics={"train_rows": float(len(X))},
            tags={"dagster_run_id": "r-1", "data_fingerprint": "abc"},
            plot_png=png,
            artifact_root=str(artifacts),
        )
        log_evaluation(uri, run_id, {f"test_{k}": v for k, v in metrics.items()})
        run_ids[trained.family], aurocs[run_id] = run_id, metrics["auroc"]

    assert mlflow.get_tracking_uri() == previous_uri  # no global state leaked
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.get_run(run_ids["logistic_regression"])
    assert run.info.run_name == "logistic_regression"
    assert run.data.tags["dagster_run_id"] == "r-1" and run.data.tags["model_family"] == "logistic_regression"
    assert run.data.params["C"] == "1.0" and "test_auroc" in run.data.metrics
    assert "plots/evaluation.png" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert str(artifacts) in client.get_experiment_by_name("readmission_test").artifact_location
    reloaded = load_run_model(uri, run_ids["lightgbm"])
    np.testing.assert_array_equal(reloaded.predict_proba(X_test), lgbm.estimator.predict_proba(X_test))

    first = register_best(uri, "readmission_30d", aurocs)
    best_run = max(aurocs, key=aurocs.get)
    assert (first.version, first.run_id, first.aliases) == ("1", best_run, ["challenger"])
    mv1 = client.get_model_version("readmission_30d", "1")
    # registration never crowns a champion, not even the first version: only the gate does
    assert list(mv1.aliases) == ["challenger"] and "no champion yet" in mv1.tags["decision"]
    with pytest.raises(LookupError, match="no version has passed the promotion gate"):
        load_model_by_alias(uri, "readmission_30d")
    assert apply_gate(
        uri,
        "readmission_30d",
        decide("1", {"auroc": first.auroc, "calibration_slope": 1.0, "worst_subgroup_auroc_gap": 0.0}, None, None, []),
    )

    # the next training run: lightgbm wins this time -> version 2 is challenger, champion stays 1
    second = register_best(uri, "readmission_30d", {run_ids["lightgbm"]: 0.9, run_ids["logistic_regression"]: 0.8})
    assert (second.version, second.run_id, second.aliases) == ("2", run_ids["lightgbm"], ["challenger"])
    assert str(client.get_model_version_by_alias("readmission_30d", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("readmission_30d", "challenger").version) == "2"
    assert client.get_model_version("readmission_30d", "2").tags["decision"].startswith("challenger")
    assert "champion stays version 1" in client.get_model_version("readmission_30d", "2").tags["decision"]

    champion, version = load_model_by_alias(uri, "readmission_30d")
    best_estimator = (logreg if best_run == run_ids["logistic_regression"] else lgbm).estimator
    assert version == "1"
    np.testing.assert_array_equal(champion.predict_proba(X_test), best_estimator.predict_proba(X_test))
    challenger, version = load_model_by_alias(uri, "readmission_30d", "challenger")
    assert version == "2"
    np.testing.assert_array_equal(challenger.predict_proba(X_test), lgbm.estimator.predict_proba(X_test))

    info = champion_info(uri, "readmission_30d")
    assert info.version == "1" and info.run_id == best_run and info.tags["data_fingerprint"] == "abc"

    with pytest.raises(LookupError, match="no version with alias 'retired'"):
        load_model_by_alias(uri, "readmission_30d", "retired")
    with pytest.raises(LookupError):
        load_model_by_alias(uri, "no_such_model")
    assert mlflow.get_tracking_uri() == previous_uri


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
