"""The check runner: violations counted against the right denominator, DQD status semantics."""

from __future__ import annotations

import datetime as dt

import duckdb

from mlhops_dagster.quality.checks import (
    checks_by_table,
    default_catalogue,
    persist_outcomes,
    run_table_checks,
    summary_markdown,
)

CATALOGUE = checks_by_table(default_catalogue(dt.date(2026, 1, 1)))


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop")
    con.execute("CREATE TABLE omop.person (person_id BIGINT, year_of_birth INT, gender_concept_id INT)")
    con.execute("CREATE TABLE omop.visit_occurrence (visit_occurrence_id BIGINT, visit_concept_id INT, "
                "visit_start_date DATE, visit_end_date DATE)")
    con.execute("CREATE TABLE omop.measurement (measurement_concept_id INT, value_as_number DOUBLE)")
    return con


def _by_name(outcomes):
    return {o.check.name: o for o in outcomes}


def test_person_checks_pass_then_fail_on_implausible_birth_years() -> None:
    con = _con()
    con.execute("INSERT INTO omop.person SELECT i, 1950 + i % 50, 8507 FROM range(200) t(i)")
    outcomes = _by_name(run_table_checks(con, "person", CATALOGUE["person"]))
    assert outcomes["person_year_of_birth_plausible"].status == "Passed"
    # 1 of 201 (0.5 %) is under the 1 % threshold; 5 of 205 (2.4 %) is over it
    con.execute("INSERT INTO omop.person VALUES (1000, 1700, 8507)")
    assert _by_name(run_table_checks(con, "person", CATALOGUE["person"]))[
        "person_year_of_birth_plausible"].status == "Passed"
    con.execute("INSERT INTO omop.person SELECT 2000 + i, 2090, 8532 FROM range(4) t(i)")
    outcome = _by_name(run_table_checks(con, "person", CATALOGUE["person"]))["person_year_of_birth_plausible"]
    assert (outcome.status, outcome.num_violated, outcome.num_denominator) == ("Failed", 5, 205)
    assert outcome.check.severity == "ERROR" and not outcome.passed


def test_zero_threshold_fails_on_a_single_violation_and_empty_table_is_not_applicable() -> None:
    con = _con()
    outcomes = _by_name(run_table_checks(con, "visit_occurrence", CATALOGUE["visit_occurrence"]))
    assert outcomes["visit_end_not_before_start"].status == "Not Applicable"
    con.execute("INSERT INTO omop.visit_occurrence SELECT i, 9202, DATE '2020-01-01', DATE '2020-01-02' FROM range(999) t(i)")
    con.execute("INSERT INTO omop.visit_occurrence VALUES (5000, 9201, DATE '2020-01-05', DATE '2020-01-01')")
    outcome = _by_name(run_table_checks(con, "visit_occurrence", CATALOGUE["visit_occurrence"]))[
        "visit_end_not_before_start"]
    assert outcome.status == "Failed" and outcome.num_violated == 1


def test_value_ranges_use_only_rows_of_their_concept_and_absent_table_is_not_applicable() -> None:
    con = _con()
    con.execute("INSERT INTO omop.measurement SELECT 3027018, 60 + i % 40 FROM range(100) t(i)")
    con.execute("INSERT INTO omop.measurement SELECT 3051825, 9000 FROM range(50) t(i)")  # creatinine: no range
    con.execute("INSERT INTO omop.measurement SELECT 3027018, 900 FROM range(3) t(i)")
    outcome = _by_name(run_table_checks(con, "measurement", CATALOGUE["measurement"]))["plausible_value_heart_rate"]
    assert (outcome.num_violated, outcome.num_denominator, outcome.status) == (3, 103, "Failed")
    con.execute("DROP TABLE omop.measurement")
    assert {o.status for o in run_table_checks(con, "measurement", CATALOGUE["measurement"])} == {"Not Applicable"}


def test_broken_check_sql_is_an_error_status_and_results_persist() -> None:
    con = _con()
    con.execute("ALTER TABLE omop.person DROP COLUMN gender_concept_id")
    con.execute("INSERT INTO omop.person VALUES (1, 1950)")
    outcomes = run_table_checks(con, "person", CATALOGUE["person"])
    assert {o.status for o in outcomes} == {"Error"} and "gender_concept_id" in outcomes[0].error
    persist_outcomes(con, "run-1", outcomes)
    rows = con.execute("SELECT check_name, cdm_table, kahn_category, severity, status, pct_violated, threshold_pct "
                       "FROM quality.check_results").fetchall()
    assert len(rows) == len(outcomes)
    assert "| Error |" in summary_markdown(rows)


def test_mapping_rates_flag_pairs_under_the_threshold() -> None:
    from mlhops_dagster.quality.mapping_rate import below_threshold, overall_rate, rates_markdown, read_mapping_rates

    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop_int")
    con.execute("CREATE TABLE omop_int.mapping_rate AS SELECT * FROM (VALUES "
                "('conditions', 'Condition', 100, 97), ('observations', 'Measurement', 200, 120), "
                "('medications', 'Drug', 50, 50)) t(source_table, target_domain, source_rows, mapped_rows)")
    rates = read_mapping_rates(con)
    low = below_threshold(rates, 0.9)
    assert [(r.source_table, round(r.rate, 2)) for r in low] == [("observations", 0.6)]
    assert below_threshold(rates, 0.5) == []
    assert round(overall_rate(rates), 4) == round(267 / 350, 4)
    assert "60.0% ⚠" in rates_markdown(rates, 0.9)
