"""Hand-made outcome/score arrays the evaluation tests share (a helper module, not a test module)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Y6 = np.array([0, 0, 1, 1, 0, 1])
P6 = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
# 10 rows for threshold metrics: positives score 0.9, 0.6, 0.3, 0.15
Y10 = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
P10 = np.array([0.9, 0.6, 0.3, 0.15, 0.7, 0.4, 0.25, 0.1, 0.05, 0.2])


def calibrated_data(n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcomes drawn from the true risks: returns (y, true risk, linear predictor)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-1.5, 1.0, n)
    p = expit(z)
    y = (rng.random(n) < p).astype(int)
    return y, p, z
