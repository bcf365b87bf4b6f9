"""Trainers: each family learns the signal, is deterministic for a seed; the DP MLP's budget, pickling, RNG hygiene."""

from __future__ import annotations

import logging
import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlhops_dagster.modeling import (
    DPMLPClassifier,
    TrainedModel,
    train_dp_mlp,
    train_lightgbm,
    train_logistic_regression,
)
from tests.unit.modeling.synthetic import make_data


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    X, y = make_data(seed=0)
    X_test, y_test = make_data(n=1000, seed=1)
    return X, y, X_test, y_test


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


def test_dp_mlp_logs_each_epoch_without_changing_the_fit(caplog):
    """Progress (loss, ε spent so far) at INFO per epoch; asking the accountant mid-training changes nothing."""
    X, y = make_data(n=300, p=5, seed=6)
    # explicit levels: another test of the same process (the CLI's) may have left the package at INFO
    with caplog.at_level(logging.WARNING, logger="mlhops_dagster.modeling.trainers"):
        quiet = DPMLPClassifier(epochs=3, accountant="rdp").fit(X, y)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="mlhops_dagster.modeling.trainers"):
        logged = DPMLPClassifier(epochs=3, accountant="rdp").fit(X, y)
    lines = [r.getMessage() for r in caplog.records if r.name == "mlhops_dagster.modeling.trainers"]
    assert [line.split(":")[0] for line in lines] == ["DP-MLP epoch 1/3", "DP-MLP epoch 2/3", "DP-MLP epoch 3/3"]
    assert all("training loss" in line and "ε spent" in line for line in lines)
    spent = [float(line.split("ε spent ")[1].split()[0]) for line in lines]
    assert spent == sorted(spent) and spent[-1] == pytest.approx(logged.epsilon_spent_, abs=1e-3)
    assert logged.epsilon_spent_ == quiet.epsilon_spent_
    for key, value in quiet.state_dict_.items():
        np.testing.assert_array_equal(logged.state_dict_[key], value)
