"""The check runner: each DQD check type on tiny hand-built CDMs (DuckDB), DQD status semantics, the fallback.

tests/integration/test_postgres_quality.py runs the same CDMs on PostgreSQL.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from mlhops_dagster.quality.runner import run_table_checks
from tests.support.quality_cdm import CATALOGUE, concept_cdm, concept_outcomes, dqd_cdm, empty_cdm, run_all

EXPECTED = {
    # table level
    "cdmTable_person": ("Passed", 0, 1),
    "cdmTable_procedure_occurrence": ("Failed", 1, 1),
    "measurePersonCompleteness_condition_occurrence": ("Passed", 3, 7),
    "measurePersonCompleteness_observation_period": ("Failed", 5, 7),
    "measureConditionEraCompleteness_condition_era": ("Failed", 2, 3),
    "measureObservationPeriodOverlap_observation_period": ("Failed", 2, 3),
    # rows 4 and 5 repeat row 1 on the key columns present (person, concept, source value)
    "measureDuplicateRecords_condition_occurrence": ("Failed", 2, 9),
    # field level
    "cdmField_person_year_of_birth": ("Passed", 0, 1),
    "cdmField_person_month_of_birth": ("Failed", 1, 1),
    "isRequired_person_gender_concept_id": ("Failed", 1, 7),
    "cdmDatatype_drug_exposure_refills": ("Failed", 1, 2),
    "cdmDatatype_person_year_of_birth": ("Passed", 0, 7),
    "isPrimaryKey_person_person_id": ("Failed", 1, 7),
    "isForeignKey_person_gender_concept_id": ("Failed", 1, 7),
    "isForeignKey_condition_occurrence_person_id": ("Failed", 1, 9),
    "fkDomain_person_gender_concept_id": ("Failed", 1, 7),
    "fkDomain_condition_occurrence_condition_concept_id": ("Failed", 1, 9),
    "fkClass_drug_era_drug_concept_id": ("Failed", 1, 2),
    "isStandardValidConcept_condition_occurrence_condition_concept_id": ("Failed", 1, 9),
    "measureValueCompleteness_person_birth_datetime": ("Passed", 6, 7),
    "standardConceptRecordCompleteness_condition_occurrence_condition_concept_id": ("Failed", 1, 9),
    "sourceConceptRecordCompleteness_condition_occurrence_condition_source_concept_id": ("Failed", 1, 9),
    "sourceValueCompleteness_condition_occurrence_condition_source_value": ("Failed", 1, 5),
    "plausibleValueLow_condition_occurrence_condition_start_date": ("Passed", 0, 9),
    "plausibleValueHigh_drug_exposure_days_supply": ("Failed", 1, 2),
    "plausibleValueLow_person_year_of_birth": ("Passed", 0, 7),
    "withinVisitDates_condition_occurrence_condition_start_date": ("Failed", 1, 4),
    "plausibleAfterBirth_condition_occurrence_condition_start_date": ("Failed", 1, 8),
    "plausibleBeforeDeath_condition_occurrence_condition_start_date": ("Failed", 1, 3),
    "plausibleStartBeforeEnd_condition_occurrence_condition_start_date": ("Failed", 1, 2),
    "plausibleStartBeforeEnd_visit_occurrence_visit_start_date": ("Failed", 1, 2),
    # concept level
    "plausibleGenderUseDescendants_condition_occurrence_condition_concept_id_4090861": ("Failed", 1, 1),
    "plausibleUnitConceptIds_measurement_measurement_concept_id_3027018": ("Failed", 1, 2),
    "plausibleValueHigh_measurement_value_as_number_3027018_8541": ("Passed", 0, 1),
    # Not Applicable: empty table, absent table, empty field, absent field, no rows of a concept
    "isRequired_device_exposure_device_exposure_id": ("Not Applicable", 0, 0),
    "isRequired_procedure_occurrence_person_id": ("Not Applicable", 0, 0),
    "isForeignKey_condition_occurrence_condition_status_concept_id": ("Not Applicable", 0, 0),
    "isForeignKey_condition_occurrence_provider_id": ("Not Applicable", 0, 0),
    "plausibleValueLow_measurement_value_as_number_3025315_9529": ("Not Applicable", 0, 0),
    # Error: the check's SQL cannot run (refills is text here); the table's other checks still run
    "plausibleValueHigh_drug_exposure_refills": ("Error", 0, 0),
}


def test_every_check_type_on_a_tiny_cdm() -> None:
    results = run_all(dqd_cdm())
    assert {name: results[name] for name in EXPECTED} == EXPECTED
    check_types = {c.check_type for checks in CATALOGUE.values() for c in checks}
    assert {name.split("_")[0] for name in EXPECTED} == check_types


def test_error_keeps_the_message_and_the_sql() -> None:
    con = dqd_cdm()
    outcome = next(
        o
        for o in run_table_checks(con, "drug_exposure", CATALOGUE["drug_exposure"])
        if o.check.name == "plausibleValueHigh_drug_exposure_refills"
    )
    assert outcome.status == "Error" and outcome.error and "refills" in outcome.sql and not outcome.passed


CONCEPT_EXPECTED = {
    "plausibleValueLow_measurement_value_as_number_3020891": ("Failed", 1, 3),
    "plausibleValueHigh_measurement_value_as_number_3020891": ("Failed", 1, 3),
    "plausibleUnitConceptIds_measurement_measurement_concept_id_3020891": ("Failed", 2, 3),
    "plausibleValueLow_measurement_value_as_number_3027018_8541": ("Failed", 1, 2),
    "plausibleValueHigh_measurement_value_as_number_3027018_8541": ("Passed", 0, 2),
    "plausibleUnitConceptIds_measurement_measurement_concept_id_3027018": ("Failed", 1, 4),
    # body weight is not in the data
    "plausibleValueLow_measurement_value_as_number_3025315_9529": ("Not Applicable", 0, 0),
    "plausibleValueHigh_measurement_value_as_number_3025315_9529": ("Not Applicable", 0, 0),
    "plausibleUnitConceptIds_measurement_measurement_concept_id_3025315": ("Not Applicable", 0, 0),
}


def test_concept_level_checks_match_hand_counts() -> None:
    assert concept_outcomes(concept_cdm(), CONCEPT_EXPECTED) == CONCEPT_EXPECTED


def test_concept_statement_error_falls_back_to_one_statement_per_check() -> None:
    con = concept_cdm()
    con.execute(
        "CREATE OR REPLACE TABLE omop.measurement AS SELECT measurement_id, person_id, measurement_concept_id, "
        "unit_concept_id, CASE WHEN measurement_id = 2 THEN 'high' ELSE CAST(value_as_number AS VARCHAR) END "
        "AS value_as_number FROM omop.measurement"
    )
    outcomes = {o.check.name: o for o in run_table_checks(con, "measurement", CATALOGUE["measurement"])}
    low = outcomes["plausibleValueLow_measurement_value_as_number_3020891"]
    assert low.status == "Error" and low.error and "VALUES" not in low.sql and "3020891" in low.sql
    # the unit check compares no value, so it still runs (alone) and counts as before
    units = outcomes["plausibleUnitConceptIds_measurement_measurement_concept_id_3020891"]
    assert (units.status, units.num_violated, units.num_denominator) == ("Failed", 2, 3) and "VALUES" not in units.sql


def _group(outcomes, group):
    return [o for o in outcomes if o.check.spec_name == group]


def _failed(outcomes) -> bool:
    return any(o.status in ("Failed", "Error") for o in outcomes)


def test_person_year_of_birth_passes_then_fails_on_implausible_birth_years() -> None:
    con = empty_cdm()
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
    con = empty_cdm()
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
    con = empty_cdm()
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


def test_broken_check_sql_is_an_error_status() -> None:
    con = empty_cdm()
    con.execute("INSERT INTO omop.person VALUES (1, 1950, 8507)")
    broken = [c for c in CATALOGUE["person"] if c.field == "year_of_birth" and c.check_type == "plausibleValueLow"]
    broken = [replace(broken[0], params=("not a number",))]
    outcomes = run_table_checks(con, "person", broken)
    assert outcomes[0].status == "Error" and outcomes[0].error


class _Recording:
    """A connection that keeps the SQL of every statement it runs."""

    def __init__(self, con) -> None:
        self.con = con
        self.executed: list[str] = []

    def execute(self, sql, *args):
        self.executed.append(sql)
        return self.con.execute(sql, *args)


def test_at_most_five_statements_per_table_and_one_log_line_with_the_counts(caplog) -> None:
    """The checks of a table share its five statements (plus the introspection); the runner logs what it ran."""
    con = _Recording(concept_cdm())
    with caplog.at_level(logging.INFO, logger="mlhops_dagster.quality.runner"):
        outcomes = run_table_checks(con, "measurement", CATALOGUE["measurement"])
    statements = [s for s in con.executed if "information_schema" not in s]
    assert len(statements) == 5 and len(outcomes) == len(CATALOGUE["measurement"])
    [record] = [r for r in caplog.records if r.name == "mlhops_dagster.quality.runner"]
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("Passed", "Failed", "Not Applicable", "Error")}
    message = record.getMessage()
    assert f"omop.measurement: {len(outcomes)} checks, 5 statements" in message
    assert (
        f"{counts['Passed']} passed, {counts['Failed']} failed, {counts['Not Applicable']} not applicable, "
        f"{counts['Error']} error" in message
    )


def test_a_failing_scan_runs_its_checks_one_by_one_and_the_others_still_count() -> None:
    """refills is text: its plausibleValueHigh cannot run, so the scan falls back; its other checks keep counts."""
    con = _Recording(dqd_cdm())
    outcomes = {o.check.name: o for o in run_table_checks(con, "drug_exposure", CATALOGUE["drug_exposure"])}
    broken = outcomes["plausibleValueHigh_drug_exposure_refills"]
    required = outcomes["isRequired_drug_exposure_person_id"]
    assert broken.status == "Error" and required.status == "Passed" and required.num_denominator == 2
    assert broken.sql != required.sql and broken.sql in con.executed and required.sql in con.executed
