"""Data drift between a training reference and a new batch: Evidently 0.7 plus our own PSI.

:func:`compute_drift` runs Evidently's data-drift metrics on the requested columns and
returns, in one :class:`DriftResult`, the share of drifted columns, Evidently's per-column
drift score and verdict, a population stability index per numeric column, the full
Evidently HTML report and a fingerprint that the drift sensor uses as an idempotent run key.

Evidently picks the test per column (``evidently.legacy.calculations.stattests.registry``):
with at most 1000 reference rows, numeric columns get Kolmogorov-Smirnov (or chi-square /
Z-test when there are at most 5 distinct values) and the score is a **p-value** (drift when
below 0.05); with more than 1000 reference rows they get the normed Wasserstein distance
(or Jensen-Shannon with at most 5 distinct values) and the score is a **distance** (drift
when at or above 0.1). ``DriftResult.methods`` and ``DriftResult.thresholds`` say which
applied; pass ``method=``/``threshold=`` to pin one for every column.

Columns that are entirely missing in the reference or in the current batch cannot be tested
by Evidently (it raises); they are left out of the Evidently report and of
``share_drifted`` and listed, with the reason, in ``DriftResult.skipped``. Their PSI is
still computed (the missing-value bin makes an all-missing batch show up as a large PSI).
Columns constant in the reference are handled by Evidently itself.

The report is the metrics of ``DataDriftPreset`` listed directly: ``DriftedColumnsCount``
and one ``ValueDrift`` per column, with the preset's defaults, so the same tests, scores and
verdicts. The preset itself would also recompute every column through Evidently's legacy
``DatasetDriftMetric`` and ``DataDriftTable`` only to draw its summary table: on 169 columns
and 1,300 rows that took 26.7 s against 7.4 s for the metrics alone, with identical results.
The HTML therefore shows the drifted-column count and one drift widget per column (verdict,
score, method, distributions) instead of the preset's table; the ``drift_report`` asset's
metadata tables the most drifted features.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from mlhops_dagster.features import data_fingerprint

logger = logging.getLogger(__name__)

_LOG_COMPARING = "drift of %s: %d rows against %d reference rows on %d columns (%d skipped: all missing)"
_LOG_DRIFTED = "drift of %s: %d of %d columns drifted (share %.3f)%s"

PSI_BINS = 10
PSI_EPSILON = 1e-4


@dataclass
class DriftResult:
    """Outcome of :func:`compute_drift`."""

    share_drifted: float
    """Share of the tested columns that Evidently flags as drifted (0..1)."""
    n_drifted: int
    n_columns: int
    """Number of columns Evidently tested (requested columns minus ``skipped``)."""
    per_feature: dict[str, float]
    """Evidently's drift score per tested column: a p-value or a distance, see ``methods``."""
    per_feature_drifted: dict[str, bool]
    psi: dict[str, float]
    """Population stability index per numeric requested column (see :func:`population_stability_index`)."""
    html: str
    """The full, standalone Evidently HTML report."""
    fingerprint: str
    """sha256 of (reference fingerprint, current fingerprint, results): an idempotent run key."""
    methods: dict[str, str] = field(default_factory=dict)
    """The statistical test Evidently used per tested column."""
    thresholds: dict[str, float] = field(default_factory=dict)
    """The drift threshold per tested column (p-value: drift below; distance: drift at or above)."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Requested columns left out of the Evidently report, with the reason."""

    @property
    def drifted_columns(self) -> list[str]:
        """Tested columns flagged as drifted, sorted by name."""
        return sorted(c for c, drifted in self.per_feature_drifted.items() if drifted)

    def summary(self) -> dict:
        """Everything but the HTML, JSON-serialisable (for Dagster metadata / MLflow)."""
        data = asdict(self)
        data.pop("html")
        data["drifted_columns"] = self.drifted_columns
        return data


def population_stability_index(
    reference: Sequence[float] | pd.Series | np.ndarray,
    current: Sequence[float] | pd.Series | np.ndarray,
    bins: int = PSI_BINS,
    epsilon: float = PSI_EPSILON,
) -> float:
    """Population stability index of ``current`` against ``reference``.

    ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` over bins built from the reference only:

    - a column with at most ``bins`` distinct reference values (flags, small counts) gets
      one bin per reference value plus one bin for values never seen in the reference;
    - otherwise the interior edges are the reference deciles (``bins`` quantile bins,
      duplicate edges merged), with open outer bins so that out-of-range current values
      land in the first/last bin;
    - missing values (NaN) always get a bin of their own, so a change in missingness counts.

    Bin shares are floored at ``epsilon`` (smoothing, so empty bins do not give ``inf``).
    Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
    """
    ref = _as_float(reference)
    cur = _as_float(current)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    ref_values = ref[~np.isnan(ref)]
    cur_values = cur[~np.isnan(cur)]
    distinct = np.unique(ref_values)
    if distinct.size <= bins:
        # one bin per reference value, the last bin for unseen values
        def assign(values: np.ndarray) -> np.ndarray:
            pos = np.searchsorted(distinct, values)
            known = pos < distinct.size
            known[known] = distinct[pos[known]] == values[known]
            return np.where(known, pos, distinct.size)

        n_value_bins = distinct.size + 1
    else:
        edges = np.unique(np.quantile(ref_values, np.linspace(0.0, 1.0, bins + 1)[1:-1]))

        def assign(values: np.ndarray) -> np.ndarray:
            return np.searchsorted(edges, values, side="right")

        n_value_bins = edges.size + 1

    def shares(values: np.ndarray, n_missing: int, total: int) -> np.ndarray:
        counts = np.bincount(assign(values), minlength=n_value_bins).astype(float)
        counts = np.append(counts, float(n_missing))
        return np.maximum(counts / total, epsilon)

    r = shares(ref_values, ref.size - ref_values.size, ref.size)
    c = shares(cur_values, cur.size - cur_values.size, cur.size)
    return float(np.sum((c - r) * np.log(c / r)))


def compute_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    *,
    method: str | None = None,
    threshold: float | None = None,
    batch: str = "current",
) -> DriftResult:
    """Compare ``current`` with ``reference`` on ``columns`` (Evidently data drift + PSI).

    ``method``/``threshold`` pin Evidently's test and threshold for every column (e.g.
    ``method="psi", threshold=0.2``); by default Evidently chooses per column (see the
    module docstring). ``batch`` names the current data in the log (e.g. its partition).
    Raises ``ValueError`` if a frame has no rows and ``KeyError`` if a column is missing
    from either frame.
    """
    columns = list(dict.fromkeys(columns))
    missing = [c for c in columns if c not in reference.columns or c not in current.columns]
    if missing:
        raise KeyError(f"columns missing from reference or current data: {missing}")
    if not columns:
        raise ValueError("compute_drift needs at least one column")
    if len(reference) == 0 or len(current) == 0:
        raise ValueError("compute_drift needs at least one row in both reference and current data")

    ref = _prepare(reference[columns])
    cur = _prepare(current[columns])

    skipped = _untestable(ref, cur, columns)
    tested = [c for c in columns if c not in skipped]
    logger.info(_LOG_COMPARING, batch, len(current), len(reference), len(tested), len(skipped))

    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(ref[c]) and pd.api.types.is_numeric_dtype(cur[c])]
    psi = {c: population_stability_index(ref[c], cur[c]) for c in numeric}

    per_feature: dict[str, float] = {}
    drifted: dict[str, bool] = {}
    methods: dict[str, str] = {}
    thresholds: dict[str, float] = {}
    if tested:
        snapshot = _run_evidently(
            ref[tested], cur[tested], tested, [c for c in tested if c in numeric], method, threshold
        )
        per_feature, drifted, methods, thresholds = _parse_snapshot(snapshot.dict(), tested)
        report_html = snapshot.get_html_str(as_iframe=False)
    else:
        report_html = _empty_report_html(skipped)

    n_drifted = sum(drifted.values())
    n_columns = len(tested)
    result = DriftResult(
        share_drifted=n_drifted / n_columns if n_columns else 0.0,
        n_drifted=n_drifted,
        n_columns=n_columns,
        per_feature=per_feature,
        per_feature_drifted=drifted,
        psi=psi,
        html=report_html,
        fingerprint="",
        methods=methods,
        thresholds=thresholds,
        skipped=skipped,
    )
    result.fingerprint = _result_fingerprint(
        data_fingerprint(reference[columns]), data_fingerprint(current[columns]), result
    )
    logger.info(_LOG_DRIFTED, batch, n_drifted, n_columns, result.share_drifted, _names(result.drifted_columns))
    return result


def most_drifted(result: DriftResult, limit: int = 15) -> list[dict[str, object]]:
    """The ``limit`` tested columns to look at first: drifted ones first, then by PSI, largest first.

    One record per column: ``feature``, ``drift_score`` (Evidently's p-value or distance),
    ``drifted``, ``psi`` (NaN for a non-numeric column) and ``method``.
    """
    ranked = sorted(
        result.per_feature.items(),
        key=lambda kv: (not result.per_feature_drifted.get(kv[0]), -result.psi.get(kv[0], 0.0)),
    )[:limit]
    return [
        {
            "feature": name,
            "drift_score": score,
            "drifted": result.per_feature_drifted.get(name),
            "psi": result.psi.get(name, float("nan")),
            "method": result.methods.get(name),
        }
        for name, score in ranked
    ]


# --------------------------------------------------------------------------------------
# internals
# --------------------------------------------------------------------------------------


def _untestable(ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str]) -> dict[str, str]:
    """Columns Evidently cannot test (all values missing on one side), with the reason."""
    skipped: dict[str, str] = {}
    for column in columns:
        if ref[column].isna().all():
            skipped[column] = "all values missing in the reference data"
        elif cur[column].isna().all():
            skipped[column] = "all values missing in the current data"
    return skipped


def _as_float(values: Sequence[float] | pd.Series | np.ndarray) -> np.ndarray:
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain numpy dtypes Evidently understands: numbers and booleans as float64, the rest as object."""
    prepared = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            prepared[column] = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            objects = values.to_numpy(dtype=object, copy=True)
            objects[values.isna().to_numpy()] = None  # NaN, NA and NaT alike: Evidently's missing value
            prepared[column] = objects
    return pd.DataFrame(prepared, columns=frame.columns)


def _run_evidently(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    numerical: list[str],
    method: str | None,
    threshold: float | None,
):
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import DriftedColumnsCount, ValueDrift

    definition = DataDefinition(
        numerical_columns=numerical,
        categorical_columns=[c for c in columns if c not in numerical],
    )
    # DataDriftPreset's own metrics, without the preset's legacy summary table (see the module docstring)
    metrics = [DriftedColumnsCount(columns=columns, method=method, threshold=threshold)]
    metrics += [ValueDrift(column=column, method=method, threshold=threshold) for column in columns]
    report = Report(metrics, include_tests=True)
    with warnings.catch_warnings():
        # constant columns make numpy warn (0/0 in correlations and shares); the results are fine
        warnings.simplefilter("ignore", RuntimeWarning)
        return report.run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition),
        )


def _parse_snapshot(
    snapshot: dict, columns: list[str]
) -> tuple[dict[str, float], dict[str, bool], dict[str, str], dict[str, float]]:
    """Per-column score, verdict, method and threshold from ``Snapshot.dict()``.

    Scores come from the ``ValueDrift`` metrics; verdicts from their tests (status FAIL =
    drift), falling back to Evidently's rule (p-value below / distance at or above the
    threshold) if a test is absent.
    """
    scores: dict[str, float] = {}
    methods: dict[str, str] = {}
    thresholds: dict[str, float] = {}
    for metric in snapshot.get("metrics", []):
        config = metric.get("config", {})
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        column = config["column"]
        scores[column] = float(metric["value"])
        methods[column] = str(config.get("method"))
        thresholds[column] = float(config.get("threshold"))
    drifted: dict[str, bool] = {}
    for test in snapshot.get("tests", []):
        params = test.get("metric_config", {}).get("params", {})
        if params.get("type") == "evidently:metric_v2:ValueDrift" and "column" in params:
            drifted[params["column"]] = str(getattr(test["status"], "value", test["status"])) == "FAIL"
    for column in scores:
        if column not in drifted:
            if "p_value" in methods[column]:
                drifted[column] = scores[column] < thresholds[column]
            else:
                drifted[column] = scores[column] >= thresholds[column]
    absent = [c for c in columns if c not in scores]
    if absent:
        raise RuntimeError(f"Evidently returned no drift score for columns {absent}")
    order = {c: i for i, c in enumerate(columns)}
    ordered = sorted(scores, key=order.__getitem__)
    return (
        {c: scores[c] for c in ordered},
        {c: bool(drifted[c]) for c in ordered},
        {c: methods[c] for c in ordered},
        {c: thresholds[c] for c in ordered},
    )


def _empty_report_html(skipped: dict[str, str]) -> str:
    items = "".join(f"<li>{html_lib.escape(c)}: {html_lib.escape(r)}</li>" for c, r in skipped.items())
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Data drift</title></head><body>"
        "<h1>Data drift</h1><p>No column could be tested for drift.</p>"
        f"<ul>{items}</ul></body></html>"
    )


def _names(columns: list[str], limit: int = 10) -> str:
    """``": a, b, c"`` for a log line (at most ``limit`` names, then how many more); empty for none."""
    if not columns:
        return ""
    more = f" and {len(columns) - limit} more" if len(columns) > limit else ""
    return f": {', '.join(columns[:limit])}{more}"


def _stable_number(value: float) -> float | str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(f"{value:.10g}")


def _result_fingerprint(reference_fp: str, current_fp: str, result: DriftResult) -> str:
    payload = {
        "version": 1,
        "reference": reference_fp,
        "current": current_fp,
        "per_feature": {c: _stable_number(v) for c, v in result.per_feature.items()},
        "per_feature_drifted": result.per_feature_drifted,
        "methods": result.methods,
        "thresholds": {c: _stable_number(v) for c, v in result.thresholds.items()},
        "psi": {c: _stable_number(v) for c, v in result.psi.items()},
        "skipped": result.skipped,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
