"""Subgroup audit: age bands, the cohort's attributes, per-group metrics with parity ratios and their summary."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlhops_dagster.modeling.evaluation import (
    SUBGROUP_COLUMNS,
    age_band,
    calibration_in_the_large,
    demographics,
    subgroup_attributes,
    subgroup_metrics,
    subgroup_summary,
)
from tests.unit.modeling.evaluation.scores import P6, Y6


def test_age_band():
    bands = age_band([17, 18, 44, 45, 64, 65, 79, 80, 101, np.nan])
    assert bands.iloc[:9].tolist() == ["<18", "18-44", "18-44", "45-64", "45-64", "65-79", "65-79", "80+", "80+"]
    assert pd.isna(bands.iloc[9])
    assert age_band(pd.Series([30, 70]), edges=(50,)).tolist() == ["<50", "50+"]


def subgroup_fixture() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    y = np.concatenate([Y6, [1, 0, 1, 0, 0, 0]])
    p = np.concatenate([P6, [0.7, 0.6, 0.3, 0.2, 0.1, 0.5]])
    groups = pd.DataFrame(
        {
            "sex": ["F"] * 6 + ["M"] * 6,
            "site": ["A"] * 6 + ["B"] * 4 + ["C", None],
            "ward": ["w0", "w0", "w1", "w1", "w0", "w1"] + ["w1"] * 6,  # w0 = rows 0, 1, 4: no readmissions
        },
        index=np.arange(100, 112),  # matched by position, not index
    )
    return y, p, groups


def test_subgroup_metrics_by_hand():
    y, p, groups = subgroup_fixture()
    table = subgroup_metrics(y, p, groups, threshold=0.5, min_size=3)
    assert list(table.columns) == list(SUBGROUP_COLUMNS)
    assert list(zip(table["attribute"], table["group"], strict=True)) == [
        ("overall", "all"),
        ("sex", "F"),
        ("sex", "M"),
        ("site", "<missing>"),
        ("site", "A"),
        ("site", "B"),
        ("site", "C"),
        ("ward", "w0"),
        ("ward", "w1"),
    ]
    rows = table.set_index(["attribute", "group"])
    assert rows["status"].tolist() == ["ok", "ok", "ok", "too small", "ok", "ok", "too small", "single class", "ok"]
    overall = rows.loc[("overall", "all")]
    assert overall["auroc"] == pytest.approx(roc_auc_score(y, p))
    # overall at 0.5: flagged .8(+) .9(+) .7(+) .6(-) .5(-) -> sensitivity 3/5, PPV 3/5
    assert (overall["sensitivity"], overall["ppv"]) == pytest.approx((3 / 5, 3 / 5))
    female = rows.loc[("sex", "F")]
    assert female["n"] == 6 and female["prevalence"] == pytest.approx(0.5)
    assert female["auroc"] == pytest.approx(8 / 9)
    assert female["sensitivity"] == pytest.approx(2 / 3) and female["ppv"] == pytest.approx(1.0)
    assert female["auroc_ratio"] == pytest.approx((8 / 9) / roc_auc_score(y, p))
    assert female["sensitivity_ratio"] == pytest.approx((2 / 3) / (3 / 5))
    assert female["ppv_ratio"] == pytest.approx(1 / (3 / 5))
    assert female["oe_ratio"] == pytest.approx(3 / P6.sum())
    assert female["calibration_in_the_large"] == pytest.approx(calibration_in_the_large(Y6, P6))
    # too-small groups are listed with their n, metrics suppressed
    small = rows.loc[("site", "C")]
    assert small["n"] == 1 and math.isnan(small["prevalence"]) and math.isnan(small["auroc"])
    # single-class group: n, prevalence, O/E but no AUROC
    w0 = rows.loc[("ward", "w0")]
    assert w0["n"] == 3 and w0["prevalence"] == 0 and w0["oe_ratio"] == 0 and math.isnan(w0["auroc"])

    summary = subgroup_summary(table)
    ok = table[(table["status"] == "ok") & (table["attribute"] != "overall")]
    assert summary["subgroup_worst_auroc_gap"] == pytest.approx(roc_auc_score(y, p) - ok["auroc"].min())
    assert summary["subgroup_min_auroc"] == pytest.approx(ok["auroc"].min())
    assert (summary["subgroup_n_evaluated"], summary["subgroup_n_too_small"], summary["subgroup_n_single_class"]) == (
        5.0,
        2.0,
        1.0,
    )
    assert summary["subgroup_max_ppv_ratio"] == pytest.approx(ok["ppv_ratio"].max())


def test_subgroup_metrics_rejects_misaligned_groups():
    y, p, groups = subgroup_fixture()
    with pytest.raises(ValueError, match="rows"):
        subgroup_metrics(y, p, groups.iloc[:5], threshold=0.5)
    with pytest.raises(TypeError, match="DataFrame"):
        subgroup_metrics(y, p, groups["sex"], threshold=0.5)


def test_subgroup_attributes_and_demographics_from_omop_concepts():
    cohort = pd.DataFrame(
        {
            "gender_concept_id": [8507, 8532, 8532, 0],
            "race_concept_id": [8527, 8516, 8515, 9999],
            "age_at_index": [30, 50, 70, np.nan],
            "care_site_id": pd.array([1, 2, None, 1], dtype="Int64"),
        },
        index=[10, 11, 12, 13],
    )
    groups = subgroup_attributes(cohort)
    assert list(groups.columns) == ["sex", "race", "age_band", "site"] and list(groups.index) == [0, 1, 2, 3]
    assert groups["sex"].tolist() == ["male", "female", "female", "other/unknown"]
    assert groups["race"].tolist() == ["white", "black", "asian", "other/unknown"]
    assert groups["age_band"].tolist() == ["18-44", "45-64", "65-79", "nan"]
    assert groups["site"].tolist() == ["1", "2", "unknown", "1"]
    assert demographics(cohort) == {
        "sex": {"female": 2, "male": 1, "other/unknown": 1},
        "race": {"asian": 1, "black": 1, "other/unknown": 1, "white": 1},
        "age_band": {"18-44": 1, "45-64": 1, "65-79": 1, "nan": 1},
    }
