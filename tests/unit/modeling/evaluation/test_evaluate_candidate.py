"""The entry point: evaluate_candidate's metrics agree with the single metrics; configuration and input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlhops_dagster.modeling.evaluation import (
    EvaluationConfig,
    EvaluationResult,
    age_band,
    calibration_metrics,
    calibration_slope,
    evaluate_candidate,
    expected_calibration_error,
    net_benefit,
    scaled_brier,
    threshold_for_sensitivity,
    threshold_metrics,
)
from tests.unit.modeling.evaluation.scores import P6, PNG_SIGNATURE, Y6, calibrated_data


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
