"""Calibration: lowess (statsmodels on our grid), in the large, slope (statsmodels GLM), E-statistics, ECE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from mlhops_dagster.modeling.evaluation import (
    calibration_bins,
    calibration_in_the_large,
    calibration_metrics,
    calibration_slope,
    expected_calibration_error,
    lowess,
)
from tests.unit.modeling.evaluation.scores import P6, Y6, calibrated_data


def test_lowess_reproduces_a_line_exactly():
    x = np.linspace(0, 1, 50)
    y = 0.3 + 2.0 * x
    np.testing.assert_allclose(lowess(x, y, n_grid=None), y, atol=1e-12)
    np.testing.assert_allclose(lowess(x[::-1], y[::-1], n_grid=10), y[::-1], atol=1e-12)  # grid + interpolation


def test_lowess_hand_computed_tricube_fit():
    # frac = 1, n = 5 -> all points; at x0 = 2 the radius is 2: weights 0, (7/8)^3, 1, (7/8)^3, 0
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    w = (7 / 8) ** 3
    assert lowess(x, y, frac=1.0, n_grid=None)[2] == pytest.approx(2 * w / (2 * w + 1))


def test_lowess_matches_statsmodels_without_robustness_iterations():
    sm = pytest.importorskip("statsmodels.nonparametric.smoothers_lowess")
    rng = np.random.default_rng(5)
    x = rng.random(300)
    y = (rng.random(300) < x).astype(float)
    expected = sm.lowess(y, x, frac=2 / 3, it=0, delta=0.0, return_sorted=False)
    np.testing.assert_allclose(lowess(x, y, n_grid=None), expected, atol=1e-10)
    # the default grid (500 points) approximates the exact fit closely
    x2 = rng.random(3000)
    y2 = (rng.random(3000) < x2).astype(float)
    exact = sm.lowess(y2, x2, frac=2 / 3, it=0, delta=0.0, return_sorted=False)
    np.testing.assert_allclose(lowess(x2, y2), exact, atol=1e-3)


def test_lowess_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        lowess([0.1, np.nan, 0.3], [0, 1, 0])
    with pytest.raises(ValueError, match="values"):
        lowess([0.1, 0.2], [0, 1, 0])
    with pytest.raises(ValueError, match="frac"):
        lowess([0.1, 0.2], [0, 1], frac=0)


# --------------------------------------------------------------------------- calibration
def test_perfectly_calibrated_data():
    y, p, _ = calibrated_data()
    m = calibration_metrics(y, p)
    assert m["calibration_slope"] == pytest.approx(1.0, abs=0.06)
    assert m["calibration_in_the_large"] == pytest.approx(0.0, abs=0.05)
    assert m["oe_ratio"] == pytest.approx(1.0, abs=0.05)
    assert m["e_avg"] < 0.015 and m["e90"] < 0.03 and m["ece"] < 0.02
    assert m["e50"] <= m["e90"] <= m["e_max"]


def test_over_confident_model_has_slope_one_half():
    y, _, z = calibrated_data()
    m = calibration_metrics(y, expit(2 * z))
    assert m["calibration_slope"] == pytest.approx(0.5, abs=0.04)
    assert m["e_avg"] > 0.05


def test_calibration_slope_matches_unpenalised_sklearn():
    rng = np.random.default_rng(2)
    y = (rng.random(600) < 0.3).astype(int)
    p = np.clip(0.25 + 0.25 * y + rng.normal(0, 0.15, 600), 0.001, 0.999)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(logit(p)[:, None], y)
    intercept, slope = calibration_slope(y, p)
    assert slope == pytest.approx(reference.coef_[0, 0], rel=1e-5)
    assert intercept == pytest.approx(reference.intercept_[0], rel=1e-5, abs=1e-6)


def test_calibration_slope_converges_for_overconfident_predictions():
    """Extreme, weakly informative scores (an over-fitted model on a small test split): a plain Newton step from
    (0, 1) overshoots there; the fit must still reach the maximum-likelihood slope, not give up with NaN."""
    rng = np.random.default_rng(5)
    y = (rng.random(83) < 0.23).astype(int)
    p = expit(rng.normal(-4, 6, 83) + 1.5 * y)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(logit(p)[:, None], y)
    intercept, slope = calibration_slope(y, p)
    assert 0 < slope < 0.5
    assert slope == pytest.approx(reference.coef_[0, 0], rel=1e-4)
    assert intercept == pytest.approx(reference.intercept_[0], rel=1e-4)


def test_calibration_slope_is_nan_for_constant_predictions():
    intercept, slope = calibration_slope(Y6, np.full(6, 0.3))
    assert math.isnan(intercept) and math.isnan(slope)


def test_citl_hand_value_for_constant_prediction():
    # with logit(c) as offset the MLE intercept is logit(prevalence) - logit(c)
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    citl = calibration_in_the_large(y, np.full(10, 0.4))
    assert citl == pytest.approx(logit(0.2) - logit(0.4), abs=1e-9)
    # the score equation holds at the solution for non-constant p
    a = calibration_in_the_large(Y6, P6)
    assert expit(a + logit(P6)).sum() == pytest.approx(Y6.sum(), abs=1e-9)


def test_citl_clips_probabilities_zero_and_one():
    a = calibration_in_the_large(Y6, np.array([0.0, 0.4, 0.35, 1.0, 0.2, 0.9]))
    assert math.isfinite(a)


def test_e_statistics_are_distances_to_the_lowess_curve():
    y, p, _ = calibrated_data(3000, seed=8)
    m = calibration_metrics(y, p, lowess_frac=0.5)
    distance = np.abs(p - lowess(p, y, frac=0.5))
    assert m["e_avg"] == pytest.approx(distance.mean())
    assert m["e90"] == pytest.approx(np.quantile(distance, 0.9))
    assert m["e_max"] == pytest.approx(distance.max())


def test_ece_by_hand_on_four_bins():
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9, 0.95, 1.0])
    y = np.array([0, 0, 1, 1, 0, 1, 1, 1])
    # [0, .25): mean p .15, obs 0 | [.25, .5): .3 vs 1 | [.5, .75): .65 vs .5 | [.75, 1]: .95 vs 1 (p = 1 included)
    expected = (2 * 0.15 + 1 * 0.7 + 2 * 0.15 + 3 * 0.05) / 8
    assert expected_calibration_error(y, p, n_bins=4) == pytest.approx(expected)
    table = calibration_bins(y, p, n_bins=4)
    assert table["n"].tolist() == [2, 1, 2, 3]
    assert table["bin_low"].tolist() == [0.0, 0.25, 0.5, 0.75]
    assert table["observed"].tolist() == pytest.approx([0.0, 1.0, 0.5, 1.0])


def test_ece_skips_empty_bins():
    y = np.array([0, 1, 0, 1])
    p = np.array([0.05, 0.05, 0.95, 0.95])
    assert len(calibration_bins(y, p, n_bins=10)) == 2
    assert expected_calibration_error(y, p) == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)


def test_lowess_matches_the_hand_written_reference_on_its_grid():
    """Values of the former hand-written smoother (it = 0, 40-point grid, linear interpolation): statsmodels fits
    at the same grid reproduce them; robustness iterations (it = 3) or statsmodels' delta skipping would not."""
    rng = np.random.default_rng(21)
    x = rng.beta(2, 5, 4000)
    y = (rng.random(4000) < x).astype(float)
    reference = [0.5559242840738392, 0.3322346609126313, 0.1738913741775064, 0.03226324908161402, 0.7117601193955008]
    np.testing.assert_allclose(lowess(x, y, frac=0.5, n_grid=40)[:5], reference, rtol=0, atol=1e-10)


def test_lowess_of_tied_points_is_their_mean():
    """A neighbourhood of points all tied with the fitted one has no slope to fit: the fit is their mean outcome."""
    np.testing.assert_allclose(lowess(np.full(5, 0.3), [0, 1, 0, 1, 1]), np.full(5, 0.6))
    x = np.array([0.2] * 8 + [0.9, 1.0])  # k = 6 nearest of 0.2 are all at distance 0
    y = np.array([0, 1, 1, 0, 1, 1, 0, 0, 1, 1])
    assert lowess(x, y)[0] == pytest.approx(y[:8].mean())


def test_calibration_slope_reproduces_the_newton_reference():
    """(intercept, slope) of the former hand-written Newton-Raphson fit on the 600-row set, to 1e-9."""
    rng = np.random.default_rng(2)
    y = (rng.random(600) < 0.3).astype(int)
    p = np.clip(0.25 + 0.25 * y + rng.normal(0, 0.15, 600), 0.001, 0.999)
    intercept, slope = calibration_slope(y, p)
    assert intercept == pytest.approx(0.5712814113789418, abs=1e-9)
    assert slope == pytest.approx(2.224803616293722, abs=1e-9)


@pytest.mark.parametrize(
    ("y", "p"),
    [
        ([0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.8, 0.9]),  # complete separation: the MLE slope is infinite
        ([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.3, 0.8, 0.9]),  # quasi-complete separation (a tie across classes)
    ],
)
def test_calibration_slope_is_nan_under_separation(y, p):
    intercept, slope = calibration_slope(y, p)
    assert math.isnan(intercept) and math.isnan(slope)
