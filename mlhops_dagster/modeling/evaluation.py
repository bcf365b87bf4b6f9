"""Test-set evaluation of binary risk scores: discrimination, calibration, bootstrap CIs, plots.

Besides :func:`evaluate_binary` (AUROC / AUPRC / Brier with bootstrap CIs) this
module is the clinical evaluation library: PatientLevelPrediction's evaluation
summary (scaled Brier, calibration-in-the-large, calibration slope, E-statistics,
ECE, threshold table, net benefit) and Cyclops-style subgroup parity, all
reachable through :func:`evaluate_candidate`.  numpy / scipy / scikit-learn only
(lowess is implemented here; matplotlib and lightgbm are imported lazily).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

__all__ = [
    "AGE_BANDS",
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
    "subgroup_metrics",
    "subgroup_summary",
    "threshold_for_sensitivity",
    "threshold_grid",
    "threshold_metrics",
]


def _validate(y_true: Any, y_prob: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).ravel()
    p = np.asarray(y_prob, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 2:  # predict_proba output
        p = p[:, 1]
    p = p.ravel()
    if len(y) != len(p):
        raise ValueError(f"y_true has {len(y)} values but y_prob has {len(p)}")
    if len(y) == 0:
        raise ValueError("cannot evaluate on an empty set")
    if not np.all(np.isfinite(p)):
        raise ValueError("y_prob contains NaN or infinite values")
    if p.min() < 0 or p.max() > 1:
        raise ValueError("y_prob must be probabilities in [0, 1]")
    labels = np.unique(y)
    if not set(labels.tolist()) <= {0, 1}:
        raise ValueError(f"y_true must be binary 0/1, got labels {labels.tolist()}")
    if len(labels) < 2:
        raise ValueError(
            f"y_true contains a single class ({labels[0]}) in {len(y)} rows: AUROC/AUPRC are undefined; "
            "the evaluation set needs both positive and negative outcomes"
        )
    return y.astype(int), p


def evaluate_binary(y_true: Any, y_prob: Any, n_bootstrap: int = 200, seed: int = 0) -> dict[str, float]:
    """AUROC, AUPRC (average precision), Brier and scaled Brier score with percentile-bootstrap 95 % CIs.

    ``y_prob`` is the positive-class probability (1-D) or a ``predict_proba``
    (n, 2) array.  Bootstrap resamples (rows drawn with replacement,
    ``np.random.default_rng(seed)``) that lack one of the classes are skipped;
    ``n_bootstrap_used`` reports how many were kept (CIs are NaN when none).

    Returns floats only (ready for ``mlflow.log_metrics``): auroc, auprc, brier,
    scaled_brier, auroc_ci_low/high, auprc_ci_low/high, brier_ci_low/high,
    scaled_brier_ci_low/high, n, n_positive, prevalence, n_bootstrap_used,
    mean_predicted.  (Scaled Brier: see :func:`scaled_brier`; in each resample
    it is scaled by that resample's prevalence.)

    Raises ValueError when y_true holds a single class (metrics undefined).
    """
    y, p = _validate(y_true, y_prob)
    n = len(y)
    out: dict[str, float] = {
        "auroc": float(roc_auc_score(y, p)),
        "auprc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "scaled_brier": _scaled_brier(y, p),
    }
    rng = np.random.default_rng(seed)
    boot: dict[str, list[float]] = {"auroc": [], "auprc": [], "brier": [], "scaled_brier": []}
    for _ in range(int(n_bootstrap)):
        idx = rng.integers(0, n, size=n)
        yb, pb = y[idx], p[idx]
        n_pos = int(yb.sum())
        if n_pos == 0 or n_pos == n:
            continue
        boot["auroc"].append(roc_auc_score(yb, pb))
        boot["auprc"].append(average_precision_score(yb, pb))
        boot["brier"].append(float(np.mean((pb - yb) ** 2)))
        boot["scaled_brier"].append(_scaled_brier(yb, pb))
    for name, values in boot.items():
        if values:
            lo, hi = np.percentile(values, [2.5, 97.5])
        else:
            lo = hi = float("nan")
        out[f"{name}_ci_low"] = float(lo)
        out[f"{name}_ci_high"] = float(hi)
    n_positive = int(y.sum())
    out.update(
        {
            "n": float(n),
            "n_positive": float(n_positive),
            "prevalence": float(n_positive / n),
            "mean_predicted": float(p.mean()),
            "n_bootstrap_used": float(len(boot["auroc"])),
        }
    )
    return out


def roc_pr_calibration_png(y_true: Any, y_prob: Any, title: str, n_bins: int = 10, dpi: int = 100) -> bytes:
    """ROC curve, precision-recall curve and reliability diagram side by side, as PNG bytes.

    Uses ``matplotlib.figure.Figure`` directly (Agg canvas, no pyplot global
    state, safe in worker processes without a display).  The reliability diagram
    uses quantile bins (robust for low-prevalence outcomes) with a histogram of
    predicted risk underneath.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    y, p = _validate(y_true, y_prob)
    auroc = roc_auc_score(y, p)
    auprc = average_precision_score(y, p)
    brier = brier_score_loss(y, p)
    prevalence = float(y.mean())

    fig = Figure(figsize=(13, 4.2), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax_roc, ax_pr, ax_cal = fig.subplots(1, 3)

    fpr, tpr, _ = roc_curve(y, p)
    ax_roc.plot(fpr, tpr, color="C0", lw=1.8, label=f"AUROC = {auroc:.3f}")
    ax_roc.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax_roc.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    ax_roc.legend(loc="lower right")

    precision, recall, _ = precision_recall_curve(y, p)
    ax_pr.step(recall, precision, where="post", color="C1", lw=1.8, label=f"AUPRC = {auprc:.3f}")
    ax_pr.axhline(prevalence, ls="--", color="grey", lw=1, label=f"prevalence = {prevalence:.3f}")
    ax_pr.set(xlabel="Recall", ylabel="Precision", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.01))
    ax_pr.legend(loc="upper right")

    n_unique = len(np.unique(p))
    bins = max(2, min(int(n_bins), n_unique))
    try:
        frac_pos, mean_pred = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    except ValueError:  # degenerate quantiles (very few distinct scores)
        frac_pos, mean_pred = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    hi = float(max(p.max(), frac_pos.max() if len(frac_pos) else 0.0, 0.05))
    hi = min(1.0, hi * 1.05)
    ax_cal.plot([0, hi], [0, hi], ls="--", color="grey", lw=1, label="perfect")
    ax_cal.plot(mean_pred, frac_pos, marker="o", color="C2", lw=1.8, label=f"model (Brier = {brier:.4f})")
    ax_cal.set(
        xlabel="Mean predicted risk", ylabel="Observed frequency", title="Reliability", xlim=(0, hi), ylim=(0, hi)
    )
    ax_cal.legend(loc="upper left")
    ax_hist = ax_cal.twinx()
    ax_hist.hist(p, bins=30, range=(0, hi), color="C2", alpha=0.15)
    ax_hist.set_yticks([])

    fig.suptitle(f"{title}  (n = {len(y)}, positives = {int(y.sum())})")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# --------------------------------------------------------------------------- #
# Clinical evaluation library: PatientLevelPrediction-style evaluation summary
# (discrimination, calibration, threshold table, net benefit, E-statistics) and
# Cyclops-style subgroup parity.  Pure numpy / scipy / scikit-learn.
# --------------------------------------------------------------------------- #
_EPS = 1e-15


def _safe_div(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


# ----------------------------------------------------------------- Brier
def scaled_brier(y_true: Any, y_prob: Any) -> float:
    """Scaled Brier score ``1 - Brier / (prevalence * (1 - prevalence))``.

    Why: the raw Brier score depends on the outcome rate, so it cannot be
    compared across cohorts; scaling by the Brier score of the prevalence-only
    model (which predicts the observed rate for everyone) gives a 0 (no better
    than the base rate) .. 1 (perfect) index, like an R².  Negative values mean
    worse than predicting the prevalence.
    """
    y, p = _validate(y_true, y_prob)
    return _scaled_brier(y, p)


def _scaled_brier(y: np.ndarray, p: np.ndarray) -> float:
    prevalence = float(y.mean())
    reference = prevalence * (1 - prevalence)
    return 1.0 - float(np.mean((p - y) ** 2)) / reference if reference > 0 else float("nan")


# ----------------------------------------------------------------- lowess
def lowess(x: Any, y: Any, frac: float = 2.0 / 3.0, n_grid: int | None = 500) -> np.ndarray:
    """Locally-weighted linear regression of ``y`` on ``x`` (Cleveland 1979, no robustness iterations).

    Why: the E-statistics of Austin & Steyerberg (and PatientLevelPrediction's
    ``calculateEStatisticsBinary``, which calls R's ``lowess(p, y, iter = 0)``)
    need a smoothed observed-risk curve; robustness iterations would treat the
    binary outcomes as outliers, so none are done.  Matches
    ``statsmodels.nonparametric.lowess(y, x, frac, it=0, delta=0)``: each fit
    uses the ``k = int(frac * n)`` nearest points with tricube weights
    ``(1 - (d / d_k)^3)^3`` (``d_k`` = distance to the k-th nearest point).

    Returns the fitted value at every ``x`` (input order).  With more than
    ``n_grid`` distinct ``x`` values, fits are computed at ``n_grid`` equally
    spaced points and linearly interpolated (R's ``delta`` trick); ``None``
    fits every distinct value exactly (O(n²)).
    """
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
    n = len(xs)
    k = min(max(int(frac * n + 1e-10), 2), n)
    unique = np.unique(xs)
    exact = n_grid is None or len(unique) <= n_grid
    points = unique if exact else np.linspace(unique[0], unique[-1], int(n_grid))
    fitted = np.empty(len(points))
    for i, x0 in enumerate(points):
        d = np.abs(xs - x0)
        radius = np.partition(d, k - 1)[k - 1]
        w = np.zeros(n)
        if radius > 0:
            inside = d < radius
            w[inside] = (1 - (d[inside] / radius) ** 3) ** 3
        if np.count_nonzero(w > 1e-12) < 2:  # all k neighbours tied at x0: plain mean of the nearest
            fitted[i] = float(ys[d == d.min()].mean())
            continue
        w /= w.sum()
        x_bar = float(w @ xs)
        var = max(float(w @ (xs - x_bar) ** 2), 1e-12)
        y_bar = float(w @ ys)
        slope = float(w @ ((xs - x_bar) * ys)) / var
        fitted[i] = y_bar + slope * (x0 - x_bar)
    return np.interp(xs, points, fitted)


# ----------------------------------------------------------------- calibration
def calibration_in_the_large(y_true: Any, y_prob: Any) -> float:
    """Intercept ``a`` of ``logit P(y=1) = a + logit(p)`` (logit(p) as offset), by maximum likelihood.

    Why: it measures whether the average predicted risk matches the observed
    rate *on the logit scale* (0 = calibrated in the large; > 0 = risks too
    low, < 0 = risks too high).  ``p`` is clipped to [1e-15, 1 - 1e-15].
    Solved exactly as the root of the score equation Σ(y - expit(a + logit p)) = 0
    (monotone in ``a``; Brent's method).
    """
    y, p = _validate(y_true, y_prob)
    return _citl(y, p)


def _citl(y: np.ndarray, p: np.ndarray) -> float:
    from scipy.optimize import brentq
    from scipy.special import expit

    offset = _logit(p)
    observed = float(y.sum())
    if observed == 0 or observed == len(y):
        return float("nan")
    return float(brentq(lambda a: observed - float(expit(a + offset).sum()), -100.0, 100.0, xtol=1e-12))


def calibration_slope(y_true: Any, y_prob: Any) -> tuple[float, float]:
    """(intercept, slope) of the unpenalised logistic regression ``logit P(y=1) = a + b·logit(p)``.

    Why: the slope ``b`` measures over-fitting: ``b < 1`` means predictions are
    too extreme (typical of an over-fitted model), ``b > 1`` too moderate.
    Fitted by Newton-Raphson (IRLS, with step halving) from (0, 1); ``p`` clipped to
    [1e-15, 1 - 1e-15].  Returns NaNs when the fit does not converge (perfect
    separation) or logit(p) is constant.
    """
    y, p = _validate(y_true, y_prob)
    return _calibration_slope(y, p)


def _calibration_slope(y: np.ndarray, p: np.ndarray, max_iter: int = 100, tol: float = 1e-10) -> tuple[float, float]:
    from scipy.special import expit

    z = _logit(p)
    if np.ptp(z) == 0:
        return float("nan"), float("nan")
    X = np.column_stack([np.ones_like(z), z])

    def loglik(b: np.ndarray) -> float:
        eta = X @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    beta = np.array([0.0, 1.0])
    current = loglik(beta)
    for _ in range(max_iter):
        mu = expit(X @ beta)
        w = mu * (1 - mu)
        hessian = X.T @ (X * w[:, None])
        try:
            step = np.linalg.solve(hessian, X.T @ (y - mu))
        except np.linalg.LinAlgError:
            return float("nan"), float("nan")
        # step halving: from (0, 1) a full Newton step overshoots when p reaches extreme logits (tiny weights);
        # the log-likelihood is concave, so a shorter step that does not decrease it always exists
        scale = 1.0
        while scale > 1e-10 and loglik(beta + scale * step) < current - 1e-12:
            scale /= 2
        step = scale * step
        beta = beta + step
        current = loglik(beta)
        if not np.all(np.isfinite(beta)) or np.abs(beta).max() > 1e6:
            return float("nan"), float("nan")
        if np.abs(step).max() < tol:
            return float(beta[0]), float(beta[1])
    return float("nan"), float("nan")


def expected_calibration_error(y_true: Any, y_prob: Any, n_bins: int = 10) -> float:
    """ECE = Σ_b (n_b / n) · |mean(y_b) − mean(p_b)| over ``n_bins`` equal-width bins of [0, 1].

    Binning: bin ``b`` holds ``b/n_bins <= p < (b+1)/n_bins``; ``p = 1`` goes in
    the last bin; empty bins contribute nothing.  Why: a simple, widely
    reported summary of the reliability diagram (coarser than the E-statistics,
    and sensitive to the binning, so reported alongside them).
    """
    y, p = _validate(y_true, y_prob)
    table = calibration_bins(y, p, n_bins=n_bins)
    return float((table["n"] / len(y) * (table["observed"] - table["mean_predicted"]).abs()).sum())


def calibration_bins(y_true: Any, y_prob: Any, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table on ``n_bins`` equal-width bins (see :func:`expected_calibration_error`).

    Columns: bin_low, bin_high, n, mean_predicted, observed (outcome rate);
    only non-empty bins.  Why: the points of the calibration plot and the ECE
    come from the same table.
    """
    y, p = _validate(y_true, y_prob)
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


def calibration_metrics(y_true: Any, y_prob: Any, n_bins: int = 10, lowess_frac: float = 2.0 / 3.0) -> dict[str, float]:
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
    y, p = _validate(y_true, y_prob)
    intercept, slope = _calibration_slope(y, p)
    smoothed = lowess(p, y, frac=lowess_frac)
    distance = np.abs(p - smoothed)
    return {
        "calibration_in_the_large": _citl(y, p),
        "calibration_intercept": intercept,
        "calibration_slope": slope,
        "oe_ratio": _safe_div(float(y.sum()), float(p.sum())),
        "e_avg": float(distance.mean()),
        "e50": float(np.quantile(distance, 0.5)),
        "e90": float(np.quantile(distance, 0.9)),
        "e_max": float(distance.max()),
        "ece": expected_calibration_error(y, p, n_bins=n_bins),
    }


# ----------------------------------------------------------------- thresholds
THRESHOLD_KEYS = (
    "threshold", "tp", "fp", "tn", "fn", "sensitivity", "specificity", "ppv", "npv", "alert_rate"
)  # fmt: skip


def threshold_metrics(y_true: Any, y_prob: Any, threshold: float) -> dict[str, float]:
    """Confusion counts and rates when patients with ``p >= threshold`` are flagged.

    Keys: threshold, tp, fp, tn, fn, sensitivity, specificity, ppv, npv,
    alert_rate (fraction flagged).  A rate whose denominator is 0 (e.g. PPV
    when nobody is flagged) is NaN.  Why: a deployed readmission model acts at
    one operating point; clinicians need the alert burden and PPV there, not an
    AUROC.
    """
    y, p = _validate(y_true, y_prob)
    return _threshold_metrics(y, p, threshold)


def _threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    flagged = p >= threshold
    positive = y == 1
    tp = int(np.sum(flagged & positive))
    fp = int(np.sum(flagged & ~positive))
    fn = int(np.sum(~flagged & positive))
    tn = int(np.sum(~flagged & ~positive))
    return {
        "threshold": float(threshold),
        "tp": float(tp),
        "fp": float(fp),
        "tn": float(tn),
        "fn": float(fn),
        "sensitivity": _safe_div(tp, tp + fn),
        "specificity": _safe_div(tn, tn + fp),
        "ppv": _safe_div(tp, tp + fp),
        "npv": _safe_div(tn, tn + fn),
        "alert_rate": float((tp + fp) / len(y)),
    }


def threshold_for_sensitivity(y_true: Any, y_prob: Any, target_sensitivity: float) -> float:
    """Highest threshold ``t`` (flag ``p >= t``) whose sensitivity is >= ``target_sensitivity``.

    That is the k-th largest score among the positives, k = ceil(target · n_positive).
    Why: "catch 80 % of readmissions" is how clinical teams state an operating
    point; the highest such threshold gives the fewest alerts.
    """
    y, p = _validate(y_true, y_prob)
    return _threshold_for_sensitivity(y, p, target_sensitivity)


def _threshold_for_sensitivity(y: np.ndarray, p: np.ndarray, target: float) -> float:
    if not 0 < target <= 1:
        raise ValueError(f"target_sensitivity must be in (0, 1], got {target}")
    positives = np.sort(p[y == 1])[::-1]
    k = max(1, int(np.ceil(target * len(positives) - 1e-9)))
    return float(positives[k - 1])


# ----------------------------------------------------------------- net benefit
def threshold_grid(start: float, stop: float, step: float) -> np.ndarray:
    """Thresholds ``start, start + step, ..., <= stop`` (rounded to 10 decimals), all in (0, 1)."""
    if not 0 < start <= stop < 1:
        raise ValueError(f"net-benefit thresholds need 0 < start <= stop < 1, got ({start}, {stop})")
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return np.round(start + step * np.arange(count), 10)


def net_benefit(y_true: Any, y_prob: Any, thresholds: Any) -> pd.DataFrame:
    """Decision-curve analysis (Vickers & Elkin 2006).

    For each threshold probability ``pt`` (flag ``p >= pt``):
    ``NB_model = TP/n − FP/n · pt/(1 − pt)``, ``NB_treat_all = prev − (1 − prev) · pt/(1 − pt)``,
    ``NB_treat_none = 0``.  Why: it weighs true alerts against false alerts
    at the exchange rate implied by the threshold, so it answers "is acting on
    the model better than intervening on everyone / no one?".

    Columns: threshold, net_benefit_model, net_benefit_treat_all,
    net_benefit_treat_none, tp, fp.
    """
    y, p = _validate(y_true, y_prob)
    return _net_benefit(y, p, thresholds)


def _net_benefit(y: np.ndarray, p: np.ndarray, thresholds: Any) -> pd.DataFrame:
    pts = np.asarray(thresholds, dtype=np.float64).ravel()
    if len(pts) == 0 or np.any(pts <= 0) or np.any(pts >= 1) or not np.all(np.isfinite(pts)):
        raise ValueError("net-benefit thresholds must be a non-empty list of values strictly between 0 and 1")
    n = len(y)
    prevalence = float(y.mean())
    rows = []
    for pt in pts:
        flagged = p >= pt
        tp = int(np.sum(flagged & (y == 1)))
        fp = int(np.sum(flagged & (y == 0)))
        odds = pt / (1 - pt)
        rows.append(
            {
                "threshold": float(pt),
                "net_benefit_model": tp / n - fp / n * odds,
                "net_benefit_treat_all": prevalence - (1 - prevalence) * odds,
                "net_benefit_treat_none": 0.0,
                "tp": tp,
                "fp": fp,
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- subgroups
AGE_BANDS = (18, 45, 65, 80)


def age_band(age: Any, edges: tuple[int, ...] = AGE_BANDS) -> pd.Series:
    """Age in years -> band label: with the default edges "<18", "18-44", "45-64", "65-79", "80+".

    Bands are left-closed (``45`` is in "45-64"); NaN ages stay NaN.  Why:
    fairness audits report metrics by coarse, clinically conventional age
    bands rather than raw age.
    """
    ages = pd.Series(age, dtype="float64") if not isinstance(age, pd.Series) else age.astype("float64")
    edges = tuple(int(e) for e in edges)
    if list(edges) != sorted(set(edges)) or not edges:
        raise ValueError(f"age band edges must be strictly increasing, got {edges}")
    labels = [f"<{edges[0]}"] + [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"{edges[-1]}+")
    bins = [-np.inf, *edges, np.inf]
    banded = pd.cut(ages, bins=bins, labels=labels, right=False)
    return banded.astype("object").where(banded.notna(), np.nan).rename("age_band")


SUBGROUP_COLUMNS = (
    "attribute", "group", "status", "n", "n_positive", "prevalence", "mean_predicted", "auroc",
    "calibration_in_the_large", "oe_ratio", "sensitivity", "ppv", "alert_rate",
    "auroc_ratio", "oe_ratio_ratio", "sensitivity_ratio", "ppv_ratio", "alert_rate_ratio",
)  # fmt: skip
_GROUP_METRICS = SUBGROUP_COLUMNS[4:13]
_PARITY = ("auroc", "oe_ratio", "sensitivity", "ppv", "alert_rate")


def subgroup_metrics(
    y_true: Any, y_prob: Any, groups: pd.DataFrame, threshold: float, min_size: int = 100
) -> pd.DataFrame:
    """Per-group discrimination, calibration and operating-point metrics with parity ratios vs overall.

    ``groups`` has one row per prediction (matched by position) and one column
    per attribute (sex, race, age band, site...); missing values form their own
    group "<missing>".  The first row is the overall population (attribute
    "overall").  Each group gets a ``status``:

    - ``"ok"``: n >= ``min_size`` and both classes present — all metrics;
    - ``"too small"``: n < ``min_size`` — listed with its n only (metrics
      suppressed: unstable, and small cells can identify patients);
    - ``"single class"``: large enough but without positives or negatives —
      n, prevalence, mean predicted and O/E only (AUROC, CITL undefined).

    ``<metric>_ratio`` = group metric / overall metric (1 = parity).  Why:
    a model can look fine overall and fail a subgroup (Cyclops / model-card
    practice); listing too-small groups keeps the audit honest about what was
    not assessed.
    """
    y, p = _validate(y_true, y_prob)
    if not isinstance(groups, pd.DataFrame):
        raise TypeError(f"groups must be a pandas DataFrame, got {type(groups).__name__}")
    if len(groups) != len(y):
        raise ValueError(f"groups has {len(groups)} rows but y_true has {len(y)}")
    if int(min_size) < 1:
        raise ValueError(f"min_size must be >= 1, got {min_size}")
    overall = _group_row("overall", "all", y, p, threshold, min_size=1)
    rows = [overall]
    frame = groups.reset_index(drop=True)
    for column in frame.columns:
        values = frame[column].astype("object").where(frame[column].notna(), "<missing>").astype(str)
        for value in sorted(values.unique()):
            mask = (values == value).to_numpy()
            rows.append(_group_row(str(column), value, y[mask], p[mask], threshold, min_size))
    out = pd.DataFrame(rows)
    for metric in _PARITY:
        base = overall[metric]
        out[f"{metric}_ratio"] = out[metric] / base if base and np.isfinite(base) else np.nan
    return out.reindex(columns=list(SUBGROUP_COLUMNS))


def _group_row(
    attribute: str, group: str, y: np.ndarray, p: np.ndarray, threshold: float, min_size: int
) -> dict[str, Any]:
    nan = float("nan")
    row: dict[str, Any] = {"attribute": attribute, "group": group, "n": int(len(y))}
    row.update(dict.fromkeys(_GROUP_METRICS, nan))
    if len(y) < min_size:
        row["status"] = "too small"
        return row
    row.update(
        {
            "n_positive": int(y.sum()),
            "prevalence": float(y.mean()),
            "mean_predicted": float(p.mean()),
            "oe_ratio": _safe_div(float(y.sum()), float(p.sum())),
        }
    )
    if y.min() == y.max():
        row["status"] = "single class"
        return row
    at = _threshold_metrics(y, p, threshold)
    row.update(
        {
            "status": "ok",
            "auroc": float(roc_auc_score(y, p)),
            "calibration_in_the_large": _citl(y, p),
            "sensitivity": at["sensitivity"],
            "ppv": at["ppv"],
            "alert_rate": at["alert_rate"],
        }
    )
    return row


def subgroup_summary(table: pd.DataFrame) -> dict[str, float]:
    """Flat floats from :func:`subgroup_metrics` for MLflow.

    Keys: subgroup_n_evaluated, subgroup_n_too_small, subgroup_n_single_class,
    subgroup_min_auroc, subgroup_worst_auroc_gap (overall AUROC − min group
    AUROC), and subgroup_min/max_<metric>_ratio for sensitivity, ppv, oe_ratio.
    NaN when no group could be evaluated.  Why: one number per fairness
    concern can be tracked and alerted on across model versions.
    """
    groups = table[table["attribute"] != "overall"]
    ok = groups[groups["status"] == "ok"]
    overall_auroc = float(table.loc[table["attribute"] == "overall", "auroc"].iloc[0])
    min_auroc = float(ok["auroc"].min()) if len(ok) else float("nan")
    out = {
        "subgroup_n_evaluated": float(len(ok)),
        "subgroup_n_too_small": float((groups["status"] == "too small").sum()),
        "subgroup_n_single_class": float((groups["status"] == "single class").sum()),
        "subgroup_min_auroc": min_auroc,
        "subgroup_worst_auroc_gap": overall_auroc - min_auroc,
    }
    for metric in ("sensitivity", "ppv", "oe_ratio"):
        ratios = ok[f"{metric}_ratio"].dropna()
        out[f"subgroup_min_{metric}_ratio"] = float(ratios.min()) if len(ratios) else float("nan")
        out[f"subgroup_max_{metric}_ratio"] = float(ratios.max()) if len(ratios) else float("nan")
    return out


# ----------------------------------------------------------------- plots
def _new_figure(figsize: tuple[float, float], dpi: int) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def roc_png(y_true: Any, y_prob: Any, dpi: int = 100) -> bytes:
    """ROC curve with the AUROC in the legend, as PNG bytes (Agg canvas, no pyplot state)."""
    from sklearn.metrics import roc_curve

    y, p = _validate(y_true, y_prob)
    fig, ax = _new_figure((5, 4.5), dpi)
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr, color="C0", lw=1.8, label=f"AUROC = {roc_auc_score(y, p):.3f}")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax.set(xlabel="1 − specificity", ylabel="Sensitivity", title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    return _png(fig)


def pr_png(y_true: Any, y_prob: Any, dpi: int = 100) -> bytes:
    """Precision-recall curve against the prevalence baseline, as PNG bytes."""
    from sklearn.metrics import precision_recall_curve

    y, p = _validate(y_true, y_prob)
    fig, ax = _new_figure((5, 4.5), dpi)
    precision, recall, _ = precision_recall_curve(y, p)
    ax.step(recall, precision, where="post", color="C1", lw=1.8, label=f"AUPRC = {average_precision_score(y, p):.3f}")
    ax.axhline(float(y.mean()), ls="--", color="grey", lw=1, label=f"prevalence = {y.mean():.3f}")
    ax.set(
        xlabel="Sensitivity (recall)", ylabel="PPV (precision)", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.01)
    )
    ax.legend(loc="upper right")
    return _png(fig)


def calibration_png(
    y_true: Any, y_prob: Any, n_bins: int = 10, lowess_frac: float = 2.0 / 3.0, dpi: int = 100
) -> bytes:
    """Calibration plot: lowess observed-risk curve, equal-width bin points (sized by n), diagonal, risk histogram."""
    y, p = _validate(y_true, y_prob)
    fig, ax = _new_figure((5, 4.5), dpi)
    order = np.argsort(p, kind="stable")
    smooth = lowess(p, y, frac=lowess_frac)
    bins = calibration_bins(y, p, n_bins=n_bins)
    hi = min(1.0, 1.05 * max(float(p.max()), float(bins["observed"].max()), 0.05))
    ax.plot([0, hi], [0, hi], ls="--", color="grey", lw=1, label="perfect")
    ax.plot(p[order], smooth[order], color="C2", lw=1.8, label="lowess")
    sizes = 20 + 80 * bins["n"] / bins["n"].max()
    ax.scatter(bins["mean_predicted"], bins["observed"], s=sizes, color="C3", zorder=3, label=f"{n_bins} bins")
    ax.set(xlabel="Predicted risk", ylabel="Observed risk", title="Calibration", xlim=(0, hi), ylim=(0, hi))
    ax.legend(loc="upper left")
    hist = ax.twinx()
    hist.hist(p, bins=30, range=(0, hi), color="C2", alpha=0.15)
    hist.set_yticks([])
    return _png(fig)


def net_benefit_png(curve: pd.DataFrame, dpi: int = 100) -> bytes:
    """Decision curve (model, treat all, treat none) from a :func:`net_benefit` frame, as PNG bytes."""
    fig, ax = _new_figure((5.5, 4.5), dpi)
    ax.plot(curve["threshold"], curve["net_benefit_model"], color="C0", lw=1.8, label="model")
    ax.plot(curve["threshold"], curve["net_benefit_treat_all"], color="C1", lw=1.2, label="treat all")
    ax.plot(curve["threshold"], curve["net_benefit_treat_none"], color="grey", lw=1.2, ls="--", label="treat none")
    top = float(np.nanmax(curve[["net_benefit_model", "net_benefit_treat_all"]].to_numpy()))
    ax.set(
        xlabel="Threshold probability",
        ylabel="Net benefit",
        title="Decision curve",
        ylim=(-0.05 * max(top, 0.01), 1.1 * max(top, 0.01)),
    )
    ax.legend(loc="upper right")
    return _png(fig)


def evaluation_plots(
    y_true: Any, y_prob: Any, curve: pd.DataFrame | None = None, n_bins: int = 10, lowess_frac: float = 2.0 / 3.0
) -> dict[str, bytes]:
    """All four plots as {"roc", "pr", "calibration", "net_benefit"} -> PNG bytes (net benefit only with ``curve``)."""
    plots = {
        "roc": roc_png(y_true, y_prob),
        "pr": pr_png(y_true, y_prob),
        "calibration": calibration_png(y_true, y_prob, n_bins=n_bins, lowess_frac=lowess_frac),
    }
    if curve is not None:
        plots["net_benefit"] = net_benefit_png(curve)
    return plots


# ----------------------------------------------------------------- feature importance
def global_feature_importance(model: Any, X: pd.DataFrame) -> pd.DataFrame:
    """Global importance per feature, sorted descending: columns feature, importance, method.

    - LightGBM (``LGBMClassifier`` or ``Booster``): mean |SHAP| over the rows
      of ``X``, from LightGBM's built-in TreeSHAP (``pred_contrib=True``, log-odds
      scale); method "mean_abs_tree_shap".
    - scikit-learn linear models (a fitted ``LogisticRegression`` or a
      ``Pipeline`` ending in one): |coefficient| × standard deviation of the
      transformed feature in ``X`` (the standardised coefficient; equal to
      |coef| after a StandardScaler); method "abs_standardised_coef".

    Why: the model card and reviewers need to see what drives the risk score;
    SHAP ranks are comparable across tree models, standardised coefficients
    across linear ones.  A ``TrainedModel``'s ``.estimator`` is unwrapped.
    """
    estimator = getattr(model, "estimator", model)
    booster = getattr(estimator, "booster_", None)
    if booster is None and type(estimator).__name__ == "Booster":
        booster = estimator
    if booster is not None:
        contrib = np.asarray(booster.predict(X, pred_contrib=True))
        names = list(booster.feature_name())
        if contrib.shape[1] != len(names) + 1:
            raise ValueError("pred_contrib output is not (n, n_features + 1); multiclass models are not supported")
        values = np.abs(contrib[:, :-1]).mean(axis=0)
        method = "mean_abs_tree_shap"
    else:
        final = estimator[-1] if hasattr(estimator, "steps") else estimator
        coef = getattr(final, "coef_", None)
        if coef is None:
            raise TypeError(
                f"global_feature_importance supports LightGBM and linear scikit-learn models, got {type(final).__name__}"
            )
        if hasattr(estimator, "steps") and len(estimator.steps) > 1:
            transformed = estimator[:-1].transform(X)
            names = list(estimator[:-1].get_feature_names_out())
        else:
            transformed = X
            names = list(getattr(final, "feature_names_in_", getattr(X, "columns", range(np.shape(X)[1]))))
        sd = np.nanstd(np.asarray(transformed, dtype=np.float64), axis=0)
        values = np.abs(np.asarray(coef, dtype=np.float64).ravel()) * sd
        method = "abs_standardised_coef"
    table = pd.DataFrame({"feature": [str(n) for n in names], "importance": values, "method": method})
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------- entry point
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
    subgroup audit, so every candidate is judged on the same evidence.
    """
    config = config or EvaluationConfig()
    y, p = _validate(y_true, y_prob)
    metrics = evaluate_binary(y, p, n_bootstrap=config.n_bootstrap, seed=config.seed)
    metrics.update(calibration_metrics(y, p, n_bins=config.calibration_bins, lowess_frac=config.lowess_frac))

    fixed = _threshold_metrics(y, p, config.threshold)
    target = _threshold_metrics(y, p, _threshold_for_sensitivity(y, p, config.target_sensitivity))
    thresholds = pd.DataFrame(
        [{"operating_point": "fixed", **fixed}, {"operating_point": "target_sensitivity", **target}]
    )
    metrics.update({f"fixed_{k}": v for k, v in fixed.items()})
    metrics.update({f"target_sens_{k}": v for k, v in target.items()})
    metrics["target_sens_target"] = float(config.target_sensitivity)

    grid = threshold_grid(config.net_benefit_range[0], config.net_benefit_range[1], config.net_benefit_step)
    curve = _net_benefit(y, p, grid)
    at = _net_benefit(y, p, [config.threshold]).iloc[0]
    metrics["net_benefit_model_at_threshold"] = float(at["net_benefit_model"])
    metrics["net_benefit_treat_all_at_threshold"] = float(at["net_benefit_treat_all"])

    if groups is not None:
        subgroups = subgroup_metrics(y, p, groups, config.threshold, config.min_subgroup_size)
        metrics.update(subgroup_summary(subgroups))
    else:
        subgroups = pd.DataFrame(columns=list(SUBGROUP_COLUMNS))

    calibration = calibration_bins(y, p, n_bins=config.calibration_bins)
    plots = (
        evaluation_plots(y, p, curve, n_bins=config.calibration_bins, lowess_frac=config.lowess_frac)
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
