"""Operating points: confusion counts and rates at a threshold, the threshold for a target sensitivity, net benefit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlhops_dagster.modeling.evaluation._inputs import binary_metric, safe_div

__all__ = ["THRESHOLD_KEYS", "net_benefit", "threshold_for_sensitivity", "threshold_grid", "threshold_metrics"]

THRESHOLD_KEYS = (
    "threshold", "tp", "fp", "tn", "fn", "sensitivity", "specificity", "ppv", "npv", "alert_rate"
)  # fmt: skip


@binary_metric
def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Confusion counts and rates when patients with ``p >= threshold`` are flagged.

    Keys: threshold, tp, fp, tn, fn, sensitivity, specificity, ppv, npv,
    alert_rate (fraction flagged).  A rate whose denominator is 0 (e.g. PPV
    when nobody is flagged) is NaN.  Why: a deployed readmission model acts at
    one operating point; clinicians need the alert burden and PPV there, not an
    AUROC.
    """
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
        "sensitivity": safe_div(tp, tp + fn),
        "specificity": safe_div(tn, tn + fp),
        "ppv": safe_div(tp, tp + fp),
        "npv": safe_div(tn, tn + fn),
        "alert_rate": float((tp + fp) / len(y)),
    }


@binary_metric
def threshold_for_sensitivity(y: np.ndarray, p: np.ndarray, target_sensitivity: float) -> float:
    """Highest threshold ``t`` (flag ``p >= t``) whose sensitivity is >= ``target_sensitivity``.

    That is the k-th largest score among the positives, k = ceil(target · n_positive).
    Why: "catch 80 % of readmissions" is how clinical teams state an operating
    point; the highest such threshold gives the fewest alerts.
    """
    if not 0 < target_sensitivity <= 1:
        raise ValueError(f"target_sensitivity must be in (0, 1], got {target_sensitivity}")
    positives = np.sort(p[y == 1])[::-1]
    k = max(1, int(np.ceil(target_sensitivity * len(positives) - 1e-9)))
    return float(positives[k - 1])


def threshold_grid(start: float, stop: float, step: float) -> np.ndarray:
    """Thresholds ``start, start + step, ..., <= stop`` (rounded to 10 decimals), all in (0, 1)."""
    if not 0 < start <= stop < 1:
        raise ValueError(f"net-benefit thresholds need 0 < start <= stop < 1, got ({start}, {stop})")
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return np.round(start + step * np.arange(count), 10)


@binary_metric
def net_benefit(y: np.ndarray, p: np.ndarray, thresholds: Any) -> pd.DataFrame:
    """Decision-curve analysis (Vickers & Elkin 2006).

    For each threshold probability ``pt`` (flag ``p >= pt``):
    ``NB_model = TP/n − FP/n · pt/(1 − pt)``, ``NB_treat_all = prev − (1 − prev) · pt/(1 − pt)``,
    ``NB_treat_none = 0``.  Why: it weighs true alerts against false alerts
    at the exchange rate implied by the threshold, so it answers "is acting on
    the model better than intervening on everyone / no one?".

    Columns: threshold, net_benefit_model, net_benefit_treat_all,
    net_benefit_treat_none, tp, fp.
    """
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
