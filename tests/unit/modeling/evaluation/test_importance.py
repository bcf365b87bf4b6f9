"""Global feature importance: TreeSHAP for LightGBM, standardised coefficients, permutation for the DP MLP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from mlhops_dagster.modeling.evaluation import global_feature_importance


def test_lightgbm_tree_shap_ranks_informative_feature_first():
    from lightgbm import LGBMClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"noise_a": rng.normal(size=800), "signal": rng.normal(size=800), "noise_b": rng.normal(size=800)})
    y = (rng.random(800) < expit(2.0 * X["signal"] - 1)).astype(int)
    model = LGBMClassifier(n_estimators=50, num_leaves=7, random_state=0, verbose=-1).fit(X, y)
    table = global_feature_importance(model, X)
    assert table["feature"].iloc[0] == "signal"
    assert set(table["feature"]) == {"noise_a", "signal", "noise_b"}
    assert (table["method"] == "mean_abs_tree_shap").all()
    assert table["importance"].is_monotonic_decreasing
    contrib = model.booster_.predict(X, pred_contrib=True)
    assert table.set_index("feature").loc["signal", "importance"] == pytest.approx(np.abs(contrib[:, 1]).mean())
    # a Booster works too
    assert global_feature_importance(model.booster_, X)["feature"].iloc[0] == "signal"


def test_linear_pipeline_standardised_coefficients():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"noise": rng.normal(size=600), "signal": 10 * rng.normal(size=600)})
    y = (rng.random(600) < expit(0.2 * X["signal"])).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    table = global_feature_importance(pipe, X)
    assert table["feature"].tolist() == ["signal", "noise"]
    assert (table["method"] == "abs_standardised_coef").all()
    coef = dict(zip(X.columns, np.abs(pipe[-1].coef_[0]), strict=True))
    assert table.set_index("feature").loc["signal", "importance"] == pytest.approx(coef["signal"], rel=1e-6)
    # without a scaler the raw coefficient is multiplied by the feature's SD: same ranking
    raw = LogisticRegression(C=1e6, max_iter=5000).fit(X, y)
    assert global_feature_importance(raw, X)["feature"].iloc[0] == "signal"
    with pytest.raises(TypeError, match="supports"):
        global_feature_importance(object(), X)


def test_dp_mlp_gets_seeded_permutation_importance_on_the_given_rows():
    from sklearn.inspection import permutation_importance

    from mlhops_dagster.modeling.trainers import DPMLPClassifier

    rng = np.random.default_rng(2)
    X = pd.DataFrame({"noise_a": rng.normal(size=600), "signal": rng.normal(size=600), "noise_b": rng.normal(size=600)})
    y = (rng.random(600) < expit(2.5 * X["signal"] - 1)).astype(int)
    model = DPMLPClassifier(epochs=3, accountant="rdp", target_epsilon=8.0).fit(X, y)
    table = global_feature_importance(model, X, y, seed=3)
    assert table["feature"].iloc[0] == "signal" and (table["method"] == "permutation_auroc_drop").all()
    assert table["importance"].is_monotonic_decreasing
    reference = permutation_importance(model, X, y, scoring="roc_auc", n_repeats=5, random_state=3)
    expected = dict(zip(X.columns, reference.importances_mean, strict=True))
    assert table.set_index("feature")["importance"].to_dict() == pytest.approx(expected)
    pd.testing.assert_frame_equal(global_feature_importance(model, X, y, seed=3), table)  # seeded
    with pytest.raises(TypeError, match="when y is given"):
        global_feature_importance(model, X)
