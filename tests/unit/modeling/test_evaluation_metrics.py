"""Clinical evaluation library: every metric against a hand-computed or scikit-learn/scipy reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score

from mlhops_dagster.modeling.evaluation import (
    SUBGROUP_COLUMNS,
    THRESHOLD_KEYS,
    EvaluationConfig,
    EvaluationResult,
    age_band,
    calibration_bins,
    calibration_in_the_large,
    calibration_metrics,
    calibration_png,
    calibration_slope,
    evaluate_binary,
    evaluate_candidate,
    evaluation_plots,
    expected_calibration_error,
    global_feature_importance,
    lowess,
    net_benefit,
    net_benefit_png,
    pr_png,
    roc_png,
    scaled_brier,
    subgroup_metrics,
    subgroup_summary,
    threshold_for_sensitivity,
    threshold_grid,
    threshold_metrics,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Y6 = np.array([0, 0, 1, 1, 0, 1])
P6 = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
# 10 rows for threshold metrics: positives score 0.9, 0.6, 0.3, 0.15
Y10 = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
P10 = np.array([0.9, 0.6, 0.3, 0.15, 0.7, 0.4, 0.25, 0.1, 0.05, 0.2])


def calibrated_data(n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcomes drawn from the true risks: returns (y, true risk, linear predictor)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-1.5, 1.0, n)
    p = expit(z)
    y = (rng.random(n) < p).astype(int)
    return y, p, z


# --------------------------------------------------------------------------- Brier
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


# --------------------------------------------------------------------------- lowess
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


# --------------------------------------------------------------------------- thresholds
def test_threshold_metrics_against_confusion_matrix():
    m = threshold_metrics(Y10, P10, 0.3)  # p == 0.3 is flagged
    tn, fp, fn, tp = confusion_matrix(Y10, (P10 >= 0.3).astype(int)).ravel()
    assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (tp, fp, tn, fn) == (3, 2, 4, 1)
    assert m["sensitivity"] == pytest.approx(3 / 4)
    assert m["specificity"] == pytest.approx(4 / 6)
    assert m["ppv"] == pytest.approx(3 / 5)
    assert m["npv"] == pytest.approx(4 / 5)
    assert m["alert_rate"] == pytest.approx(5 / 10)
    assert m["threshold"] == 0.3
    assert tuple(m) == THRESHOLD_KEYS
    assert all(isinstance(v, float) for v in m.values())


def test_threshold_metrics_nan_when_nobody_flagged():
    m = threshold_metrics(Y10, P10, 0.95)
    assert m["alert_rate"] == 0 and m["sensitivity"] == 0 and math.isnan(m["ppv"])


@pytest.mark.parametrize(("target", "expected"), [(0.5, 0.6), (0.75, 0.3), (0.8, 0.15), (1.0, 0.15), (0.25, 0.9)])
def test_threshold_for_target_sensitivity_toy(target, expected):
    t = threshold_for_sensitivity(Y10, P10, target)
    assert t == expected
    assert threshold_metrics(Y10, P10, t)["sensitivity"] >= target
    assert threshold_metrics(Y10, P10, t + 1e-9)["sensitivity"] < target  # highest such threshold


def test_threshold_for_target_sensitivity_matches_brute_force():
    rng = np.random.default_rng(11)
    y = (rng.random(300) < 0.2).astype(int)
    p = np.round(np.clip(0.2 + 0.2 * y + rng.normal(0, 0.15, 300), 0, 1), 2)  # ties
    for target in (0.5, 0.8, 0.9, 0.95):
        candidates = [t for t in np.unique(p) if threshold_metrics(y, p, t)["sensitivity"] >= target]
        assert threshold_for_sensitivity(y, p, target) == max(candidates)


def test_threshold_for_target_sensitivity_rejects_bad_target():
    with pytest.raises(ValueError, match="target_sensitivity"):
        threshold_for_sensitivity(Y10, P10, 0.0)
    with pytest.raises(ValueError, match="target_sensitivity"):
        threshold_for_sensitivity(Y10, P10, 1.2)


# --------------------------------------------------------------------------- net benefit
def test_net_benefit_six_rows_by_hand():
    curve = net_benefit(Y6, P6, [0.3, 0.5, 0.85])
    # pt .3: flagged .4(-) .35(+) .8(+) .9(+): 3/6 - 1/6 * 3/7 ; treat all .5 - .5 * 3/7
    # pt .5: flagged .8(+) .9(+): 2/6 ; treat all 0
    # pt .85: flagged .9(+): 1/6 ; treat all .5 - .5 * .85/.15
    assert curve["net_benefit_model"].tolist() == pytest.approx([3 / 6 - 1 / 6 * 3 / 7, 2 / 6, 1 / 6])
    assert curve["net_benefit_treat_all"].tolist() == pytest.approx([0.5 - 0.5 * 3 / 7, 0.0, 0.5 - 0.5 * 0.85 / 0.15])
    assert curve["net_benefit_treat_none"].tolist() == [0.0, 0.0, 0.0]
    assert curve["tp"].tolist() == [3, 2, 1] and curve["fp"].tolist() == [1, 0, 0]


def test_net_benefit_rejects_thresholds_outside_open_interval():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        net_benefit(Y6, P6, [0.0, 0.5])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        net_benefit(Y6, P6, [1.0])


def test_threshold_grid():
    np.testing.assert_allclose(threshold_grid(0.01, 0.05, 0.01), [0.01, 0.02, 0.03, 0.04, 0.05])
    assert len(threshold_grid(0.01, 0.5, 0.01)) == 50
    with pytest.raises(ValueError):
        threshold_grid(0.0, 0.5, 0.01)


# --------------------------------------------------------------------------- subgroups
def test_age_band():
    bands = age_band([17, 18, 44, 45, 64, 65, 79, 80, 101, np.nan])
    assert bands.iloc[:9].tolist() == ["<18", "18-44", "18-44", "45-64", "45-64", "65-79", "65-79", "80+", "80+"]
    assert pd.isna(bands.iloc[9])
    assert age_band(pd.Series([30, 70]), edges=(50,)).tolist() == ["<50", "50+"]


def subgroup_fixture() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    y = np.concatenate([Y6, [1, 0, 1, 0, 0, 0]])
    p = np.concatenate([P6, [0.7, 0.6, 0.3, 0.2, 0.1, 0.5]])
    groups = pd.DataFrame(
        {
            "sex": ["F"] * 6 + ["M"] * 6,
            "site": ["A"] * 6 + ["B"] * 4 + ["C", None],
            "ward": ["w0", "w0", "w1", "w1", "w0", "w1"] + ["w1"] * 6,  # w0 = rows 0, 1, 4: no readmissions
        },
        index=np.arange(100, 112),  # matched by position, not index
    )
    return y, p, groups


def test_subgroup_metrics_by_hand():
    y, p, groups = subgroup_fixture()
    table = subgroup_metrics(y, p, groups, threshold=0.5, min_size=3)
    assert list(table.columns) == list(SUBGROUP_COLUMNS)
    assert list(zip(table["attribute"], table["group"], strict=True)) == [
        ("overall", "all"),
        ("sex", "F"),
        ("sex", "M"),
        ("site", "<missing>"),
        ("site", "A"),
        ("site", "B"),
        ("site", "C"),
        ("ward", "w0"),
        ("ward", "w1"),
    ]
    rows = table.set_index(["attribute", "group"])
    assert rows["status"].tolist() == ["ok", "ok", "ok", "too small", "ok", "ok", "too small", "single class", "ok"]
    overall = rows.loc[("overall", "all")]
    assert overall["auroc"] == pytest.approx(roc_auc_score(y, p))
    # overall at 0.5: flagged .8(+) .9(+) .7(+) .6(-) .5(-) -> sensitivity 3/5, PPV 3/5
    assert (overall["sensitivity"], overall["ppv"]) == pytest.approx((3 / 5, 3 / 5))
    female = rows.loc[("sex", "F")]
    assert female["n"] == 6 and female["prevalence"] == pytest.approx(0.5)
    assert female["auroc"] == pytest.approx(8 / 9)
    assert female["sensitivity"] == pytest.approx(2 / 3) and female["ppv"] == pytest.approx(1.0)
    assert female["auroc_ratio"] == pytest.approx((8 / 9) / roc_auc_score(y, p))
    assert female["sensitivity_ratio"] == pytest.approx((2 / 3) / (3 / 5))
    assert female["ppv_ratio"] == pytest.approx(1 / (3 / 5))
    assert female["oe_ratio"] == pytest.approx(3 / P6.sum())
    assert female["calibration_in_the_large"] == pytest.approx(calibration_in_the_large(Y6, P6))
    # too-small groups are listed with their n, metrics suppressed
    small = rows.loc[("site", "C")]
    assert small["n"] == 1 and math.isnan(small["prevalence"]) and math.isnan(small["auroc"])
    # single-class group: n, prevalence, O/E but no AUROC
    w0 = rows.loc[("ward", "w0")]
    assert w0["n"] == 3 and w0["prevalence"] == 0 and w0["oe_ratio"] == 0 and math.isnan(w0["auroc"])

    summary = subgroup_summary(table)
    ok = table[(table["status"] == "ok") & (table["attribute"] != "overall")]
    assert summary["subgroup_worst_auroc_gap"] == pytest.approx(roc_auc_score(y, p) - ok["auroc"].min())
    assert summary["subgroup_min_auroc"] == pytest.approx(ok["auroc"].min())
    assert (summary["subgroup_n_evaluated"], summary["subgroup_n_too_small"], summary["subgroup_n_single_class"]) == (
        5.0,
        2.0,
        1.0,
    )
    assert summary["subgroup_max_ppv_ratio"] == pytest.approx(ok["ppv_ratio"].max())


def test_subgroup_metrics_rejects_misaligned_groups():
    y, p, groups = subgroup_fixture()
    with pytest.raises(ValueError, match="rows"):
        subgroup_metrics(y, p, groups.iloc[:5], threshold=0.5)
    with pytest.raises(TypeError, match="DataFrame"):
        subgroup_metrics(y, p, groups["sex"], threshold=0.5)


# --------------------------------------------------------------------------- plots
def test_plots_are_png():
    y, p, _ = calibrated_data(500, seed=3)
    for png in (roc_png(y, p), pr_png(y, p), calibration_png(y, p), net_benefit_png(net_benefit(y, p, [0.1, 0.2]))):
        assert png[:8] == PNG_SIGNATURE and len(png) > 5_000
    plots = evaluation_plots(y, p, net_benefit(y, p, [0.1, 0.2]))
    assert set(plots) == {"roc", "pr", "calibration", "net_benefit"}
    assert set(evaluation_plots(y, p)) == {"roc", "pr", "calibration"}


# --------------------------------------------------------------------------- feature importance
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


# --------------------------------------------------------------------------- entry point
def test_evaluate_candidate_consistent_and_deterministic():
    y, p, _ = calibrated_data(2000, seed=6)
    groups = pd.DataFrame(
        {
            "sex": np.where(np.arange(2000) % 2, "F", "M"),
            "age_band": age_band(np.arange(2000) % 90),
            "site": np.where(np.arange(2000) < 100, "small_site", "main_site"),
        }
    )
    config = EvaluationConfig(n_bootstrap=50, seed=3, min_subgroup_size=150)
    result = evaluate_candidate(y, p, groups, config)
    assert isinstance(result, EvaluationResult)
    m = result.metrics
    assert all(isinstance(v, float) for v in m.values())
    assert m["auroc"] == pytest.approx(roc_auc_score(y, p))
    assert m["calibration_slope"] == pytest.approx(calibration_slope(y, p)[1])
    assert m["fixed_sensitivity"] == pytest.approx(threshold_metrics(y, p, 0.2)["sensitivity"])
    assert m["target_sens_threshold"] == threshold_for_sensitivity(y, p, 0.8)
    assert m["target_sens_sensitivity"] >= 0.8
    at = result.net_benefit.set_index("threshold").loc[0.2]
    assert m["net_benefit_model_at_threshold"] == pytest.approx(at["net_benefit_model"])
    assert result.thresholds["operating_point"].tolist() == ["fixed", "target_sensitivity"]
    assert len(result.net_benefit) == 50
    assert "subgroup_worst_auroc_gap" in m
    assert (result.subgroups["status"] == "too small").sum() == m["subgroup_n_too_small"] == 1  # small_site
    assert set(result.plots) == {"roc", "pr", "calibration", "net_benefit"}
    assert all(png[:8] == PNG_SIGNATURE for png in result.plots.values())

    quick = EvaluationConfig(n_bootstrap=50, seed=3, make_plots=False)
    again = evaluate_candidate(y, p, None, quick)
    assert evaluate_candidate(y, p, None, quick).metrics == again.metrics
    assert again.plots == {} and again.subgroups.empty and "subgroup_worst_auroc_gap" not in again.metrics
    other = evaluate_candidate(y, p, None, EvaluationConfig(n_bootstrap=50, seed=4, make_plots=False))
    assert other.metrics["auroc"] == again.metrics["auroc"]
    assert other.metrics["auroc_ci_low"] != again.metrics["auroc_ci_low"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"target_sensitivity": 0.0}, "target_sensitivity"),
        ({"net_benefit_range": (0.0, 0.5)}, "net-benefit"),
        ({"min_subgroup_size": 0}, "min_subgroup_size"),
        ({"lowess_frac": 0.0}, "lowess_frac"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EvaluationConfig(**kwargs)


def test_config_is_frozen():
    config = EvaluationConfig()
    with pytest.raises(AttributeError):
        config.threshold = 0.5  # type: ignore[misc]


def test_bad_input_errors():
    with pytest.raises(ValueError, match="single class"):
        evaluate_candidate(np.zeros(20, dtype=int), np.linspace(0, 1, 20))
    with pytest.raises(ValueError, match="single class"):
        calibration_metrics(np.ones(5, dtype=int), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="NaN"):
        threshold_metrics(Y6, np.array([0.1, np.nan, 0.3, 0.4, 0.5, 0.6]), 0.5)
    with pytest.raises(ValueError, match="6 values"):
        net_benefit(Y6, P6[:5], [0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        scaled_brier(Y6, P6 * 2)
    with pytest.raises(ValueError, match="binary"):
        expected_calibration_error(np.array([0, 1, 2]), np.array([0.1, 0.2, 0.3]))
