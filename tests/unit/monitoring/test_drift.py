"""Data drift: Evidently 0.7 scores and verdicts, our PSI, HTML report and fingerprint."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from mlhops_dagster.monitoring.drift import DriftResult, compute_drift, most_drifted, population_stability_index

N_ROWS = 300
NUMERIC = ["x0", "x1", "x2", "x3", "x4", "x5"]
SHIFTED = ["x0", "x1", "x2"]  # half of the numeric columns
COLUMNS = [*NUMERIC, "flag"]


def sample(seed: int, shift: float = 0.0, n: int = N_ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {c: rng.normal(10.0, 2.0, n) + (shift * 2.0 if c in SHIFTED else 0.0) for c in NUMERIC}
    data["flag"] = rng.integers(0, 2, n).astype("int32")
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return sample(seed=1)


@pytest.fixture(scope="module")
def same(reference: pd.DataFrame) -> DriftResult:
    return compute_drift(reference, sample(seed=2), COLUMNS)


@pytest.fixture(scope="module")
def shifted(reference: pd.DataFrame) -> DriftResult:
    return compute_drift(reference, sample(seed=3, shift=3.0), COLUMNS)  # +3 sd on half the columns


def test_same_distribution_has_little_drift(same: DriftResult) -> None:
    assert same.n_columns == len(COLUMNS)
    assert same.share_drifted <= 0.2
    assert set(same.per_feature) == set(same.per_feature_drifted) == set(COLUMNS)
    assert same.n_drifted == sum(same.per_feature_drifted.values())
    assert same.methods["x0"] == "K-S p_value"  # <= 1000 reference rows: p-values
    assert all(same.per_feature[c] > same.thresholds[c] for c in SHIFTED)


def test_shifted_columns_are_flagged(shifted: DriftResult) -> None:
    assert shifted.share_drifted >= 0.4
    assert set(SHIFTED) <= set(shifted.drifted_columns)
    assert not {"x3", "x4", "x5", "flag"} & set(shifted.drifted_columns)
    assert math.isclose(shifted.share_drifted, shifted.n_drifted / shifted.n_columns)
    assert all(shifted.per_feature[c] < 1e-6 for c in SHIFTED)  # K-S p-values


def test_psi_small_when_stable_large_when_shifted(same: DriftResult, shifted: DriftResult) -> None:
    assert set(same.psi) == set(COLUMNS)
    # sampling noise alone gives PSI ~ (bins - 1) * (1/n_ref + 1/n_cur) ~ 0.06 here
    assert all(value < 0.25 for value in same.psi.values())
    assert np.mean(list(same.psi.values())) < 0.1
    assert all(shifted.psi[c] > 1.0 for c in SHIFTED)
    assert all(shifted.psi[c] < 0.25 for c in ("x3", "x4", "x5", "flag"))


def test_population_stability_index_by_hand() -> None:
    values = np.arange(100, dtype=float)
    assert population_stability_index(values, values) == 0.0
    # flags: one bin per reference value; 50/50 -> 10/90
    ref = np.array([0] * 50 + [1] * 50)
    cur = np.array([0] * 10 + [1] * 90)
    expected = (0.1 - 0.5) * math.log(0.1 / 0.5) + (0.9 - 0.5) * math.log(0.9 / 0.5)
    assert math.isclose(population_stability_index(ref, cur), expected, rel_tol=1e-9)
    # a value never seen in the reference and missing values get their own bins
    assert population_stability_index(ref, np.array([2.0] * 100)) > 5
    assert population_stability_index(values, np.full(100, np.nan)) > 5
    # epsilon smoothing keeps it finite when a bin empties
    assert math.isfinite(population_stability_index(values, values + 1000))


def test_html_report(same: DriftResult) -> None:
    assert same.html
    assert "<html" in same.html.lower()


def test_fingerprint_is_stable_and_sensitive(reference: pd.DataFrame, same: DriftResult, shifted: DriftResult) -> None:
    again = compute_drift(reference.copy(), sample(seed=2), COLUMNS)
    assert again.fingerprint == same.fingerprint
    assert len(same.fingerprint) == 64
    assert shifted.fingerprint != same.fingerprint
    assert "html" not in same.summary() and same.summary()["fingerprint"] == same.fingerprint


def test_nan_constant_and_categorical_columns_do_not_crash() -> None:
    n = 200
    rng = np.random.default_rng(7)
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "all_nan": np.full(n, np.nan),
            "nan_now": rng.normal(size=n),
            "constant": np.full(n, 5.0),
            "partly_nan": np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n)),
            "nullable": pd.array(rng.integers(0, 3, n), dtype="Int64"),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    cur = ref.sample(frac=1.0, random_state=3).reset_index(drop=True)
    cur["nan_now"] = np.nan  # a feature that stopped arriving
    cur.loc[:10, "nullable"] = pd.NA
    columns = list(ref.columns)
    result = compute_drift(ref, cur, columns)
    assert set(result.skipped) == {"all_nan", "nan_now"}
    assert result.n_columns == len(columns) - 2
    assert set(result.per_feature) == set(columns) - {"all_nan", "nan_now"}
    assert result.per_feature_drifted["constant"] is False
    assert result.psi["all_nan"] == 0.0
    assert result.psi["nan_now"] > 5  # the missing-value bin shows the break
    assert "sex" not in result.psi  # PSI is for numeric columns only
    assert "<html" in result.html


def test_all_columns_untestable() -> None:
    ref = pd.DataFrame({"a": [np.nan] * 5})
    result = compute_drift(ref, ref.copy(), ["a"])
    assert (result.n_columns, result.n_drifted, result.share_drifted) == (0, 0, 0.0)
    assert result.skipped == {"a": "all values missing in the reference data"}
    assert "<html" in result.html


def test_bad_inputs() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(KeyError, match="b"):
        compute_drift(frame, frame, ["a", "b"])
    with pytest.raises(ValueError):
        compute_drift(frame, frame.iloc[:0], ["a"])


def test_large_samples_use_distance_scores() -> None:
    columns = ["x0", "x3"]
    ref = sample(seed=11, n=1500)[columns]
    cur = sample(seed=12, shift=3.0, n=1500)[columns]
    result = compute_drift(ref, cur, columns)
    assert result.methods["x0"] == "Wasserstein distance (normed)"
    assert result.per_feature["x0"] >= result.thresholds["x0"]  # distance: drift at or above
    assert result.per_feature_drifted == {"x0": True, "x3": False}


def test_progress_is_logged_per_batch(reference: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="mlhops_dagster.monitoring.drift"):
        result = compute_drift(reference, sample(seed=3, shift=3.0, n=120), COLUMNS, batch="extract e2")
    messages = [r.getMessage() for r in caplog.records if r.name == "mlhops_dagster.monitoring.drift"]
    assert (
        messages[0]
        == f"drift of extract e2: 120 rows against {N_ROWS} reference rows on 7 columns (0 skipped: all missing)"
    )
    assert messages[-1].startswith(
        f"drift of extract e2: {result.n_drifted} of 7 columns drifted (share {result.share_drifted:.3f}): "
    )
    assert all(c in messages[-1] for c in result.drifted_columns)


def test_most_drifted_puts_drifted_features_first_then_by_psi() -> None:
    result = DriftResult(
        share_drifted=0.5,
        n_drifted=2,
        n_columns=4,
        per_feature={"a": 0.5, "b": 0.01, "c": 0.3, "sex": 0.001},
        per_feature_drifted={"a": False, "b": True, "c": False, "sex": True},
        psi={"a": 0.05, "b": 0.4, "c": 0.2},
        html="",
        fingerprint="f",
        methods={"a": "K-S p_value", "b": "K-S p_value", "c": "K-S p_value", "sex": "chi-square p_value"},
    )
    records = most_drifted(result)
    assert [r["feature"] for r in records] == ["b", "sex", "c", "a"]
    assert records[0] == {"feature": "b", "drift_score": 0.01, "drifted": True, "psi": 0.4, "method": "K-S p_value"}
    assert math.isnan(records[1]["psi"])  # no PSI for a categorical column
    assert [r["feature"] for r in most_drifted(result, limit=2)] == ["b", "sex"]
