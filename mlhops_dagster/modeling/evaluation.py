"""Test-set evaluation of binary risk scores: discrimination, calibration, bootstrap CIs, plots."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

__all__ = ["evaluate_binary", "roc_pr_calibration_png"]


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
    """AUROC, AUPRC (average precision) and Brier score with percentile-bootstrap 95 % CIs.

    ``y_prob`` is the positive-class probability (1-D) or a ``predict_proba``
    (n, 2) array.  Bootstrap resamples (rows drawn with replacement,
    ``np.random.default_rng(seed)``) that lack one of the classes are skipped;
    ``n_bootstrap_used`` reports how many were kept (CIs are NaN when none).

    Returns floats only (ready for ``mlflow.log_metrics``): auroc, auprc, brier,
    auroc_ci_low/high, auprc_ci_low/high, brier_ci_low/high, n, n_positive,
    prevalence, n_bootstrap_used, mean_predicted.

    Raises ValueError when y_true holds a single class (metrics undefined).
    """
    y, p = _validate(y_true, y_prob)
    n = len(y)
    out: dict[str, float] = {
        "auroc": float(roc_auc_score(y, p)),
        "auprc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
    }
    rng = np.random.default_rng(seed)
    boot: dict[str, list[float]] = {"auroc": [], "auprc": [], "brier": []}
    for _ in range(int(n_bootstrap)):
        idx = rng.integers(0, n, size=n)
        yb, pb = y[idx], p[idx]
        n_pos = int(yb.sum())
        if n_pos == 0 or n_pos == n:
            continue
        boot["auroc"].append(roc_auc_score(yb, pb))
        boot["auprc"].append(average_precision_score(yb, pb))
        boot["brier"].append(float(np.mean((pb - yb) ** 2)))
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
