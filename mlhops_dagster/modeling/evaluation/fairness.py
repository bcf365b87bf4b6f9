"""Subgroup audit: the attributes fairness is reported over (sex, race, age band, site) and per-group parity.

Cyclops / model-card practice: a model can look fine overall and fail a subgroup, so every candidate's
test-split metrics are recomputed per group and compared with the overall population; groups too small
to assess are listed, not hidden.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from mlhops_dagster.modeling.evaluation._inputs import binary_metric, safe_div
from mlhops_dagster.modeling.evaluation.calibration import calibration_in_the_large
from mlhops_dagster.modeling.evaluation.thresholds import threshold_metrics

__all__ = [
    "AGE_BANDS",
    "RACE_CONCEPTS",
    "SEX_CONCEPTS",
    "SUBGROUP_COLUMNS",
    "age_band",
    "demographics",
    "subgroup_attributes",
    "subgroup_metrics",
    "subgroup_summary",
]

SEX_CONCEPTS = {8507: "male", 8532: "female"}
"""OMOP gender concepts -> group label; any other concept is "other/unknown"."""
RACE_CONCEPTS = {8527: "white", 8516: "black", 8515: "asian"}
"""OMOP race concepts -> group label; any other concept is "other/unknown"."""
AGE_BANDS = (18, 45, 65, 80)

SUBGROUP_COLUMNS = (
    "attribute", "group", "status", "n", "n_positive", "prevalence", "mean_predicted", "auroc",
    "calibration_in_the_large", "oe_ratio", "sensitivity", "ppv", "alert_rate",
    "auroc_ratio", "oe_ratio_ratio", "sensitivity_ratio", "ppv_ratio", "alert_rate_ratio",
)  # fmt: skip
_GROUP_METRICS = SUBGROUP_COLUMNS[4:13]
_PARITY = ("auroc", "oe_ratio", "sensitivity", "ppv", "alert_rate")


def age_band(age: Any, edges: tuple[int, ...] = AGE_BANDS) -> pd.Series:
    """Age in years -> band label: with the default edges "<18", "18-44", "45-64", "65-79", "80+".

    Bands are left-closed (``45`` is in "45-64"); NaN ages stay NaN.  Why:
    fairness audits report metrics by coarse, clinically conventional age
    bands rather than raw age.
    """
    ages = pd.Series(age, dtype="float64") if not isinstance(age, pd.Series) else age.astype("float64")
    edges = tuple(int(e) for e in edges)
    if list(edges) != sorted(set(edges)) or not edges:
        raise ValueError(f"age band edges must be strictly increasing, got {edges}")
    labels = [f"<{edges[0]}"] + [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"{edges[-1]}+")
    bins = [-np.inf, *edges, np.inf]
    banded = pd.cut(ages, bins=bins, labels=labels, right=False)
    return banded.astype("object").where(banded.notna(), np.nan).rename("age_band")


def subgroup_attributes(cohort: pd.DataFrame) -> pd.DataFrame:
    """Sex, race, age band and site of each cohort row (the attributes fairness is reported over).

    ``cohort`` holds the feature table's ``gender_concept_id``, ``race_concept_id``, ``age_at_index`` and
    ``care_site_id``; the result has one row per cohort row, by position.
    """
    return pd.DataFrame(
        {
            "sex": cohort["gender_concept_id"].map(SEX_CONCEPTS).fillna("other/unknown"),
            "race": cohort["race_concept_id"].map(RACE_CONCEPTS).fillna("other/unknown"),
            "age_band": age_band(cohort["age_at_index"]).astype(str),
            "site": cohort["care_site_id"].astype("string").fillna("unknown"),
        }
    ).reset_index(drop=True)


def demographics(cohort: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Rows per sex, race and age band (not site: sites are named in the subgroup table) for the model card."""
    groups = subgroup_attributes(cohort).drop(columns="site")
    return {str(c): {str(g): int(n) for g, n in groups[c].value_counts().sort_index().items()} for c in groups}


@binary_metric
def subgroup_metrics(
    y: np.ndarray, p: np.ndarray, groups: pd.DataFrame, threshold: float, min_size: int = 100
) -> pd.DataFrame:
    """Per-group discrimination, calibration and operating-point metrics with parity ratios vs overall.

    ``groups`` has one row per prediction (matched by position) and one column
    per attribute (sex, race, age band, site...); missing values form their own
    group "<missing>".  The first row is the overall population (attribute
    "overall").  Each group gets a ``status``:

    - ``"ok"``: n >= ``min_size`` and both classes present — all metrics;
    - ``"too small"``: n < ``min_size`` — listed with its n only (metrics
      suppressed: unstable, and small cells can identify patients);
    - ``"single class"``: large enough but without positives or negatives —
      n, prevalence, mean predicted and O/E only (AUROC, CITL undefined).

    ``<metric>_ratio`` = group metric / overall metric (1 = parity).  Why:
    a model can look fine overall and fail a subgroup (Cyclops / model-card
    practice); listing too-small groups keeps the audit honest about what was
    not assessed.
    """
    if not isinstance(groups, pd.DataFrame):
        raise TypeError(f"groups must be a pandas DataFrame, got {type(groups).__name__}")
    if len(groups) != len(y):
        raise ValueError(f"groups has {len(groups)} rows but y_true has {len(y)}")
    if int(min_size) < 1:
        raise ValueError(f"min_size must be >= 1, got {min_size}")
    overall = _group_row("overall", "all", y, p, threshold, min_size=1)
    rows = [overall]
    frame = groups.reset_index(drop=True)
    for column in frame.columns:
        values = frame[column].astype("object").where(frame[column].notna(), "<missing>").astype(str)
        for value in sorted(values.unique()):
            mask = (values == value).to_numpy()
            rows.append(_group_row(str(column), value, y[mask], p[mask], threshold, min_size))
    out = pd.DataFrame(rows)
    for metric in _PARITY:
        base = overall[metric]
        out[f"{metric}_ratio"] = out[metric] / base if base and np.isfinite(base) else np.nan
    return out.reindex(columns=list(SUBGROUP_COLUMNS))


def _group_row(
    attribute: str, group: str, y: np.ndarray, p: np.ndarray, threshold: float, min_size: int
) -> dict[str, Any]:
    nan = float("nan")
    row: dict[str, Any] = {"attribute": attribute, "group": group, "n": int(len(y))}
    row.update(dict.fromkeys(_GROUP_METRICS, nan))
    if len(y) < min_size:
        row["status"] = "too small"
        return row
    row.update(
        {
            "n_positive": int(y.sum()),
            "prevalence": float(y.mean()),
            "mean_predicted": float(p.mean()),
            "oe_ratio": safe_div(float(y.sum()), float(p.sum())),
        }
    )
    if y.min() == y.max():
        row["status"] = "single class"
        return row
    at = threshold_metrics.unchecked(y, p, threshold)
    row.update(
        {
            "status": "ok",
            "auroc": float(roc_auc_score(y, p)),
            "calibration_in_the_large": calibration_in_the_large.unchecked(y, p),
            "sensitivity": at["sensitivity"],
            "ppv": at["ppv"],
            "alert_rate": at["alert_rate"],
        }
    )
    return row


def subgroup_summary(table: pd.DataFrame) -> dict[str, float]:
    """Flat floats from :func:`subgroup_metrics` for MLflow.

    Keys: subgroup_n_evaluated, subgroup_n_too_small, subgroup_n_single_class,
    subgroup_min_auroc, subgroup_worst_auroc_gap (overall AUROC − min group
    AUROC), and subgroup_min/max_<metric>_ratio for sensitivity, ppv, oe_ratio.
    NaN when no group could be evaluated.  Why: one number per fairness
    concern can be tracked and alerted on across model versions.
    """
    groups = table[table["attribute"] != "overall"]
    ok = groups[groups["status"] == "ok"]
    overall_auroc = float(table.loc[table["attribute"] == "overall", "auroc"].iloc[0])
    min_auroc = float(ok["auroc"].min()) if len(ok) else float("nan")
    out = {
        "subgroup_n_evaluated": float(len(ok)),
        "subgroup_n_too_small": float((groups["status"] == "too small").sum()),
        "subgroup_n_single_class": float((groups["status"] == "single class").sum()),
        "subgroup_min_auroc": min_auroc,
        "subgroup_worst_auroc_gap": overall_auroc - min_auroc,
    }
    for metric in ("sensitivity", "ppv", "oe_ratio"):
        ratios = ok[f"{metric}_ratio"].dropna()
        out[f"subgroup_min_{metric}_ratio"] = float(ratios.min()) if len(ratios) else float("nan")
        out[f"subgroup_max_{metric}_ratio"] = float(ratios.max()) if len(ratios) else float("nan")
    return out
