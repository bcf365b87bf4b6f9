"""Discrimination and overall accuracy: AUROC, AUPRC, Brier and scaled Brier with percentile-bootstrap CIs."""

from __future__ import annotations

import logging
import time

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from mlhops_dagster.modeling.evaluation._inputs import binary_metric

__all__ = ["evaluate_binary", "scaled_brier"]

logger = logging.getLogger(__name__)


@binary_metric
def scaled_brier(y: np.ndarray, p: np.ndarray) -> float:
    """Scaled Brier score ``1 - Brier / (prevalence * (1 - prevalence))``.

    Why: the raw Brier score depends on the outcome rate, so it cannot be
    compared across cohorts; scaling by the Brier score of the prevalence-only
    model (which predicts the observed rate for everyone) gives a 0 (no better
    than the base rate) .. 1 (perfect) index, like an R².  Negative values mean
    worse than predicting the prevalence.
    """
    prevalence = float(y.mean())
    reference = prevalence * (1 - prevalence)
    return 1.0 - float(np.mean((p - y) ** 2)) / reference if reference > 0 else float("nan")


@binary_metric
def evaluate_binary(y: np.ndarray, p: np.ndarray, n_bootstrap: int = 200, seed: int = 0) -> dict[str, float]:
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
    n = len(y)
    out: dict[str, float] = {
        "auroc": float(roc_auc_score(y, p)),
        "auprc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "scaled_brier": scaled_brier.unchecked(y, p),
    }
    started = time.perf_counter()
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
        boot["scaled_brier"].append(scaled_brier.unchecked(yb, pb))
    for name, values in boot.items():
        if values:
            lo, hi = np.percentile(values, [2.5, 97.5])
        else:
            lo = hi = float("nan")
        out[f"{name}_ci_low"] = float(lo)
        out[f"{name}_ci_high"] = float(hi)
    logger.info(
        "bootstrap: %d of %d resamples kept (n = %d) in %.2fs",
        len(boot["auroc"]),
        int(n_bootstrap),
        n,
        time.perf_counter() - started,
    )
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
