"""Test-set evaluation of binary risk scores, as PatientLevelPrediction reports it plus subgroup parity.

:func:`evaluate_candidate` is the entry point: it checks the scores once and computes, through the
modules of this package, discrimination (:mod:`.discrimination`: AUROC / AUPRC / Brier with bootstrap
CIs), calibration (:mod:`.calibration`: in the large, slope, E-statistics, ECE), operating points and
net benefit (:mod:`.thresholds`), the subgroup audit (:mod:`.fairness`) and the figures (:mod:`.plots`).
:mod:`.importance` ranks a fitted model's features. statsmodels, scipy, matplotlib and lightgbm are
imported inside the functions that use them, so importing this package is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mlhops_dagster.modeling.evaluation._inputs import check_scores
from mlhops_dagster.modeling.evaluation.calibration import (
    calibration_bins,
    calibration_in_the_large,
    calibration_metrics,
    calibration_slope,
    expected_calibration_error,
    lowess,
)
from mlhops_dagster.modeling.evaluation.discrimination import evaluate_binary, scaled_brier
from mlhops_dagster.modeling.evaluation.fairness import (
    AGE_BANDS,
    SUBGROUP_COLUMNS,
    age_band,
    demographics,
    subgroup_attributes,
    subgroup_metrics,
    subgroup_summary,
)
from mlhops_dagster.modeling.evaluation.importance import IMPORTANCE_METHODS, global_feature_importance
from mlhops_dagster.modeling.evaluation.plots import (
    calibration_png,
    evaluation_plots,
    net_benefit_png,
    pr_png,
    roc_png,
    roc_pr_calibration_png,
)
from mlhops_dagster.modeling.evaluation.thresholds import (
    THRESHOLD_KEYS,
    net_benefit,
    threshold_for_sensitivity,
    threshold_grid,
    threshold_metrics,
)

__all__ = [
    "AGE_BANDS",
    "IMPORTANCE_METHODS",
    "SUBGROUP_COLUMNS",
    "THRESHOLD_KEYS",
    "EvaluationConfig",
    "EvaluationResult",
    "age_band",
    "calibration_bins",
    "calibration_in_the_large",
    "calibration_metrics",
    "calibration_png",
    "calibration_slope",
    "demographics",
    "evaluate_binary",
    "evaluate_candidate",
    "evaluation_plots",
    "expected_calibration_error",
    "global_feature_importance",
    "lowess",
    "net_benefit",
    "net_benefit_png",
    "pr_png",
    "roc_pr_calibration_png",
    "roc_png",
    "scaled_brier",
    "subgroup_attributes",
    "subgroup_metrics",
    "subgroup_summary",
    "threshold_for_sensitivity",
    "threshold_grid",
    "threshold_metrics",
]


@dataclass(frozen=True)
class EvaluationConfig:
    """Settings of :func:`evaluate_candidate` (frozen: hashable, safe to share between assets)."""

    threshold: float = 0.2  # operating point: flag p >= threshold
    target_sensitivity: float = 0.8  # second operating point: highest threshold reaching this sensitivity
    net_benefit_range: tuple[float, float] = (0.01, 0.5)  # threshold probabilities of the decision curve
    net_benefit_step: float = 0.01
    min_subgroup_size: int = 100  # smaller groups are listed as "too small"
    n_bootstrap: int = 200
    seed: int = 0
    calibration_bins: int = 10  # equal-width bins for ECE and the calibration plot
    lowess_frac: float = 2.0 / 3.0  # lowess span for the E-statistics (R / PLP default)
    make_plots: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if not 0 < self.target_sensitivity <= 1:
            raise ValueError(f"target_sensitivity must be in (0, 1], got {self.target_sensitivity}")
        threshold_grid(self.net_benefit_range[0], self.net_benefit_range[1], self.net_benefit_step)
        if self.min_subgroup_size < 1 or self.n_bootstrap < 0 or self.calibration_bins < 1:
            raise ValueError("min_subgroup_size and calibration_bins must be >= 1 and n_bootstrap >= 0")
        if not 0 < self.lowess_frac <= 1:
            raise ValueError(f"lowess_frac must be in (0, 1], got {self.lowess_frac}")


@dataclass
class EvaluationResult:
    """Everything :func:`evaluate_candidate` computes.

    ``metrics``: flat floats for ``mlflow.log_metrics``; ``thresholds``: one row
    per operating point ("fixed", "target_sensitivity") with
    :data:`THRESHOLD_KEYS`; ``net_benefit``: the decision curve;
    ``calibration``: the reliability table; ``subgroups``: see
    :func:`subgroup_metrics` (empty when no groups); ``plots``: name -> PNG.
    """

    metrics: dict[str, float]
    thresholds: pd.DataFrame
    net_benefit: pd.DataFrame
    calibration: pd.DataFrame
    subgroups: pd.DataFrame
    plots: dict[str, bytes] = field(default_factory=dict)


def evaluate_candidate(
    y_true: Any, y_prob: Any, groups: pd.DataFrame | None = None, config: EvaluationConfig | None = None
) -> EvaluationResult:
    """Full clinical evaluation of one candidate's test-set risk scores (deterministic for ``config.seed``).

    ``metrics`` holds :func:`evaluate_binary`'s keys (AUROC/AUPRC/Brier/scaled
    Brier with bootstrap CIs), :func:`calibration_metrics`'s keys,
    ``fixed_<k>`` and ``target_sens_<k>`` for each of :data:`THRESHOLD_KEYS`,
    ``net_benefit_model_at_threshold`` / ``net_benefit_treat_all_at_threshold``
    (at ``config.threshold``) and, with groups, :func:`subgroup_summary`'s keys.
    Why: one call gives the PatientLevelPrediction-style summary plus the
    subgroup audit, so every candidate is judged on the same evidence.  The
    scores are checked here once; the metrics below run on the checked arrays.
    """
    config = config or EvaluationConfig()
    y, p = check_scores(y_true, y_prob)
    metrics = evaluate_binary.unchecked(y, p, n_bootstrap=config.n_bootstrap, seed=config.seed)
    metrics.update(calibration_metrics.unchecked(y, p, n_bins=config.calibration_bins, lowess_frac=config.lowess_frac))

    fixed = threshold_metrics.unchecked(y, p, config.threshold)
    target_threshold = threshold_for_sensitivity.unchecked(y, p, config.target_sensitivity)
    target = threshold_metrics.unchecked(y, p, target_threshold)
    thresholds = pd.DataFrame(
        [{"operating_point": "fixed", **fixed}, {"operating_point": "target_sensitivity", **target}]
    )
    metrics.update({f"fixed_{k}": v for k, v in fixed.items()})
    metrics.update({f"target_sens_{k}": v for k, v in target.items()})
    metrics["target_sens_target"] = float(config.target_sensitivity)

    grid = threshold_grid(config.net_benefit_range[0], config.net_benefit_range[1], config.net_benefit_step)
    curve = net_benefit.unchecked(y, p, grid)
    at = net_benefit.unchecked(y, p, [config.threshold]).iloc[0]
    metrics["net_benefit_model_at_threshold"] = float(at["net_benefit_model"])
    metrics["net_benefit_treat_all_at_threshold"] = float(at["net_benefit_treat_all"])

    if groups is not None:
        subgroups = subgroup_metrics.unchecked(y, p, groups, config.threshold, config.min_subgroup_size)
        metrics.update(subgroup_summary(subgroups))
    else:
        subgroups = pd.DataFrame(columns=list(SUBGROUP_COLUMNS))

    calibration = calibration_bins.unchecked(y, p, n_bins=config.calibration_bins)
    plots = (
        evaluation_plots.unchecked(y, p, curve, n_bins=config.calibration_bins, lowess_frac=config.lowess_frac)
        if config.make_plots
        else {}
    )
    return EvaluationResult(
        metrics={k: float(v) for k, v in metrics.items()},
        thresholds=thresholds,
        net_benefit=curve,
        calibration=calibration,
        subgroups=subgroups,
        plots=plots,
    )
