"""Model card rendering from plain data: every section, the values, parity flags, escaped HTML."""

from __future__ import annotations

import math

import pytest

from mlhops_dagster.modeling.evaluation import calibration_png
from mlhops_dagster.modeling.model_card import (
    SECTIONS,
    ModelCard,
    parity_gaps,
    quality_summary,
    render_html,
    render_markdown,
    summary_line,
)

SUBGROUPS = [
    {
        "attribute": "overall",
        "group": "all",
        "n": 900,
        "status": "ok",
        "prevalence": 0.18,
        "auroc": 0.74,
        "auroc_ratio": 1.0,
        "oe_ratio": 1.02,
        "sensitivity": 0.55,
        "sensitivity_ratio": 1.0,
        "ppv_ratio": 1.0,
    },
    {
        "attribute": "sex",
        "group": "female",
        "n": 470,
        "status": "ok",
        "prevalence": 0.17,
        "auroc": 0.73,
        "auroc_ratio": 0.99,
        "oe_ratio": 1.0,
        "sensitivity": 0.52,
        "sensitivity_ratio": 0.95,
        "ppv_ratio": 0.97,
    },
    {
        "attribute": "sex",
        "group": "male",
        "n": 430,
        "status": "ok",
        "prevalence": 0.19,
        "auroc": 0.75,
        "auroc_ratio": 1.01,
        "oe_ratio": 1.04,
        "sensitivity": 0.58,
        "sensitivity_ratio": 1.05,
        "ppv_ratio": 1.02,
    },
    {
        "attribute": "race",
        "group": "black",
        "n": 120,
        "status": "ok",
        "prevalence": 0.2,
        "auroc": 0.58,
        "auroc_ratio": 0.78,
        "oe_ratio": 0.8,
        "sensitivity": 0.4,
        "sensitivity_ratio": 0.72,
        "ppv_ratio": 0.9,
    },
    {"attribute": "race", "group": "asian", "n": 30, "status": "too small", "prevalence": math.nan, "auroc": math.nan},
]
QUALITY = [  # latest_results rows (the fields the summary reads)
    {
        "check_name": name,
        "status": status,
        "severity": severity,
        "cdm_table": table,
        "pct_violated": pct,
        "threshold_pct": 1.0,
    }
    for name, status, severity, table, pct in (
        ("a", "Passed", "ERROR", "person", 0.0),
        ("b", "Passed", "WARNING", "person", 0.5),
        ("c", "Failed", "WARNING", "measurement", 3.0),
        ("plausibleValueLow_person_year_of_birth", "Failed", "ERROR", "person", 10.0),
    )
]


def card(**overrides) -> ModelCard:
    facts = dict(
        model_name="readmission_30d",
        version="3",
        family="dp_mlp",
        params={"hidden": 32, "lr": 0.01, "note": "a|b"},
        n_features=41,
        task_name="readmission_30d",
        task_description="30-day readmission <script>alert(1)</script> & more",
        task_definition="readmission_30d: index visit [9201, 262] at visit_end; outcome in days [1, 30]",
        cohort_size=1234,
        positives=222,
        train_rows=900,
        test_rows=334,
        train_index_dates=("2016-01-03", "2020-06-30"),
        test_index_dates=("2020-07-01", "2021-12-30"),
        demographics={"sex": {"female": 470, "male": 430}, "age_band": {"18-44": 200, "65+": 700}},
        metrics={
            "auroc": 0.7412,
            "auroc_ci_low": 0.70,
            "auroc_ci_high": 0.78,
            "auprc": 0.41,
            "brier": 0.131,
            "calibration_slope": 0.97,
            "subgroup_worst_auroc_gap": 0.16,
            "n": 334.0,
        },
        subgroups=SUBGROUPS,
        max_subgroup_auroc_gap=0.10,
        data_quality=quality_summary(QUALITY),
        lineage={
            "dagster_run_id": "run-abc",
            "dbt_manifest_hash": "feedbeef",
            "data_fingerprint": "fp-123",
            "mlflow_run_id": "mlrun-9",
        },
        extract_ids=["synthea_2016_2021"],
        privacy={"epsilon_spent": 2.93, "epsilon_target": 3.0, "delta": 1e-5, "noise_multiplier": 1.1},
    )
    return ModelCard(**{**facts, **overrides})


def test_quality_summary_counts_and_fatal_failures() -> None:
    summary = quality_summary(QUALITY)
    assert summary["total"] == 4 and summary["by_status"] == {"Failed": 2, "Passed": 2}
    assert summary["fatal_failed"] == ["person.plausibleValueLow_person_year_of_birth"]


def test_parity_gaps_flag_attributes_above_the_gate_limit() -> None:
    gaps = {g["attribute"]: g for g in parity_gaps(SUBGROUPS, limit=0.10)}
    assert gaps["sex"]["worst_group"] == "female" and gaps["sex"]["auroc_gap"] == pytest.approx(0.01)
    assert not gaps["sex"]["flagged"]
    assert gaps["race"]["worst_group"] == "black" and gaps["race"]["flagged"]  # 0.74 - 0.58 = 0.16 > 0.10
    assert gaps["race"]["min_sensitivity_ratio"] == 0.72
    assert not parity_gaps(SUBGROUPS, limit=0.2)[1]["flagged"]


def test_markdown_has_every_section_and_the_values() -> None:
    text = render_markdown(card(calibration_png=calibration_png([0, 1, 0, 1, 1, 0], [0.1, 0.8, 0.3, 0.6, 0.9, 0.2])))
    positions = [text.index(f"## {section}") for section in SECTIONS]
    assert positions == sorted(positions)
    for value in (
        "version 3",
        "0.741",
        "0.700 – 0.780",
        "1,234",
        "222",
        "2016-01-03 – 2020-06-30",
        "2020-07-01 – 2021-12-30",
        "synthea_2016_2021",
        "| sex | female | 470 |",
        "| hidden | 32 |",
        "| race | black |",
        "**above the limit**",
        "ε = 2.93",
        "δ = 1e-05",
        "run-abc",
        "feedbeef",
        "fp-123",
        "mlrun-9",
        "person.plausibleValueLow_person_year_of_birth",
        "| Failed | 2 |",
        "data:image/png;base64,iVBOR",
        "index visit [9201, 262]",
        "41",
        "| Test rows | 334 |",
    ):
        assert value in text, value
    assert "| note | a\\|b |" in text  # a pipe in a value cannot break the table
    assert summary_line(card()).startswith("dp_mlp for readmission_30d: test AUROC 0.741 (95% CI 0.700–0.780)")


def test_card_without_dp_groups_or_plot_says_so() -> None:
    text = render_markdown(
        card(
            privacy=None, subgroups=[], calibration_png=None, extract_ids=[], data_quality=quality_summary(QUALITY[:2])
        )
    )
    assert "Not trained with differential privacy" in text and "No subgroup metrics" in text
    assert "No calibration plot" in text and "not recorded" in text and "No fatal" in text


def test_html_is_rendered_and_escapes_text() -> None:
    page = render_html(card())
    assert page.startswith("<!doctype html>") and "<table>" in page and "<h2>Privacy</h2>" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<td>a|b</td>" in page


def test_importance_section_lists_the_top_features_and_the_method() -> None:
    ranked = [
        {"feature": f"feat_{i:02d}", "importance": 0.5 - i / 100, "method": "mean_abs_tree_shap"} for i in range(20)
    ]
    text = render_markdown(card(feature_importance=ranked))
    section = text[text.index("## Global feature importance") : text.index("## Ethical considerations")]
    assert "Top 15 of 20 features by mean |SHAP value| over the test rows" in section
    assert "| 1 | feat_00 | 0.5000 |" in section and "| 15 | feat_14 | 0.3600 |" in section
    assert "feat_15" not in section
    assert "permutation" in render_markdown(
        card(feature_importance=[{"feature": "age", "importance": 0.02, "method": "permutation_auroc_drop"}])
    )
    assert "was not computed" in render_markdown(card(feature_importance=[]))


def test_cohort_and_run_facts_from_the_feature_table_and_the_run() -> None:
    import pandas as pd

    from mlhops_dagster.modeling.model_card import cohort_facts, index_date_range, run_facts

    features = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4],
            "visit_occurrence_id": [10, 20, 30, 40],
            "index_date": pd.to_datetime(["2019-01-02", "2019-05-01", "2020-02-03", "2020-03-04"]),
            "split": ["train", "train", "test", "test"],
            "gender_concept_id": [8507, 8532, 8532, 8507],
            "race_concept_id": [8527, 8527, 8516, 0],
            "age_at_index": [30, 70, 50, 90],
            "care_site_id": [1, 1, 2, 2],
            "readmitted_30d": [0, 1, 1, 0],
        }
    )
    facts = cohort_facts(features, "readmitted_30d")
    assert (facts["cohort_size"], facts["positives"], facts["train_rows"], facts["test_rows"]) == (4, 2, 2, 2)
    assert facts["train_index_dates"] == ("2019-01-02", "2019-05-01")
    assert facts["test_index_dates"] == ("2020-02-03", "2020-03-04")
    assert facts["demographics"]["sex"] == {"female": 1, "male": 1}  # the training split only
    assert index_date_range(features.iloc[:0]) == ("–", "–")
    facts = run_facts({"family": "dp_mlp", "lr": "0.01", "privacy_delta": "1e-05"}, {"privacy_epsilon_spent": 2.9})
    assert facts == {"params": {"lr": "0.01"}, "privacy": {"epsilon_spent": 2.9}}
    assert run_facts({"C": "1.0"}, {"test_auroc": 0.7})["privacy"] is None
