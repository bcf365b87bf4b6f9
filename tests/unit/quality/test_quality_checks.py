"""The check runner: violations counted against the right denominator, DQD status semantics."""

from __future__ import annotations

import datetime as dt
import json

import duckdb

from mlhops_dagster.quality.checks import (
    apply_thresholds,
    checks_by_table,
    default_catalogue,
    load_threshold_overrides,
    run_table_checks,
)
from mlhops_dagster.quality.report import dqd_json, latest_results, persist_outcomes, summary_markdown

CATALOGUE = checks_by_table(default_catalogue(dt.date(2026, 1, 1)))


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop")
    con.execute("CREATE TABLE omop.person (person_id BIGINT, year_of_birth INT, gender_concept_id INT)")
    con.execute(
        "CREATE TABLE omop.visit_occurrence (visit_occurrence_id BIGINT, visit_concept_id INT, "
        "visit_start_date DATE, visit_end_date DATE)"
    )
    con.execute(
        "CREATE TABLE omop.measurement (measurement_concept_id INT, unit_concept_id INT, value_as_number DOUBLE)"
    )
    return con


def _group(outcomes, group):
    return [o for o in outcomes if o.check.spec_name == group]


def _failed(outcomes) -> bool:
    return any(o.status in ("Failed", "Error") for o in outcomes)


def test_person_year_of_birth_passes_then_fails_on_implausible_birth_years() -> None:
    con = _con()
    con.execute("INSERT INTO omop.person SELECT i, 1950 + i % 50, 8507 FROM range(200) t(i)")
    assert not _failed(_group(run_table_checks(con, "person", CATALOGUE["person"]), "person_year_of_birth_plausible"))
    # 1 of 201 (0.5 %) is under the 1 % threshold; 5 of 205 (2.4 %) is over it
    con.execute("INSERT INTO omop.person VALUES (1000, 1700, 8507)")
    assert not _failed(_group(run_table_checks(con, "person", CATALOGUE["person"]), "person_year_of_birth_plausible"))
    con.execute("INSERT INTO omop.person SELECT 2000 + i, 2090, 8532 FROM range(4) t(i)")
    group = {
        o.check.check_type: o
        for o in _group(run_table_checks(con, "person", CATALOGUE["person"]), "person_year_of_birth_plausible")
    }
    low, high = group["plausibleValueLow"], group["plausibleValueHigh"]
    assert (low.status, low.num_violated, low.num_denominator) == ("Passed", 1, 205)
    assert (high.status, high.num_violated, high.num_denominator) == ("Failed", 4, 205)
    assert high.check.severity == "ERROR" and not high.passed


def test_zero_threshold_fails_on_a_single_violation_and_empty_table_is_not_applicable() -> None:
    con = _con()
    outcomes = _group(
        run_table_checks(con, "visit_occurrence", CATALOGUE["visit_occurrence"]), "visit_end_not_before_start"
    )
    assert [o.status for o in outcomes] == ["Not Applicable"]
    con.execute(
        "INSERT INTO omop.visit_occurrence SELECT i, 9202, DATE '2020-01-01', DATE '2020-01-02' FROM range(999) t(i)"
    )
    con.execute("INSERT INTO omop.visit_occurrence VALUES (5000, 9201, DATE '2020-01-05', DATE '2020-01-01')")
    [outcome] = _group(
        run_table_checks(con, "visit_occurrence", CATALOGUE["visit_occurrence"]), "visit_end_not_before_start"
    )
    assert outcome.status == "Failed" and outcome.num_violated == 1 and outcome.check.severity == "ERROR"


def test_value_ranges_use_only_rows_of_their_concept_and_unit_and_absent_table_is_not_applicable() -> None:
    con = _con()
    con.execute("INSERT INTO omop.measurement SELECT 3027018, 8541, 60 + i % 40 FROM range(100) t(i)")
    con.execute("INSERT INTO omop.measurement SELECT 3051825, 8840, 9000 FROM range(50) t(i)")  # creatinine
    con.execute("INSERT INTO omop.measurement SELECT 3027018, 8541, 900 FROM range(3) t(i)")
    con.execute(
        "INSERT INTO omop.measurement SELECT 3027018, 8483, 900 FROM range(7) t(i)"
    )  # another unit: not counted
    outcomes = run_table_checks(con, "measurement", CATALOGUE["measurement"])
    high = next(o for o in _group(outcomes, "plausible_value_heart_rate") if o.check.check_type == "plausibleValueHigh")
    assert (high.num_violated, high.num_denominator, high.status) == (3, 103, "Failed")
    creatinine = next(
        o for o in _group(outcomes, "plausible_value_creatinine") if o.check.check_type == "plausibleValueHigh"
    )
    assert (creatinine.num_violated, creatinine.num_denominator) == (50, 50)
    con.execute("DROP TABLE omop.measurement")
    outcomes = run_table_checks(con, "measurement", CATALOGUE["measurement"])
    assert {o.status for o in outcomes if o.check.check_type != "cdmTable"} == {"Not Applicable"}
    assert next(o for o in outcomes if o.check.check_type == "cdmTable").status == "Failed"


def test_broken_check_sql_is_an_error_status_and_results_persist() -> None:
    con = _con()
    con.execute("INSERT INTO omop.person VALUES (1, 1950, 8507)")
    broken = [c for c in CATALOGUE["person"] if c.field == "year_of_birth" and c.check_type == "plausibleValueLow"]
    from dataclasses import replace

    broken = [replace(broken[0], params=("not a number",))]
    outcomes = run_table_checks(con, "person", broken)
    assert outcomes[0].status == "Error" and outcomes[0].error
    persist_outcomes(con, "run-1", outcomes)
    rows = latest_results(con)
    assert len(rows) == 1 and rows[0]["status"] == "Error" and rows[0]["check_type"] == "plausibleValueLow"
    assert "| Error |" in summary_markdown(rows) or "Error" in summary_markdown(rows)


def test_threshold_overrides_from_a_file_by_name_and_glob(tmp_path, monkeypatch) -> None:
    con = _con()
    con.execute("INSERT INTO omop.person SELECT i, CASE WHEN i < 3 THEN 1700 ELSE 1960 END, 8507 FROM range(100) t(i)")
    checks = CATALOGUE["person"]
    low = next(
        o for o in run_table_checks(con, "person", checks) if o.check.name == "plausibleValueLow_person_year_of_birth"
    )
    assert low.status == "Failed"  # 3 % > 1 %
    path = tmp_path / "thresholds.yaml"
    path.write_text("plausibleValueLow_person_year_of_birth: 5\n")
    monkeypatch.setenv("MLHOPS_DQ_THRESHOLDS", str(path))
    relaxed = apply_thresholds(checks, load_threshold_overrides())
    low = next(
        o for o in run_table_checks(con, "person", relaxed) if o.check.name == "plausibleValueLow_person_year_of_birth"
    )
    assert (low.status, low.check.threshold_pct) == ("Passed", 5.0)
    as_json = tmp_path / "t.json"
    as_json.write_text(json.dumps({"plausibleValue*_person_*": 0.5}))
    tightened = apply_thresholds(checks, load_threshold_overrides(as_json))
    assert {c.threshold_pct for c in tightened if c.check_type.startswith("plausibleValue")} == {0.5}


def test_report_markdown_and_dqd_json_shape() -> None:
    con = _con()
    con.execute("INSERT INTO omop.person SELECT i, CASE WHEN i < 10 THEN 1700 ELSE 1960 END, 8507 FROM range(100) t(i)")
    outcomes = run_table_checks(con, "person", CATALOGUE["person"])
    persist_outcomes(con, "run-a", outcomes)
    persist_outcomes(con, "run-b", outcomes)
    assert con.execute("SELECT count(DISTINCT run_id) FROM quality.check_results").fetchall()[0][0] == 2
    results = latest_results(con)
    assert len(results) == len(outcomes)
    summary = summary_markdown(results)
    assert summary.index("plausibleValueLow_person_year_of_birth") < summary.index("| Kahn category") + 10_000
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


def test_mapping_rates_flag_pairs_under_the_threshold() -> None:
    from mlhops_dagster.quality.mapping_rate import below_threshold, overall_rate, rates_markdown, read_mapping_rates

    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop_int")
    con.execute(
        "CREATE TABLE omop_int.int__mapping_rate AS SELECT * FROM (VALUES "
        "('conditions', 'Condition', 100, 97), ('observations', 'Measurement', 200, 120), "
        "('medications', 'Drug', 50, 50)) t(source_table, target_domain, source_rows, mapped_rows)"
    )
    rates = read_mapping_rates(con)
    low = below_threshold(rates, 0.9)
    assert [(r.source_table, round(r.rate, 2)) for r in low] == [("observations", 0.6)]
    assert below_threshold(rates, 0.5) == []
    assert round(overall_rate(rates), 4) == round(267 / 350, 4)
    assert "60.0% ⚠" in rates_markdown(rates, 0.9)
