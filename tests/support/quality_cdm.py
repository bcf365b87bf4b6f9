"""Tiny hand-made CDMs (DuckDB, in memory) for the data-quality checks and the ML-DQA data elements.

The unit tests hold the outcomes counted by hand; the PostgreSQL parity tests copy the same
tables into PostgreSQL and expect the DuckDB outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb

from mlhops_dagster.quality.catalogue import checks_by_table, default_catalogue
from mlhops_dagster.quality.elements import element_values_sql
from mlhops_dagster.quality.runner import run_table_checks

TODAY = dt.date(2026, 1, 1)
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


def empty_cdm() -> duckdb.DuckDBPyConnection:
    """person, visit_occurrence and measurement with a few columns and no rows: each test inserts what it counts."""
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


def dqd_cdm() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for statement in TINY_CDM.split(";"):
        if statement.strip():
            con.execute(statement)
    return con


def run_all(con) -> dict[str, tuple[str, int, int]]:
    outcomes = [o for table, checks in CATALOGUE.items() for o in run_table_checks(con, table, checks)]
    return {o.check.name: (o.status, o.num_violated, o.num_denominator) for o in outcomes}


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


def concept_cdm() -> duckdb.DuckDBPyConnection:
    con = dqd_cdm()
    con.execute(CONCEPT_ROWS)
    return con


def concept_outcomes(con, names: Iterable[str] | None = None) -> dict[str, tuple[str, int, int]]:
    """Outcomes of the measurement checks named (all concept-specific ones when None)."""
    outcomes = run_table_checks(con, "measurement", CATALOGUE["measurement"])
    got = {o.check.name: (o.status, o.num_violated, o.num_denominator) for o in outcomes}
    # every concept-specific check comes from the one grouped statement, and says so
    sqls = {
        o.sql
        for o in outcomes
        if o.check.concept_id is not None and o.check.check_type != "plausibleGenderUseDescendants"
    }
    assert len(sqls) == 1 and "JOIN (VALUES" in sqls.pop()
    if names is None:
        names = [o.check.name for o in outcomes if o.check.concept_id is not None]
    return {name: got[name] for name in names}


GLUCOSE, CREATININE, TEMPERATURE, WEIGHT, HBA1C, PAIN = 3000483, 3051825, 3020891, 3025315, 3004410, 43055141

# (measurement_id, person_id, concept, value, unit_concept_id, unit_source_value) -> (rule, harmonised value)
CASES: list[tuple[tuple, tuple[str, float | None]]] = [
    ((1, 1, GLUCOSE, 100.0, 8840, "mg/dL"), ("as_recorded", 100.0)),
    ((2, 1, GLUCOSE, 5.5, 8753, "mmol/L"), ("converted", 5.5 * 18.016)),
    ((3, 1, GLUCOSE, 250.0, 8753, "mmol/L"), ("implausible", None)),  # a mg/dL number labelled mmol/L: 4,504 mg/dL
    ((4, 2, GLUCOSE, 90.0, 0, "mg/dl"), ("as_recorded", 90.0)),  # unmapped unit: the source value, any case
    ((5, 2, GLUCOSE, 90.0, 0, "g/L"), ("unit_unknown", None)),  # no conversion known for g/L glucose
    ((6, 2, GLUCOSE, None, 8840, "mg/dL"), ("no_value", None)),
    ((7, 2, GLUCOSE, 95.0, 0, None), ("unit_assumed", 95.0)),  # no unit recorded: canonical, still range-checked
    ((8, 3, CREATININE, 88.42, 8749, "umol/L"), ("converted", 1.0)),
    ((9, 3, TEMPERATURE, 98.6, 9289, "[degF]"), ("converted", 37.0)),
    ((10, 3, TEMPERATURE, 37.2, 0, "Cel"), ("as_recorded", 37.2)),
    ((11, 3, WEIGHT, 154.0, 8739, "[lb_av]"), ("converted", 154.0 * 0.45359237)),
    ((12, 4, WEIGHT, 900.0, 9529, "kg"), ("implausible", None)),
    ((13, 4, HBA1C, 53.0, 9579, "mmol/mol"), ("converted", 0.09148 * 53 + 2.152)),
    ((14, 4, PAIN, 4.0, 0, "{score}"), ("as_recorded", 4.0)),
    ((15, 4, PAIN, 14.0, 0, "{score}"), ("implausible", None)),
    ((16, 4, 999, 1.0, 8840, "mg/dL"), None),  # a concept no element uses: not an element row
]


def element_cdm() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop")
    con.execute(
        "CREATE TABLE omop.measurement (measurement_id BIGINT, person_id BIGINT, measurement_concept_id INTEGER, "
        "measurement_date DATE, measurement_datetime TIMESTAMP, visit_occurrence_id BIGINT, "
        "value_as_number DOUBLE, unit_concept_id INTEGER, unit_source_value VARCHAR)"
    )
    con.executemany(
        "INSERT INTO omop.measurement VALUES (?, ?, ?, DATE '2020-01-01', NULL, NULL, ?, ?, ?)",
        [list(row) for row, _ in CASES],
    )
    con.execute("CREATE TABLE omop.person (person_id BIGINT)")
    con.execute("INSERT INTO omop.person VALUES (1), (2), (3), (4)")
    con.execute("CREATE TABLE omop.condition_occurrence (person_id BIGINT, condition_concept_id INTEGER)")
    con.execute("INSERT INTO omop.condition_occurrence VALUES (1, 320128), (1, 320128), (2, 320128), (3, 201826)")
    con.execute("CREATE TABLE omop.drug_exposure (person_id BIGINT, drug_concept_id INTEGER)")
    con.execute("INSERT INTO omop.drug_exposure VALUES (1, 1545959), (2, 1539411), (2, 19075601)")
    con.execute("CREATE TABLE omop.observation (person_id BIGINT, observation_concept_id INTEGER)")
    return con


def element_rows(con) -> dict[int, tuple[str, float | None]]:
    rows = con.execute(f"SELECT measurement_id, rule, value_as_number FROM ({element_values_sql('omop')}) v").fetchall()
    return {int(i): (rule, None if value is None else float(value)) for i, rule, value in rows}
