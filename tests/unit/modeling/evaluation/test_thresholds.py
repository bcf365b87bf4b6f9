"""Operating points: confusion counts and rates, the threshold for a target sensitivity, net benefit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from mlhops_dagster.modeling.evaluation import (
    THRESHOLD_KEYS,
    net_benefit,
    threshold_for_sensitivity,
    threshold_grid,
    threshold_metrics,
)
from tests.unit.modeling.evaluation.scores import P6, P10, Y6, Y10


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
