"""Each DQD check type on a tiny hand-built CDM (DuckDB), and the same outcomes on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from postgres_db import postgres_copy

from mlhops_dagster.quality.checks import checks_by_table, default_catalogue, run_table_checks

TODAY = dt.date(2026, 1, 1)
# build_definitions() exports MLHOPS_PG_* of its (dropped) warehouse database: keep the value from collection time
CATALOGUE = checks_by_table(default_catalogue(TODAY))

TINY_CDM = """
CREATE SCHEMA omop;
CREATE SCHEMA vocab;
CREATE TABLE vocab.concept AS SELECT * FROM (VALUES
    (8507, 'MALE', 'Gender', 'Gender', 'S', CAST(NULL AS VARCHAR)), (8532, 'FEMALE', 'Gender', 'Gender', 'S', NULL),
    (9201, 'Inpatient Visit', 'Visit', 'Visit', 'S', NULL), (32817, 'EHR', 'Type Concept', 'Type Concept', 'S', NULL),
    (201826, 'Type 2 diabetes', 'Condition', 'Clinical Finding', 'S', NULL),
    (44054006, 'Diabetes (SNOMED source)', 'Condition', 'Clinical Finding', NULL, NULL),
    (4090861, 'Male genitalia finding', 'Condition', 'Clinical Finding', 'S', NULL),
    (19078461, 'metformin 500 MG Oral Tablet', 'Drug', 'Clinical Drug', 'S', NULL),
    (1503297, 'metformin', 'Drug', 'Ingredient', 'S', NULL), (8541, 'per minute', 'Unit', 'Unit', 'S', NULL),
    (3027018, 'Heart rate', 'Measurement', 'Clinical Observation', 'S', NULL)
) t(concept_id, concept_name, domain_id, concept_class_id, standard_concept, invalid_reason);
CREATE TABLE omop.person AS SELECT * FROM (VALUES
    (1, 8507, 1960, TIMESTAMP '1960-05-01 00:00:00'), (2, 8532, 1970, NULL), (3, 8532, 1980, NULL),
    (3, 8532, 1980, NULL), (5, NULL, 1990, NULL), (6, 999, 1990, NULL), (7, 9201, 1990, NULL)
) t(person_id, gender_concept_id, year_of_birth, birth_datetime);
CREATE TABLE omop.visit_occurrence AS SELECT * FROM (VALUES
    (10, 1, 9201, DATE '2020-01-01', DATE '2020-01-02'), (11, 1, 9201, DATE '2020-02-01', DATE '2020-01-01')
) t(visit_occurrence_id, person_id, visit_concept_id, visit_start_date, visit_end_date);
CREATE TABLE omop.death AS SELECT 2 AS person_id, DATE '2021-01-01' AS death_date;
CREATE TABLE omop.condition_occurrence AS SELECT *, CAST(NULL AS INTEGER) AS condition_status_concept_id FROM (VALUES
    (1, 1, 201826, DATE '2020-01-01', DATE '2020-01-05', 10, 'A', 44054006),
    (2, 2, 44054006, DATE '2020-01-01', NULL, 10, 'B', 44054006),
    (3, 3, 0, DATE '2020-01-01', NULL, 10, 'C', 0),
    (4, 1, 201826, DATE '2020-03-01', DATE '2020-02-01', 10, 'A', 44054006),
    (5, 1, 201826, DATE '1950-06-01', NULL, NULL, 'A', 44054006),
    (6, 99, 201826, DATE '2020-01-01', NULL, NULL, 'A', 44054006),
    (7, 2, 4090861, DATE '2020-01-01', NULL, NULL, 'D', 44054006),
    (8, 2, 201826, DATE '2021-06-01', NULL, NULL, 'A', 44054006),
    (9, 1, 1503297, DATE '2020-01-01', NULL, NULL, 'E', 44054006)
) t(condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_end_date,
    visit_occurrence_id, condition_source_value, condition_source_concept_id);
CREATE TABLE omop.observation_period AS SELECT * FROM (VALUES
    (1, 1, DATE '2019-01-01', DATE '2020-12-31'), (2, 1, DATE '2020-06-01', DATE '2021-06-01'),
    (3, 2, DATE '2019-01-01', DATE '2019-12-31')
) t(observation_period_id, person_id, observation_period_start_date, observation_period_end_date);
CREATE TABLE omop.condition_era AS SELECT 1 AS condition_era_id, 1 AS person_id, 201826 AS condition_concept_id;
CREATE TABLE omop.drug_era AS SELECT * FROM (VALUES (1, 1, 19078461), (2, 1, 1503297))
    t(drug_era_id, person_id, drug_concept_id);
CREATE TABLE omop.drug_exposure AS SELECT * FROM (VALUES (1, 1, 1503297, 400, '2'), (2, 1, 1503297, 30, 'x'))
    t(drug_exposure_id, person_id, drug_concept_id, days_supply, refills);
CREATE TABLE omop.measurement AS SELECT * FROM (VALUES (1, 1, 3027018, 8541, 70.0), (2, 1, 3027018, 0, 80.0))
    t(measurement_id, person_id, measurement_concept_id, unit_concept_id, value_as_number);
CREATE TABLE omop.device_exposure (device_exposure_id BIGINT, person_id BIGINT, device_concept_id INTEGER);
"""


def tiny_cdm() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for statement in TINY_CDM.split(";"):
        if statement.strip():
            con.execute(statement)
    return con


def run_all(con) -> dict[str, tuple[str, int, int]]:
    outcomes = [o for table, checks in CATALOGUE.items() for o in run_table_checks(con, table, checks)]
    return {o.check.name: (o.status, o.num_violated, o.num_denominator) for o in outcomes}


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
    results = run_all(tiny_cdm())
    assert {name: results[name] for name in EXPECTED} == EXPECTED
    check_types = {c.check_type for checks in CATALOGUE.values() for c in checks}
    assert {name.split("_")[0] for name in EXPECTED} == check_types


def test_error_keeps_the_message_and_the_sql() -> None:
    con = tiny_cdm()
    outcome = next(
        o
        for o in run_table_checks(con, "drug_exposure", CATALOGUE["drug_exposure"])
        if o.check.name == "plausibleValueHigh_drug_exposure_refills"
    )
    assert outcome.status == "Error" and outcome.error and "refills" in outcome.sql and not outcome.passed


def test_catalogue_is_per_table_and_names_are_unique() -> None:
    catalogue = default_catalogue(TODAY)
    assert len({c.name for c in catalogue}) == len(catalogue) > 1000
    for table, checks in CATALOGUE.items():
        by_spec: dict[str, set[str]] = {}
        for c in checks:
            by_spec.setdefault(c.spec_name, set()).add(c.severity)
        assert all(len(s) == 1 for s in by_spec.values()), table  # one severity per Dagster check
        assert len(by_spec) <= 50, table


@pytest.mark.postgres
def test_same_outcomes_on_postgresql() -> None:
    duck = tiny_cdm()
    expected = run_all(duck)
    with postgres_copy(duck, ("omop", "vocab"), "mlhops_dqd") as pg:
        got = run_all(pg)
    assert {k: v for k, v in got.items() if v[0] != "Error"} == {k: v for k, v in expected.items() if v[0] != "Error"}
    assert {k for k, v in got.items() if v[0] == "Error"} == {k for k, v in expected.items() if v[0] == "Error"}


# concept-level checks on measurement: (concept, unit, value) rows and the counts worked out by hand
CONCEPT_ROWS = """
CREATE OR REPLACE TABLE omop.measurement AS SELECT * FROM (VALUES
    (1, 1, 3020891, 586323, 37.0),                  -- temperature: any-unit range 34-45, units 586323 / 9289
    (2, 1, 3020891, CAST(NULL AS INTEGER), 50.0),   -- NULL unit: in the any-unit range (high), not an allowed unit
    (3, 1, 3020891, 8541, 30.0),                    -- unit not allowed; low
    (4, 1, 3020891, 9289, CAST(NULL AS DOUBLE)),    -- no value: in neither denominator
    (5, 1, 3027018, 8541, 5.0),                     -- heart rate: range 10-500 for unit 8541 only; low
    (6, 1, 3027018, 8541, 70.0),
    (7, 1, 3027018, NULL, 600.0),                   -- NULL unit: outside the 8541 range, allowed unit (-1)
    (8, 1, 3027018, 8876, 80.0)                     -- unit not allowed, outside the 8541 range
) t(measurement_id, person_id, measurement_concept_id, unit_concept_id, value_as_number)
"""
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


def concept_cdm() -> duckdb.DuckDBPyConnection:
    con = tiny_cdm()
    con.execute(CONCEPT_ROWS)
    return con


def concept_outcomes(con) -> dict[str, tuple[str, int, int]]:
    outcomes = run_table_checks(con, "measurement", CATALOGUE["measurement"])
    got = {o.check.name: (o.status, o.num_violated, o.num_denominator) for o in outcomes}
    # every concept-specific check comes from the one grouped statement, and says so
    sqls = {
        o.sql
        for o in outcomes
        if o.check.concept_id is not None and o.check.check_type != "plausibleGenderUseDescendants"
    }
    assert len(sqls) == 1 and "JOIN (VALUES" in sqls.pop()
    return {name: got[name] for name in CONCEPT_EXPECTED}


def test_concept_level_checks_match_hand_counts() -> None:
    assert concept_outcomes(concept_cdm()) == CONCEPT_EXPECTED


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


@pytest.mark.postgres
def test_concept_level_checks_on_postgresql() -> None:
    with postgres_copy(concept_cdm(), ("omop", "vocab"), "mlhops_dqd") as pg:
        assert concept_outcomes(pg) == CONCEPT_EXPECTED
