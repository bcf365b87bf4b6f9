"""Same inputs and seed -> bit-identical models and metrics, for every model family.

Why: a registered model must be reproducible from its lineage (data fingerprint + params + seed);
a re-run that silently gives another model would make audits and rollbacks meaningless.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlhops_dagster.modeling.evaluation import EvaluationConfig, evaluate_candidate
from mlhops_dagster.modeling.trainers import TrainedModel, train_dp_mlp, train_lightgbm, train_logistic_regression
from tests.unit.modeling.synthetic import make_data

CONFIG = EvaluationConfig(n_bootstrap=50, make_plots=False, min_subgroup_size=50)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series, pd.DataFrame]:
    X, y = make_data(n=400, p=8, seed=7)
    X_test, y_test = make_data(n=300, p=8, seed=8)
    groups = pd.DataFrame({"sex": np.where(np.arange(300) % 2, "female", "male")})
    return X, y, X_test, y_test, groups


def _metrics(trained: TrainedModel, X_test: pd.DataFrame, y_test: pd.Series, groups: pd.DataFrame) -> dict:
    scores = trained.estimator.predict_proba(X_test)[:, 1]
    return evaluate_candidate(y_test.to_numpy(), scores, groups, CONFIG).metrics


def _same_metrics(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:  # NaN == NaN here: bit-identical, not approximately equal
        assert np.array_equal(np.float64(a[key]), np.float64(b[key]), equal_nan=True), key


def test_lightgbm_is_bit_identical(data) -> None:
    X, y, X_test, y_test, groups = data
    first, second = train_lightgbm(X, y, seed=4), train_lightgbm(X, y, seed=4)
    assert first.estimator.booster_.model_to_string() == second.estimator.booster_.model_to_string()
    np.testing.assert_array_equal(first.estimator.predict_proba(X_test), second.estimator.predict_proba(X_test))
    _same_metrics(_metrics(first, X_test, y_test, groups), _metrics(second, X_test, y_test, groups))
    # the seed matters (row/column subsampling), so the equality above is not vacuous
    other = train_lightgbm(X, y, seed=5)
    assert other.estimator.booster_.model_to_string() != first.estimator.booster_.model_to_string()


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_logistic_regression_is_bit_identical(data, penalty) -> None:
    X, y, X_test, y_test, groups = data
    first, second = (train_logistic_regression(X, y, seed=4, penalty=penalty, C=0.5) for _ in range(2))
    a, b = first.estimator.named_steps["clf"], second.estimator.named_steps["clf"]
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    _same_metrics(_metrics(first, X_test, y_test, groups), _metrics(second, X_test, y_test, groups))


def test_dp_mlp_is_bit_identical(data) -> None:
    X, y, X_test, y_test, groups = data
    kwargs = {"seed": 4, "epochs": 2, "accountant": "rdp", "target_epsilon": 2.0}
    first, second = train_dp_mlp(X, y, **kwargs), train_dp_mlp(X, y, **kwargs)
    a, b = first.estimator.state_dict_, second.estimator.state_dict_
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert first.privacy == second.privacy  # epsilon spent, noise multiplier, sample rate
    _same_metrics(_metrics(first, X_test, y_test, groups), _metrics(second, X_test, y_test, groups))
    # another seed draws other batches and noise
    other = train_dp_mlp(X, y, **{**kwargs, "seed": 5}).estimator.state_dict_
    assert any(not np.array_equal(a[k], other[k]) for k in a)
