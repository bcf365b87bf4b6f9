"""Light hyper-parameter search, scored on a temporal validation split carved from the training split.

Why temporal: the model is used on discharges after the ones it was trained on, so the
trials are scored on the latest ~20 % of the *training* index dates (fitted on the earlier
80 %), the way the test split is held out. The test split never reaches this module: it is
kept for the final, once-only evaluation. The best trial's parameters are then refit on the
whole training split by the caller.

The grids are small and fixed; ``max_trials`` below a grid's size draws a seeded sample of
it, so a search is reproducible for a seed. Ties in validation AUROC go to the earlier trial.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from mlhops_dagster.modeling.trainers import TrainedModel, train_lightgbm, train_logistic_regression

__all__ = ["SEARCH_GRIDS", "SearchResult", "Trial", "hyperparameter_search", "temporal_validation_mask"]

logger = logging.getLogger(__name__)

SEARCH_GRIDS: dict[str, list[dict[str, Any]]] = {
    "lightgbm": [
        {"num_leaves": leaves, "learning_rate": rate, "min_child_samples": child}
        for leaves, rate, child in itertools.product((7, 15, 31), (0.03, 0.1), (10, 40))
    ],
    "logistic_regression": [
        {"penalty": penalty, "C": c} for penalty, c in itertools.product(("l1", "l2"), (0.1, 1.0, 10.0))
    ],
}
"""The searched families and their grids (the DP MLP is not searched: every trial would spend privacy budget)."""

_FIT: dict[str, Callable[..., TrainedModel]] = {
    "lightgbm": train_lightgbm,
    "logistic_regression": train_logistic_regression,
}


@dataclass(frozen=True)
class Trial:
    number: int
    params: dict[str, Any]
    val_auroc: float


@dataclass(frozen=True)
class SearchResult:
    family: str
    trials: tuple[Trial, ...]
    best: Trial
    validation_start: pd.Timestamp  # first index date of the validation rows
    validation_end: pd.Timestamp
    n_fit: int
    n_validation: int

    def parent_params(self) -> dict[str, str]:
        """What the candidate's (parent) MLflow run records about the search: ``best_*`` and the window."""
        return {
            **{f"best_{k}": str(v) for k, v in self.best.params.items()},
            "search_validation_start": str(self.validation_start.date()),
            "search_validation_end": str(self.validation_end.date()),
            "search_validation_rows": str(self.n_validation),
        }

    def trial_records(self) -> list[dict[str, Any]]:
        """One record per trial (number, whether it is the best, its parameters, validation AUROC), for tables."""
        return [
            {"trial": t.number, "best": t.number == self.best.number, **t.params, "validation_auroc": t.val_auroc}
            for t in self.trials
        ]


def temporal_validation_mask(index_dates: pd.Series, fraction: float = 0.2) -> np.ndarray:
    """True for the rows whose index date is among the latest ``fraction`` of the training rows' dates.

    Rows sharing the cutoff date all go to validation, so no date is on both sides.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    dates = pd.to_datetime(pd.Series(index_dates)).to_numpy()
    if len(dates) == 0:
        raise ValueError("no training rows to split")
    cutoff = np.sort(dates)[int(np.floor(len(dates) * (1 - fraction)))]
    return dates >= cutoff


def _trial_params(family: str, max_trials: int, seed: int) -> list[dict[str, Any]]:
    grid = SEARCH_GRIDS[family]
    if max_trials >= len(grid):
        return list(grid)
    picked = np.random.default_rng(seed).choice(len(grid), size=max_trials, replace=False)
    return [grid[i] for i in sorted(picked)]


def hyperparameter_search(
    family: str,
    X: pd.DataFrame,
    y: pd.Series,
    index_dates: pd.Series,
    seed: int = 0,
    max_trials: int = 6,
    base_params: dict[str, Any] | None = None,
    validation_fraction: float = 0.2,
) -> SearchResult:
    """Fit up to ``max_trials`` grid points on the earlier training rows and score each by AUROC on the latest
    ``validation_fraction`` of them. ``X``, ``y`` and ``index_dates`` are the training split only.

    ValueError when the family is not searched, ``max_trials`` < 1, or either side of the split lacks a class.
    """
    if family not in SEARCH_GRIDS:
        raise ValueError(f"no search grid for model family {family!r} (searched: {sorted(SEARCH_GRIDS)})")
    if max_trials < 1:
        raise ValueError(f"max_trials must be >= 1, got {max_trials}")
    y_arr = np.asarray(y).astype(int)
    validation = temporal_validation_mask(index_dates, validation_fraction)
    if len(set(y_arr[validation])) < 2 or len(set(y_arr[~validation])) < 2:
        raise ValueError("the temporal validation split leaves a single class on one side; too little data to search")
    X_fit, y_fit = X[~validation], y_arr[~validation]
    X_val, y_val = X[validation], y_arr[validation]
    trials = []
    points = _trial_params(family, max_trials, seed)
    for number, point in enumerate(points):
        started = time.perf_counter()
        params = {**(base_params or {}), **point}
        model = _FIT[family](X_fit, y_fit, seed=seed, **params)
        auroc = float(roc_auc_score(y_val, model.estimator.predict_proba(X_val)[:, 1]))
        trials.append(Trial(number, params, auroc))
        logger.info(
            "%s search trial %d/%d %s: validation AUROC %.4f in %.1fs",
            family,
            number + 1,
            len(points),
            params,
            auroc,
            time.perf_counter() - started,
        )
    best = max(trials, key=lambda t: (t.val_auroc, -t.number))
    dates = pd.to_datetime(pd.Series(index_dates)).to_numpy()[validation]
    return SearchResult(
        family,
        tuple(trials),
        best,
        pd.Timestamp(dates.min()),
        pd.Timestamp(dates.max()),
        int((~validation).sum()),
        int(validation.sum()),
    )
