"""Discrimination: AUROC / AUPRC / Brier / scaled Brier against hand and scikit-learn values, bootstrap CIs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from mlhops_dagster.modeling.evaluation import evaluate_binary, roc_pr_calibration_png, scaled_brier
from tests.unit.modeling.evaluation.scores import P6, Y6, calibrated_data


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


def test_scaled_brier_hand_value_and_prevalence_model_is_zero():
    brier = brier_score_loss(Y6, P6)
    assert scaled_brier(Y6, P6) == pytest.approx(1 - brier / 0.25)
    assert scaled_brier(Y6, P6) == pytest.approx(1 - ((0.01 + 0.16 + 0.4225 + 0.04 + 0.04 + 0.01) / 6) / 0.25)
    y, _, _ = calibrated_data(2000)
    assert scaled_brier(y, np.full(len(y), y.mean())) == pytest.approx(0.0, abs=1e-12)
    assert scaled_brier(Y6, Y6.astype(float)) == pytest.approx(1.0)  # perfect predictions


def test_evaluate_binary_adds_scaled_brier_with_ci_and_keeps_old_keys():
    y, p, _ = calibrated_data(1000, seed=4)
    m = evaluate_binary(y, p, n_bootstrap=100, seed=1)
    for key in ("auroc", "auprc", "brier", "n", "n_positive", "prevalence", "mean_predicted", "n_bootstrap_used"):
        assert key in m
    assert m["scaled_brier"] == pytest.approx(scaled_brier(y, p))
    assert m["scaled_brier_ci_low"] <= m["scaled_brier"] <= m["scaled_brier_ci_high"]
    assert m["scaled_brier_ci_low"] < m["scaled_brier_ci_high"]


def test_bootstrap_progress_is_logged(caplog):
    with caplog.at_level("INFO", logger="mlhops_dagster.modeling.evaluation.discrimination"):
        evaluate_binary(Y6, P6, n_bootstrap=20, seed=0)
    assert any("bootstrap:" in r.getMessage() and "of 20 resamples" in r.getMessage() for r in caplog.records)
