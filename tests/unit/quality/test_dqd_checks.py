"""Each DQD check type on a tiny hand-built CDM (DuckDB); tests/integration/test_postgres_quality.py runs them on PostgreSQL."""

from __future__ import annotations

from mlhops_dagster.quality.checks import default_catalogue, run_table_checks
from tests.support.quality_cdm import CATALOGUE, TODAY, concept_cdm, concept_outcomes, dqd_cdm, run_all

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


def test_catalogue_is_per_table_and_names_are_unique() -> None:
    catalogue = default_catalogue(TODAY)
    assert len({c.name for c in catalogue}) == len(catalogue) > 1000
    for table, checks in CATALOGUE.items():
        by_spec: dict[str, set[str]] = {}
        for c in checks:
            by_spec.setdefault(c.spec_name, set()).add(c.severity)
        assert all(len(s) == 1 for s in by_spec.values()), table  # one severity per Dagster check
        assert len(by_spec) <= 50, table


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
