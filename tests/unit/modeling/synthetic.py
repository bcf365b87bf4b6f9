"""Synthetic EHR-like training data the modeling tests share (a helper module, not a test module)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_data(n: int = 1500, p: int = 24, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """EHR-like synthetic data: some 0/1 flags, ~5 % missing values, ~15-20 % positives, 8 informative columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, : min(p, 4)] = (X[:, : min(p, 4)] > 0.3).astype(float)
    w = np.zeros(p)
    k = min(p, 8)
    w[:k] = [1.2, 0.9, -0.8, 0.7, 0.9, -0.8, 0.7, 0.6][:k]
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w - 2.2)))).astype(int)
    X[rng.random((n, p)) < 0.05] = np.nan
    return pd.DataFrame(X, columns=[f"feat_{i:02d}" for i in range(p)]), pd.Series(y, name="readmitted_30d")
