"""Calibration of risk scores: in the large, slope, lowess-based E-statistics, ECE and the reliability table.

The lowess smoother and the slope fit come from statsmodels (its Cython lowess, its GLM); this module
keeps the choices PatientLevelPrediction makes (no robustness iterations, span 2/3, a fixed grid) and
the edge-case handling (NaN for a fit that does not exist) that the metrics and the gate rely on.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from mlhops_dagster.modeling.evaluation._inputs import binary_metric, logit, safe_div

__all__ = [
    "calibration_bins",
    "calibration_in_the_large",
    "calibration_metrics",
    "calibration_slope",
    "expected_calibration_error",
    "lowess",
]

_NAN_PAIR = (float("nan"), float("nan"))


def lowess(x: Any, y: Any, frac: float = 2.0 / 3.0, n_grid: int | None = 500) -> np.ndarray:
    """Locally-weighted linear regression of ``y`` on ``x`` (Cleveland 1979, no robustness iterations).

    Why: the E-statistics of Austin & Steyerberg (and PatientLevelPrediction's
    ``calculateEStatisticsBinary``, which calls R's ``lowess(p, y, iter = 0)``)
    need a smoothed observed-risk curve; robustness iterations would treat the
    binary outcomes as outliers, so none are done (``it=0``).  The fits are
    statsmodels' ``lowess(y, x, frac, it=0, xvals=...)``: each uses the
    ``k = int(frac * n)`` nearest points with tricube weights.

    Returns the fitted value at every ``x`` (input order).  With more than
    ``n_grid`` distinct ``x`` values, fits are computed at ``n_grid`` equally
    spaced points (statsmodels' ``xvals``) and linearly interpolated (R's
    ``delta`` idea, on a fixed grid); ``None`` fits every distinct value.  A
    point whose neighbourhood has fewer than two positively weighted points (all
    tied with it) gets the mean ``y`` of its nearest points.
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess as sm_lowess

    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    if len(xs) != len(ys):
        raise ValueError(f"x has {len(xs)} values but y has {len(ys)}")
    if len(xs) == 0:
        raise ValueError("lowess needs at least one point")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("lowess inputs contain NaN or infinite values")
    if not 0 < frac <= 1:
        raise ValueError(f"frac must be in (0, 1], got {frac}")
    unique = np.unique(xs)
    points = unique if n_grid is None or len(unique) <= n_grid else np.linspace(unique[0], unique[-1], int(n_grid))
    with np.errstate(invalid="ignore", divide="ignore"):  # a zero-radius neighbourhood: NaN, filled below
        fitted = sm_lowess(ys, xs, frac=frac, it=0, delta=0.0, xvals=points, missing="none")
    for i in np.flatnonzero(np.isnan(fitted)):
        distance = np.abs(xs - points[i])
        fitted[i] = float(ys[distance == distance.min()].mean())
    return np.interp(xs, points, fitted)


@binary_metric
def calibration_in_the_large(y: np.ndarray, p: np.ndarray) -> float:
    """Intercept ``a`` of ``logit P(y=1) = a + logit(p)`` (logit(p) as offset), by maximum likelihood.

    Why: it measures whether the average predicted risk matches the observed
    rate *on the logit scale* (0 = calibrated in the large; > 0 = risks too
    low, < 0 = risks too high).  ``p`` is clipped to [1e-15, 1 - 1e-15].
    Solved exactly as the root of the score equation Σ(y - expit(a + logit p)) = 0
    (monotone in ``a``; Brent's method).
    """
    from scipy.optimize import brentq
    from scipy.special import expit

    offset = logit(p)
    observed = float(y.sum())
    if observed == 0 or observed == len(y):
        return float("nan")
    return float(brentq(lambda a: observed - float(expit(a + offset).sum()), -100.0, 100.0, xtol=1e-12))


@binary_metric
def calibration_slope(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the unpenalised logistic regression ``logit P(y=1) = a + b·logit(p)``.

    Why: the slope ``b`` measures over-fitting: ``b < 1`` means predictions are
    too extreme (typical of an over-fitted model), ``b > 1`` too moderate.
    Fitted by statsmodels' binomial GLM (IRLS from its data-driven start, which
    also copes with extreme logits; converged when no coefficient moves by
    1e-10); ``p`` clipped to [1e-15, 1 - 1e-15].  Returns NaNs when the
    maximum-likelihood fit does not exist or is not reached: logit(p) constant,
    perfect separation, no convergence in 100 iterations, or a coefficient
    beyond 1e6.
    """
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    z = logit(p)
    if np.ptp(z) == 0:
        return _NAN_PAIR
    design = np.column_stack([np.ones_like(z), z])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = GLM(y, design, family=Binomial()).fit(maxiter=100, tol=1e-10, tol_criterion="params")
        except (PerfectSeparationWarning, np.linalg.LinAlgError, ValueError):
            return _NAN_PAIR
    beta = np.asarray(fit.params, dtype=np.float64)
    if not fit.converged or not np.all(np.isfinite(beta)) or np.abs(beta).max() > 1e6:
        return _NAN_PAIR
    return float(beta[0]), float(beta[1])


@binary_metric
def calibration_bins(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table on ``n_bins`` equal-width bins (see :func:`expected_calibration_error`).

    Columns: bin_low, bin_high, n, mean_predicted, observed (outcome rate);
    only non-empty bins.  Why: the points of the calibration plot and the ECE
    come from the same table.
    """
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    n_bins = int(n_bins)
    idx = np.minimum((p * n_bins).astype(int), n_bins - 1)
    rows = []
    for b in np.unique(idx):
        mask = idx == b
        rows.append(
            {
                "bin_low": b / n_bins,
                "bin_high": (b + 1) / n_bins,
                "n": int(mask.sum()),
                "mean_predicted": float(p[mask].mean()),
                "observed": float(y[mask].mean()),
            }
        )
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "n", "mean_predicted", "observed"])


@binary_metric
def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """ECE = Σ_b (n_b / n) · |mean(y_b) − mean(p_b)| over ``n_bins`` equal-width bins of [0, 1].

    Binning: bin ``b`` holds ``b/n_bins <= p < (b+1)/n_bins``; ``p = 1`` goes in
    the last bin; empty bins contribute nothing.  Why: a simple, widely
    reported summary of the reliability diagram (coarser than the E-statistics,
    and sensitive to the binning, so reported alongside them).
    """
    table = calibration_bins.unchecked(y, p, n_bins=n_bins)
    return float((table["n"] / len(y) * (table["observed"] - table["mean_predicted"]).abs()).sum())


@binary_metric
def calibration_metrics(
    y: np.ndarray, p: np.ndarray, n_bins: int = 10, lowess_frac: float = 2.0 / 3.0
) -> dict[str, float]:
    """Calibration summary as flat floats (PatientLevelPrediction's evaluation summary set).

    Keys: calibration_in_the_large, calibration_intercept and calibration_slope
    (the (a, b) of the slope model), oe_ratio (observed / expected events),
    e_avg, e50, e90, e_max (Austin & Steyerberg's integrated calibration index
    family: |p − lowess(y ~ p)| averaged, median, 90th percentile, max; lowess
    with ``lowess_frac`` span, no robustness iterations, as PLP does), ece
    (``n_bins`` equal-width bins).  Why: discrimination alone says nothing about
    whether a 20 % risk means 20 %; the slope flags over-fitting, CITL and O/E
    flag a shifted base rate, the E-statistics the size of miscalibration.
    """
    intercept, slope = calibration_slope.unchecked(y, p)
    distance = np.abs(p - lowess(p, y, frac=lowess_frac))
    return {
        "calibration_in_the_large": calibration_in_the_large.unchecked(y, p),
        "calibration_intercept": intercept,
        "calibration_slope": slope,
        "oe_ratio": safe_div(float(y.sum()), float(p.sum())),
        "e_avg": float(distance.mean()),
        "e50": float(np.quantile(distance, 0.5)),
        "e90": float(np.quantile(distance, 0.9)),
        "e_max": float(distance.max()),
        "ece": expected_calibration_error.unchecked(y, p, n_bins=n_bins),
    }
