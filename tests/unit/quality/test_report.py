"""Check results kept per run, summarised as records (Kahn categories, worst failures, a group's breakdown), DQD JSON."""

from __future__ import annotations

from mlhops_dagster.quality.report import (
    breakdown_records,
    category_records,
    dqd_json,
    latest_results,
    persist_outcomes,
    status_counts,
    worst_failure_records,
    worst_outcome,
)
from mlhops_dagster.quality.runner import run_table_checks
from tests.support.quality_cdm import CATALOGUE, dqd_cdm, empty_cdm


def _person_results(con) -> tuple[list, list[dict]]:
    con.execute("INSERT INTO omop.person SELECT i, CASE WHEN i < 10 THEN 1700 ELSE 1960 END, 8507 FROM range(100) t(i)")
    outcomes = run_table_checks(con, "person", CATALOGUE["person"])
    persist_outcomes(con, "run-a", outcomes)
    persist_outcomes(con, "run-b", outcomes)
    return outcomes, latest_results(con)


def test_errors_persist_and_lead_the_worst_failures() -> None:
    con = empty_cdm()
    con.execute("INSERT INTO omop.person VALUES (1, 1950, 8507)")
    from dataclasses import replace

    broken = [c for c in CATALOGUE["person"] if c.field == "year_of_birth" and c.check_type == "plausibleValueLow"]
    outcomes = run_table_checks(con, "person", [replace(broken[0], params=("not a number",))])
    persist_outcomes(con, "run-1", outcomes)
    rows = latest_results(con)
    assert len(rows) == 1 and rows[0]["status"] == "Error" and rows[0]["check_type"] == "plausibleValueLow"
    [worst] = worst_failure_records(rows)
    assert (worst["check"], worst["status"]) == ("plausibleValueLow_person_year_of_birth", "Error")


def test_summary_records_and_dqd_json_shape() -> None:
    con = empty_cdm()
    outcomes, results = _person_results(con)
    assert con.execute("SELECT count(DISTINCT run_id) FROM quality.check_results").fetchall()[0][0] == 2
    assert len(results) == len(outcomes)
    categories = {r["kahn_category"]: r for r in category_records(results)}
    assert list(categories)[-1] == "total" and "Plausibility" in categories
    total = categories.pop("total")
    for status in ("passed", "failed", "not_applicable", "error"):
        assert total[status] == sum(r[status] for r in categories.values())
    assert sum(total[s] for s in ("passed", "failed", "not_applicable", "error")) == len(results)
    worst = worst_failure_records(results)
    assert worst and {r["status"] for r in worst} <= {"Failed", "Error"}
    assert "plausibleValueLow_person_year_of_birth" in [r["check"] for r in worst]
    assert worst[0]["severity"] == "ERROR"  # fatal failures before the warnings
    assert len(worst_failure_records(results, limit=1)) == 1
    doc = dqd_json(results, "run-b", "omop")
    assert set(doc) == {"Metadata", "Overview", "CheckResults"}
    assert doc["CheckResults"][0]["status"] == "Failed"  # worst first
    assert doc["Overview"]["Failed"] >= 1 and "Plausibility" in doc["Overview"]["by_category"]
    first = doc["CheckResults"][0]
    assert {
        "checkName",
        "cdmTableName",
        "cdmFieldName",
        "numViolatedRows",
        "numDenominatorRows",
        "pctViolatedRows",
        "threshold",
        "category",
        "context",
        "queryText",
    } <= set(first)
    levels = {r["checkName"]: r["checkLevel"] for r in doc["CheckResults"]}
    assert (levels["cdmTable"], levels["isRequired"]) == ("TABLE", "FIELD")


def test_a_groups_breakdown_lists_every_instance_worst_first() -> None:
    outcomes = run_table_checks(dqd_cdm(), "condition_occurrence", CATALOGUE["condition_occurrence"])
    group = [o for o in outcomes if o.check.spec_name == "isForeignKey"]
    records = breakdown_records(group)
    assert len(records) == len(group)
    ranks = {"Error": 0, "Failed": 1, "Passed": 2, "Not Applicable": 3}
    assert [ranks[r["status"]] for r in records] == sorted(ranks[r["status"]] for r in records)
    person = next(r for r in records if r["check"] == "isForeignKey_condition_occurrence_person_id")
    assert (person["field_or_concept"], person["status"], person["num_violated"], person["num_denominator"]) == (
        "person_id",
        "Failed",
        1,
        9,
    )
    absent = next(r for r in records if r["check"] == "isForeignKey_condition_occurrence_provider_id")
    assert absent["status"] == "Not Applicable" and absent["note"] == "field absent"
    assert worst_outcome(group).status == "Failed"
    counts = status_counts(group)
    assert sum(counts.values()) == len(group) and counts["Failed"] >= 1
    concept = breakdown_records(
        [o for o in outcomes if o.check.check_type == "plausibleGenderUseDescendants"][:1]
    )  # a concept check names its concept
    assert concept[0]["field_or_concept"].startswith("condition_concept_id ")
