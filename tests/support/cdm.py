"""A tiny hand-made OMOP CDM (DuckDB) whose every cohort, label and feature value is known by hand.

``make_cdm`` holds the readmission cases (see the comment on each row); ``insert_t2d_rows`` the
incident type 2 diabetes cases. The feature, task, catalogue and features-asset tests share them.
"""

from __future__ import annotations

import duckdb

INPATIENT, ER, OUTPATIENT, ER_INPATIENT = 9201, 9203, 9202, 262
CREATININE, SYSTOLIC = 3051825, 3004249
HYPERTENSION, DIABETES, MI, ANEMIA, CARDIAC_ARREST = 320128, 201826, 4329847, 439777, 321042
LISINOPRIL, ATORVASTATIN, CLOPIDOGREL = 19080128, 1545959, 19075601
OBESITY = 4060985
CHEST_XRAY, ECHO = 4163872, 4230911

DDL = """
CREATE SCHEMA omop;
CREATE TABLE omop.person (
    person_id BIGINT, gender_concept_id INTEGER, year_of_birth INTEGER, month_of_birth INTEGER,
    day_of_birth INTEGER, birth_datetime TIMESTAMP, race_concept_id INTEGER, ethnicity_concept_id INTEGER);
CREATE TABLE omop.observation_period (
    observation_period_id BIGINT, person_id BIGINT,
    observation_period_start_date DATE, observation_period_end_date DATE);
CREATE TABLE omop.visit_occurrence (
    visit_occurrence_id BIGINT, person_id BIGINT, visit_concept_id INTEGER,
    visit_start_date DATE, visit_end_date DATE, care_site_id BIGINT);
CREATE TABLE omop.death (person_id BIGINT, death_date DATE);
CREATE TABLE omop.condition_occurrence (
    condition_occurrence_id BIGINT, person_id BIGINT, condition_concept_id INTEGER,
    condition_start_date DATE, condition_end_date DATE);
CREATE TABLE omop.drug_exposure (
    drug_exposure_id BIGINT, person_id BIGINT, drug_concept_id INTEGER,
    drug_exposure_start_date DATE, drug_exposure_end_date DATE);
CREATE TABLE omop.measurement (
    measurement_id BIGINT, person_id BIGINT, measurement_concept_id INTEGER,
    measurement_date DATE, measurement_datetime TIMESTAMP, value_as_number DOUBLE);
CREATE TABLE omop.observation (
    observation_id BIGINT, person_id BIGINT, observation_concept_id INTEGER, observation_date DATE);
CREATE TABLE omop.procedure_occurrence (
    procedure_occurrence_id BIGINT, person_id BIGINT, procedure_concept_id INTEGER, procedure_date DATE);
"""

# person_id, gender, year, month, day, birth_datetime, race, ethnicity
PERSONS = [
    (1, 8507, 1960, 5, 1, "1960-05-01", 8527, 0),  # adult male white
    (2, 8532, 1950, 7, 15, None, 8516, 38003563),  # female black hispanic, birth_datetime missing
    (3, 8532, 2010, 1, 1, "2010-01-01", 8527, 0),  # child
    (4, 8507, 1940, 1, 1, "1940-01-01", 8527, 0),  # dies during the stay
    (41, 8532, 1945, 1, 1, "1945-01-01", 0, 0),  # dies on the discharge day
    (5, 8507, 1970, 1, 1, "1970-01-01", 8527, 0),  # outpatient / ER only
    (6, 8532, 1980, 1, 1, "1980-01-01", 8515, 0),  # ER+inpatient stay, asian
    (7, 8507, 1975, 1, 1, "1975-01-01", 8527, 0),  # stay with discharge before admission
    (8, 8507, 1965, 1, 1, "1965-01-01", 8527, 0),  # readmitted on day 31
    (9, 8532, 1955, 1, 1, "1955-01-01", 8527, 0),  # readmitted, observation ends soon after
]

OBSERVATION_END = {2: "2020-04-20", 9: "2020-10-10"}  # everyone else: 2021-12-31

# visit_occurrence_id, person_id, concept, start, end, care_site_id
VISITS = [
    (104, 1, OUTPATIENT, "2019-06-01", "2019-06-01", 10),
    (105, 1, ER, "2019-12-31", "2019-12-31", 10),
    (101, 1, INPATIENT, "2020-01-01", "2020-01-05", 10),  # readmitted on day 10 -> 1
    (102, 1, INPATIENT, "2020-01-15", "2020-01-18", 10),  # next stay on day 40 -> 0
    (103, 1, INPATIENT, "2020-02-27", "2020-03-01", 11),  # no readmission, full follow-up -> 0
    (201, 2, INPATIENT, "2020-03-01", "2020-03-03", 20),  # readmitted exactly on day 30 -> 1
    (202, 2, INPATIENT, "2020-04-02", "2020-04-05", 20),  # observation ends on day 15 -> censored
    (301, 3, INPATIENT, "2020-05-01", "2020-05-02", 30),  # child -> excluded
    (401, 4, INPATIENT, "2020-06-01", "2020-06-10", 40),  # died 2020-06-08 -> excluded
    (411, 41, INPATIENT, "2020-06-01", "2020-06-10", 40),  # died on discharge day -> excluded
    (501, 5, OUTPATIENT, "2020-06-01", "2020-06-01", 50),
    (502, 5, ER, "2020-06-02", "2020-06-02", 50),
    (601, 6, ER_INPATIENT, "2020-07-01", "2020-07-04", 60),
    (701, 7, INPATIENT, "2020-07-10", "2020-07-08", 70),  # discharge before admission -> excluded
    (801, 8, INPATIENT, "2020-07-20", "2020-08-01", 80),  # next stay on day 31 -> 0
    (802, 8, INPATIENT, "2020-09-01", "2020-09-03", 80),
    (901, 9, INPATIENT, "2020-09-25", "2020-10-01", 90),  # readmitted day 4 -> kept although obs ends
    (902, 9, INPATIENT, "2020-10-05", "2020-10-08", 90),  # 2 days of follow-up -> censored
]

DEATHS = [(4, "2020-06-08"), (41, "2020-06-10")]

# condition_occurrence_id, person_id, concept, start, end
CONDITIONS = [
    (1, 1, HYPERTENSION, "2015-01-01", None),  # ongoing -> active in every window
    (2, 1, DIABETES, "2018-01-01", "2018-06-01"),  # ended before the lookback window of 101
    (3, 1, MI, "2020-01-02", "2020-01-03"),  # during the index stay, before discharge
    (4, 2, DIABETES, "2019-05-01", None),
]

# drug_exposure_id, person_id, concept, start, end
DRUGS = [
    (1, 1, LISINOPRIL, "2019-11-01", "2020-11-01"),
    (2, 1, ATORVASTATIN, "2020-01-05", "2020-06-01"),  # starts on the index date of 101
]

# measurement_id, person_id, concept, date, datetime, value
MEASUREMENTS = [
    (1, 1, CREATININE, "2019-12-01", "2019-12-01 08:00", 1.0),
    (2, 1, CREATININE, "2020-01-03", "2020-01-03 08:00", 1.5),  # during the stay -> latest for 101
    (3, 1, CREATININE, "2020-01-05", "2020-01-05 07:00", 9.9),  # on the index date -> not for 101
    (4, 1, SYSTOLIC, "2020-01-02", "2020-01-02 09:00", 120.0),
    (5, 1, SYSTOLIC, "2020-01-02", "2020-01-02 18:00", 135.0),  # same day, later time -> latest
    (6, 2, CREATININE, "2020-02-01", None, 0.8),
]

OBSERVATIONS = [(1, 1, OBESITY, "2010-01-01")]

# procedure_occurrence_id, person_id, concept, date
PROCEDURES = [(1, 1, ECHO, "2019-12-31")]


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if rows:
        placeholders = ", ".join("?" for _ in rows[0])
        con.executemany(f"INSERT INTO omop.{table} VALUES ({placeholders})", rows)


def make_cdm(extra: dict[str, list[tuple]] | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(DDL)
    data = {
        "person": PERSONS,
        "observation_period": [(p[0], p[0], "2000-01-01", OBSERVATION_END.get(p[0], "2021-12-31")) for p in PERSONS],
        "visit_occurrence": VISITS,
        "death": DEATHS,
        "condition_occurrence": CONDITIONS,
        "drug_exposure": DRUGS,
        "measurement": MEASUREMENTS,
        "observation": OBSERVATIONS,
        "procedure_occurrence": PROCEDURES,
    }
    for table, rows in (extra or {}).items():
        data[table] = data[table] + rows
    for table, rows in data.items():
        insert_rows(con, table, rows)
    return con


T2D = 201826

# person_id, year of birth, observation period end (start is 2015-01-01 for everyone)
T2D_PERSONS = {
    1: (1960, "2022-12-31"),  # first of two qualifying visits; T2D 275 days later -> 1
    2: (1960, "2022-12-31"),  # T2D 397 days after index -> 0
    3: (1960, "2022-12-31"),  # never T2D -> 0
    4: (1960, "2022-12-31"),  # T2D in 2017 -> excluded (prior outcome)
    5: (1960, "2022-12-31"),  # T2D on the index day -> excluded (the window ends on day 0)
    6: (1960, "2022-12-31"),  # first visit 151 days into observation (washout fails) -> indexed on the second
    7: (1960, "2019-10-01"),  # observation ends 214 days after index, no T2D -> censored
    8: (1960, "2019-10-01"),  # observation ends early but T2D observed on day 153 -> kept, 1
    9: (2005, "2022-12-31"),  # 14 at index -> excluded by age
    10: (1960, "2022-12-31"),  # inpatient visit only -> no index event
    11: (1960, "2022-12-31"),  # T2D on day 365 exactly (2020 is a leap year) -> 1
}
T2D_VISITS = [  # visit_occurrence_id, person_id, concept, start, end, care_site_id
    (11, 1, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (12, 1, OUTPATIENT, "2019-09-01", "2019-09-01", 1),
    (21, 2, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (31, 3, OUTPATIENT, "2019-03-01", "2019-03-01", 2),
    (41, 4, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (51, 5, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (61, 6, OUTPATIENT, "2015-06-01", "2015-06-01", 1),
    (62, 6, OUTPATIENT, "2016-02-01", "2016-02-01", 1),
    (71, 7, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (81, 8, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (91, 9, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
    (101, 10, INPATIENT, "2019-03-01", "2019-03-05", 1),
    (111, 11, OUTPATIENT, "2019-03-01", "2019-03-01", 1),
]
T2D_CONDITIONS = [  # condition_occurrence_id, person_id, concept, start, end
    (1, 1, T2D, "2019-12-01", None),
    (2, 2, T2D, "2020-04-01", None),
    (4, 4, T2D, "2017-05-01", None),
    (5, 5, T2D, "2019-03-01", None),
    (8, 8, T2D, "2019-08-01", None),
    (11, 11, T2D, "2020-02-29", None),
]


def insert_t2d_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    insert_rows(
        con, "person", [(p, 8507, year, 1, 1, f"{year}-01-01", 8527, 0) for p, (year, _) in T2D_PERSONS.items()]
    )
    insert_rows(con, "observation_period", [(p, p, "2015-01-01", end) for p, (_, end) in T2D_PERSONS.items()])
    insert_rows(con, "visit_occurrence", T2D_VISITS)
    insert_rows(con, "condition_occurrence", T2D_CONDITIONS)
