"""Figures: every plot is a PNG, drawn without pyplot state."""

from __future__ import annotations

import numpy as np

from mlhops_dagster.modeling.evaluation import (
    calibration_png,
    evaluation_plots,
    net_benefit,
    net_benefit_png,
    pr_png,
    roc_png,
    roc_pr_calibration_png,
)
from tests.unit.modeling.evaluation.scores import PNG_SIGNATURE, calibrated_data


def test_plot_is_png():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.2).astype(int)
    p = np.clip(0.2 + 0.3 * y + rng.normal(0, 0.15, 300), 0, 1)
    png = roc_pr_calibration_png(y, p, title="lightgbm — test split")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_plots_are_png():
    y, p, _ = calibrated_data(500, seed=3)
    for png in (roc_png(y, p), pr_png(y, p), calibration_png(y, p), net_benefit_png(net_benefit(y, p, [0.1, 0.2]))):
        assert png[:8] == PNG_SIGNATURE and len(png) > 5_000
    plots = evaluation_plots(y, p, net_benefit(y, p, [0.1, 0.2]))
    assert set(plots) == {"roc", "pr", "calibration", "net_benefit"}
    assert set(evaluation_plots(y, p)) == {"roc", "pr", "calibration"}


def test_plot_timing_is_logged(caplog):
    y, p, _ = calibrated_data(300, seed=1)
    with caplog.at_level("INFO", logger="mlhops_dagster.modeling.evaluation.plots"):
        evaluation_plots(y, p)
    assert any(r.getMessage().startswith("evaluation plots (roc, pr, calibration) drawn in") for r in caplog.records)
