"""Evaluation figures as PNG bytes: ROC, precision-recall, calibration, decision curve.

Every figure is a ``matplotlib.figure.Figure`` on an Agg canvas (no pyplot global state, safe in worker
processes without a display); matplotlib is imported inside the functions.
"""

from __future__ import annotations

import io
import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from mlhops_dagster.modeling.evaluation._inputs import binary_metric
from mlhops_dagster.modeling.evaluation.calibration import calibration_bins, lowess

__all__ = ["calibration_png", "evaluation_plots", "net_benefit_png", "pr_png", "roc_png", "roc_pr_calibration_png"]

logger = logging.getLogger(__name__)


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


@binary_metric
def roc_pr_calibration_png(y: np.ndarray, p: np.ndarray, title: str, n_bins: int = 10, dpi: int = 100) -> bytes:
    """ROC curve, precision-recall curve and reliability diagram side by side, as PNG bytes.

    The reliability diagram uses quantile bins (robust for low-prevalence
    outcomes) with a histogram of predicted risk underneath.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

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


@binary_metric
def roc_png(y: np.ndarray, p: np.ndarray, dpi: int = 100) -> bytes:
    """ROC curve with the AUROC in the legend, as PNG bytes."""
    from sklearn.metrics import roc_curve

    fig, ax = _new_figure((5, 4.5), dpi)
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr, color="C0", lw=1.8, label=f"AUROC = {roc_auc_score(y, p):.3f}")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax.set(xlabel="1 − specificity", ylabel="Sensitivity", title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    return _png(fig)


@binary_metric
def pr_png(y: np.ndarray, p: np.ndarray, dpi: int = 100) -> bytes:
    """Precision-recall curve against the prevalence baseline, as PNG bytes."""
    from sklearn.metrics import precision_recall_curve

    fig, ax = _new_figure((5, 4.5), dpi)
    precision, recall, _ = precision_recall_curve(y, p)
    ax.step(recall, precision, where="post", color="C1", lw=1.8, label=f"AUPRC = {average_precision_score(y, p):.3f}")
    ax.axhline(float(y.mean()), ls="--", color="grey", lw=1, label=f"prevalence = {y.mean():.3f}")
    ax.set(
        xlabel="Sensitivity (recall)", ylabel="PPV (precision)", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.01)
    )
    ax.legend(loc="upper right")
    return _png(fig)


@binary_metric
def calibration_png(
    y: np.ndarray, p: np.ndarray, n_bins: int = 10, lowess_frac: float = 2.0 / 3.0, dpi: int = 100
) -> bytes:
    """Calibration plot: lowess observed-risk curve, equal-width bin points (sized by n), diagonal, risk histogram."""
    fig, ax = _new_figure((5, 4.5), dpi)
    order = np.argsort(p, kind="stable")
    smooth = lowess(p, y, frac=lowess_frac)
    bins = calibration_bins.unchecked(y, p, n_bins=n_bins)
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


@binary_metric
def evaluation_plots(
    y: np.ndarray,
    p: np.ndarray,
    curve: pd.DataFrame | None = None,
    n_bins: int = 10,
    lowess_frac: float = 2.0 / 3.0,
) -> dict[str, bytes]:
    """All four plots as {"roc", "pr", "calibration", "net_benefit"} -> PNG bytes (net benefit only with ``curve``)."""
    started = time.perf_counter()
    plots = {
        "roc": roc_png.unchecked(y, p),
        "pr": pr_png.unchecked(y, p),
        "calibration": calibration_png.unchecked(y, p, n_bins=n_bins, lowess_frac=lowess_frac),
    }
    if curve is not None:
        plots["net_benefit"] = net_benefit_png(curve)
    logger.info("evaluation plots (%s) drawn in %.2fs", ", ".join(plots), time.perf_counter() - started)
    return plots
