"""Input checks shared by the evaluation metrics, done once at each public entry.

A metric is written once, on already-checked arrays, and decorated with :func:`binary_metric`:
called as ``metric(y_true, y_prob, ...)`` it checks and converts its inputs first; the package's own
compositions (``evaluate_candidate``, the bootstrap, the subgroup rows) call ``metric.unchecked(y, p, ...)``
on arrays they checked already, so nothing is validated twice and no public/private twin is needed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import numpy as np

P = ParamSpec("P")
R = TypeVar("R")

EPS = 1e-15


def check_scores(y_true: Any, y_prob: Any) -> tuple[np.ndarray, np.ndarray]:
    """(y as 0/1 ints, p as float64 in [0, 1]); ValueError naming what is wrong.

    ``y_prob`` may be the positive-class probability (1-D) or a ``predict_proba`` (n, 2) array.
    Both classes must be present: AUROC, AUPRC and the calibration fits are undefined otherwise.
    """
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


class BinaryMetric(Generic[P, R]):
    """A metric of (y, p): calling it checks raw inputs; ``unchecked`` is the same function on checked arrays."""

    def __init__(self, func: Callable[Concatenate[np.ndarray, np.ndarray, P], R]) -> None:
        self.unchecked = func
        functools.update_wrapper(self, func)

    def __call__(self, y_true: Any, y_prob: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        y, p = check_scores(y_true, y_prob)
        return self.unchecked(y, p, *args, **kwargs)


def binary_metric(func: Callable[Concatenate[np.ndarray, np.ndarray, P], R]) -> BinaryMetric[P, R]:
    """Decorate a metric written on checked ``(y, p)`` arrays so its public call checks raw inputs first."""
    return BinaryMetric(func)


def safe_div(num: float, den: float) -> float:
    """num / den, NaN when the denominator is 0 (a rate nobody is in)."""
    return float(num / den) if den else float("nan")


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) with p clipped to [1e-15, 1 - 1e-15], so risks of exactly 0 or 1 stay finite."""
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)
