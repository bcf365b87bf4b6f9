"""The dbt project `dbt_omop`: raw Synthea tables -> OMOP CDM v5.4, on a tiny hand-made warehouse.

One module-scoped fixture builds the raw schema (from the extract contract) in a temporary
DuckDB file and runs `dbt build` (seeds + models + tests) through dbt's Python API. A
second warehouse with the same rows inserted in reverse order is built once more to prove
that surrogate ids do not depend on row order or on the build.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.support.dbt_build import dbt_build
from tests.support.raw_warehouse import create_raw_warehouse, pseudo, table_digest

CDM_TABLES = (
    "person",
    "observation_period",
    "visit_occurrence",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
    "death",
    "care_site",
    "provider",
    "visit_detail",
    "device_exposure",
    "payer_plan_period",
    "location",
    "condition_era",
    "drug_era",
)


P1, P2, P3, P_UNKNOWN = (pseudo(p) for p in ("patient-1", "patient-2", "patient-3", "patient-9"))
E1, E2, E3, E4, E5, E6 = (pseudo(f"encounter-{i}") for i in range(1, 7))

EXTRACTS = [
    ("extract_2024_01", "2024-01-02 10:00:00", "2019-01-01", "2023-12-31"),
    ("extract_2024_02", "2024-02-02 10:00:00", "2024-01-01", "2024-01-31"),
]
X1, X2 = (e[0] for e in EXTRACTS)

# table -> rows; each row carries its extract and its line in that extract's CSV.
RAW_ROWS: dict[str, list[dict]] = {
    "patients": [
        {
            "extract_id": X1,
            "source_line": 2,
            "id": P1,
            "birthdate": "1950-03-04",
            "race": "white",
            "ethnicity": "nonhispanic",
            "gender": "M",
            "state": "MA",
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "id": P2,
            "birthdate": "1960-07-08",
            "race": "white",
            "ethnicity": "nonhispanic",
            "gender": "M",
        },
        {
            "extract_id": X1,
            "source_line": 4,
            "id": P3,
            "birthdate": "1990-11-12",
            "race": "hawaiian",
            "ethnicity": "nonhispanic",
            "gender": "F",
        },
        # A later delivery of patient 2: it wins (gender, race, ethnicity, death date).
        {
            "extract_id": X2,
            "source_line": 2,
            "id": P2,
            "birthdate": "1960-07-08",
            "deathdate": "2023-06-01",
            "race": "black",
            "ethnicity": "hispanic",
            "gender": "F",
            "state": "massachusetts ",
        },  # a full state name (staging trims it), as Synthea writes it
    ],
    "organizations": [
        {"extract_id": X1, "source_line": 2, "id": "org-1", "name": "General Hospital"},
        {"extract_id": X1, "source_line": 3, "id": "org-2", "name": "Old Clinic Name"},
        {"extract_id": X2, "source_line": 2, "id": "org-2", "name": "Family Clinic"},
    ],
    "providers": [
        {
            "extract_id": X1,
            "source_line": 2,
            "id": "prov-1",
            "organization": "org-1",
            "gender": "F",
            "speciality": "GENERAL PRACTICE",
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "id": "prov-2",
            "organization": "org-2",
            "gender": "M",
            "speciality": "GENERAL PRACTICE",
        },
    ],
    "payers": [],
    "devices": [],
    "payer_transitions": [],
    "encounters": [
        {
            "extract_id": X1,
            "source_line": 2,
            "id": E1,
            "patient": P1,
            "start": "2020-01-01 09:00:00",
            "stop": "2020-01-01 09:30:00",
            "organization": "org-2",
            "provider": "prov-2",
            "encounterclass": "ambulatory",
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "id": E2,
            "patient": P1,
            "start": "2020-02-01 08:00:00",
            "stop": "2020-02-05 12:00:00",
            "organization": "org-1",
            "provider": "prov-1",
            "encounterclass": "inpatient",
        },
        {
            "extract_id": X1,
            "source_line": 4,
            "id": E6,
            "patient": P1,
            "start": "2020-03-01 10:00:00",
            "stop": "2020-03-01 10:20:00",
            "organization": "org-1",
            "provider": "prov-1",
            "encounterclass": "outpatient",
        },
        {
            "extract_id": X1,
            "source_line": 5,
            "id": E3,
            "patient": P2,
            "start": "2021-03-01 22:00:00",
            "stop": "2021-03-01 23:00:00",
            "organization": "org-1",
            "encounterclass": "emergency",
        },
        {
            "extract_id": X1,
            "source_line": 6,
            "id": E4,
            "patient": P2,
            "start": "2021-04-01 12:00:00",
            "stop": None,
            "organization": "org-9",
            "encounterclass": "Urgent Care",
        },
        {
            "extract_id": X1,
            "source_line": 7,
            "id": E5,
            "patient": P3,
            "start": "2022-05-05 09:00:00",
            "stop": "2022-05-05 09:45:00",
            "organization": "org-2",
            "provider": "prov-2",
            "encounterclass": "wellness",
        },
        # Re-delivered encounter: the later extract's stop time wins, still one visit.
        {
            "extract_id": X2,
            "source_line": 2,
            "id": E3,
            "patient": P2,
            "start": "2021-03-01 22:00:00",
            "stop": "2021-03-02 01:00:00",
            "organization": "org-1",
            "encounterclass": "emergency",
        },
    ],
    "conditions": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": P1,
            "encounter": E1,
            "start": "2020-01-01",
            "code": "59621000",
            "description": "Essential hypertension",
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "patient": P1,
            "encounter": E2,
            "start": "2020-02-01",
            "code": "15777000",
            "description": "Prediabetes",
        },
        {
            "extract_id": X1,
            "source_line": 4,
            "patient": P1,
            "encounter": E2,
            "start": "2020-02-01",
            "code": "162864005",
            "description": "Body mass index 30+ - obesity",
        },
        {
            "extract_id": X1,
            "source_line": 5,
            "patient": P2,
            "encounter": E3,
            "start": "2021-03-01",
            "code": "999999999",
            "description": "Unknown finding",
        },
        {
            "extract_id": X1,
            "source_line": 6,
            "patient": P2,
            "encounter": E3,
            "start": "2021-03-01",
            "stop": "2021-02-01",
            "system": "SNOMED-CT",
            "code": "44054006",
            "description": "Diabetes (stop before start)",
        },
        {
            "extract_id": X2,
            "source_line": 2,
            "patient": P3,
            "encounter": E5,
            "start": "2022-05-05",
            "system": "ICD-10-CM",
            "code": "E11.9",
            "description": "Type 2 diabetes",
        },
        # A patient the warehouse does not know: dropped.
        {
            "extract_id": X2,
            "source_line": 3,
            "patient": P_UNKNOWN,
            "encounter": None,
            "start": "2022-01-01",
            "code": "59621000",
            "description": "Essential hypertension",
        },
    ],
    "medications": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": P1,
            "encounter": E2,
            "start": "2020-02-01 09:00:00",
            "stop": "2020-08-01 09:00:00",
            "code": "314076",
            "description": "lisinopril 10 MG Oral Tablet",
            "dispenses": 6,
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "patient": P2,
            "encounter": E3,
            "start": "2021-03-01 22:30:00",
            "code": "999999",
            "description": "Unknown drug",
        },
    ],
    "immunizations": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": P3,
            "encounter": E5,
            "date": "2022-05-05 09:10:00",
            "code": "140",
            "description": "Influenza vaccine",
        },
    ],
    "observations": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": P1,
            "encounter": E1,
            "date": "2020-01-01 09:05:00",
            "category": "vital-signs",
            "code": "8480-6",
            "description": "Systolic Blood Pressure",
            "value": "120.0",
            "units": "mm[Hg]",
            "type": "numeric",
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "patient": P1,
            "encounter": E1,
            "date": "2020-01-01 09:05:00",
            "category": "vital-signs",
            "code": "39156-5",
            "description": "Body Mass Index",
            "value": "31.2",
            "units": "kg/m2",
            "type": "numeric",
        },
        {
            "extract_id": X1,
            "source_line": 4,
            "patient": P1,
            "encounter": E1,
            "date": "2020-01-01 09:06:00",
            "category": "survey",
            "code": "72166-2",
            "description": "Tobacco smoking status",
            "value": "Never smoked tobacco (finding)",
            "type": "text",
        },
        {
            "extract_id": X1,
            "source_line": 5,
            "patient": P2,
            "encounter": E3,
            "date": "2021-03-01 22:10:00",
            "code": "QALY",
            "description": "Quality adjusted life years",
            "value": "42.1",
            "units": "a",
            "type": "numeric",
        },
        {
            "extract_id": X1,
            "source_line": 6,
            "patient": P3,
            "encounter": E5,
            "date": "2022-05-05 09:20:00",
            "category": "survey",
            "code": "X-TEXT",
            "description": "Free text answer",
            "value": "feels fine",
            "units": "null",
            "type": "text",
        },
    ],
    "procedures": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": P1,
            "encounter": E2,
            "start": "2020-02-02 10:00:00",
            "stop": "2020-02-02 14:00:00",
            "code": "232717009",
            "description": "Coronary artery bypass grafting",
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "patient": P1,
            "encounter": E2,
            "start": "2020-02-03 10:00:00",
            "stop": "2020-02-03 10:30:00",
            "code": "127783003",
            "description": "Spirometry",
        },
        {
            "extract_id": X1,
            "source_line": 4,
            "patient": P3,
            "encounter": E5,
            "start": "2022-05-05 09:30:00",
            "code": "123456",
            "description": "Unknown procedure",
        },
    ],
    "allergies": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": P3,
            "encounter": E5,
            "start": "2022-05-05",
            "code": "300916003",
            "system": "SNOMED-CT",
            "description": "Latex allergy",
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "patient": P3,
            "encounter": E5,
            "start": "2022-05-05",
            "code": "314076",
            "system": "RxNorm",
            "description": "lisinopril allergy",
        },
    ],
}

EXPECTED_COUNTS = {
    "person": 3,
    "observation_period": 3,
    "visit_occurrence": 6,
    "condition_occurrence": 5,
    "drug_exposure": 3,
    "procedure_occurrence": 2,
    "measurement": 4,
    "observation": 5,
    "death": 1,
    "care_site": 2,
    "provider": 2,
    "visit_detail": 6,
    "device_exposure": 0,
    "payer_plan_period": 0,
    "location": 2,
    "condition_era": 3,
    "drug_era": 1,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tmp folder of one built warehouse (warehouse.duckdb) and its dbt target dir."""
    project_tmp = tmp_path_factory.mktemp("dbt_omop")
    warehouse = project_tmp / "warehouse.duckdb"
    create_raw_warehouse(warehouse, EXTRACTS, RAW_ROWS)
    dbt_build(project_tmp, {"MLHOPS_WAREHOUSE_PATH": str(warehouse)})
    yield project_tmp


@pytest.fixture()
def con(built: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(built / "warehouse.duckdb")) as connection:
        yield connection


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple:
    rows = con.execute(sql, params or []).fetchall()
    assert len(rows) == 1, f"expected one row, got {rows}"
    return rows[0]


def person_id(con: duckdb.DuckDBPyConnection, patient: str) -> int:
    return one(con, "SELECT person_id FROM omop.person WHERE person_source_value = ?", [patient])[0]


def test_schemas_and_row_counts(con):
    schemas = {r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()}
    assert {"raw", "vocab", "omop_staging", "omop_int", "omop"} <= schemas
    counts = {t: con.execute(f"SELECT count(*) FROM omop.{t}").fetchone()[0] for t in CDM_TABLES}
    assert counts == EXPECTED_COUNTS


def test_cdm_columns_follow_v54_order(con):
    columns = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'omop' AND table_name = 'measurement' ORDER BY ordinal_position"
        ).fetchall()
    ]
    assert columns[:4] == ["measurement_id", "person_id", "measurement_concept_id", "measurement_date"]
    assert columns[-2:] == ["measurement_event_id", "meas_event_field_concept_id"]
    assert len(columns) == 23


def test_person_latest_delivery_wins_and_demographics(con):
    p2 = one(
        con,
        "SELECT gender_concept_id, race_concept_id, ethnicity_concept_id, year_of_birth"
        " FROM omop.person WHERE person_source_value = ?",
        [P2],
    )
    assert p2 == (8532, 8516, 38003563, 1960)
    p3 = one(
        con,
        "SELECT gender_concept_id, race_concept_id, race_source_value FROM omop.person WHERE person_source_value = ?",
        [P3],
    )
    assert p3 == (8532, 8557, "hawaiian")  # Native Hawaiian or Other Pacific Islander
    death = one(con, "SELECT death_date FROM omop.death")
    assert str(death[0]) == "2023-06-01"
    # Patient 1: two visits at org-1, one at org-2.
    assert one(
        con,
        "SELECT cs.care_site_source_value FROM omop.person p JOIN omop.care_site cs"
        " USING (care_site_id) WHERE p.person_source_value = ?",
        [P1],
    ) == ("org-1",)
    assert one(con, "SELECT care_site_name FROM omop.care_site WHERE care_site_source_value = 'org-2'") == (
        "Family Clinic",
    )


def test_location_state_codes(con):
    rows = con.execute(
        "SELECT location_source_value, state, location_id FROM omop.location ORDER BY location_source_value"
    ).fetchall()
    assert [r[:2] for r in rows] == [("MA", "MA"), ("massachusetts", "MA")]  # full name -> USPS code
    by_source = {r[0]: r[2] for r in rows}
    assert one(con, "SELECT location_id FROM omop.person WHERE person_source_value = ?", [P2]) == (
        by_source["massachusetts"],
    )


def test_visits(con):
    rows = dict(con.execute("SELECT visit_source_value, visit_concept_id FROM omop.visit_occurrence").fetchall())
    assert rows == {
        "ambulatory": 9202,
        "inpatient": 9201,
        "outpatient": 9202,
        "emergency": 9203,
        "urgentcare": 9203,
        "wellness": 9202,
    }
    inpatient = one(
        con, "SELECT visit_start_date, visit_end_date FROM omop.visit_occurrence WHERE visit_concept_id = 9201"
    )
    assert (inpatient[1] - inpatient[0]).days == 4
    er = one(con, "SELECT visit_end_datetime FROM omop.visit_occurrence WHERE visit_source_value = 'emergency'")
    assert str(er[0]) == "2021-03-02 01:00:00"  # the later delivery of the encounter
    urgent = one(
        con,
        "SELECT visit_start_date = visit_end_date, care_site_id FROM omop.visit_occurrence"
        " WHERE visit_source_value = 'urgentcare'",
    )
    assert urgent == (True, None)  # no stop -> ends at start; unknown org -> no care site


def test_domain_routing(con):
    assert one(
        con,
        "SELECT condition_concept_id, condition_source_concept_id FROM omop.condition_occurrence"
        " WHERE condition_source_value = '15777000'",
    ) == (4311629, 40316773)
    assert one(
        con, "SELECT observation_concept_id FROM omop.observation WHERE observation_source_value = '162864005'"
    ) == (4060985,)
    assert one(
        con,
        "SELECT measurement_concept_id, visit_occurrence_id IS NOT NULL FROM omop.measurement"
        " WHERE measurement_source_value = '127783003'",
    ) == (4133840, True)
    assert one(
        con, "SELECT procedure_concept_id FROM omop.procedure_occurrence WHERE procedure_source_value = '232717009'"
    ) == (4336464,)
    assert (
        one(
            con,
            "SELECT drug_concept_id, drug_exposure_end_date FROM omop.drug_exposure WHERE drug_source_value = '314076'",
        )[0]
        == 19080128
    )
    # Routed rows do not also land in their source file's default table.
    assert (
        con.execute(
            "SELECT count(*) FROM omop.condition_occurrence WHERE condition_source_value = '162864005'"
        ).fetchone()[0]
        == 0
    )
    assert (
        con.execute(
            "SELECT count(*) FROM omop.procedure_occurrence WHERE procedure_source_value = '127783003'"
        ).fetchone()[0]
        == 0
    )


def test_unmapped_codes_keep_row_with_concept_zero(con):
    assert one(
        con,
        "SELECT condition_concept_id, condition_source_concept_id FROM omop.condition_occurrence"
        " WHERE condition_source_value = '999999999'",
    ) == (0, 0)
    assert one(
        con, "SELECT condition_concept_id FROM omop.condition_occurrence WHERE condition_source_value = 'E11.9'"
    ) == (0,)
    assert one(con, "SELECT drug_concept_id FROM omop.drug_exposure WHERE drug_source_value = '140'") == (0,)
    assert one(
        con, "SELECT procedure_concept_id FROM omop.procedure_occurrence WHERE procedure_source_value = '123456'"
    ) == (0,)
    assert one(
        con,
        "SELECT measurement_concept_id, value_as_number, unit_concept_id FROM omop.measurement"
        " WHERE measurement_source_value = 'QALY'",
    ) == (0, 42.1, 0)
    assert one(
        con,
        "SELECT observation_concept_id, value_as_string, unit_source_value FROM omop.observation"
        " WHERE observation_source_value = 'X-TEXT'",
    ) == (0, "feels fine", None)  # unit text 'null' is no unit
    # A drug allergy is an observation, with the drug as its value.
    assert one(
        con,
        "SELECT observation_concept_id, value_as_concept_id FROM omop.observation"
        " WHERE observation_source_value = '314076'",
    ) == (0, 19080128)


def test_measurement_and_observation_values(con):
    assert one(
        con,
        "SELECT value_as_number, unit_concept_id, unit_source_value FROM omop.measurement"
        " WHERE measurement_source_value = '8480-6'",
    ) == (120.0, 8876, "mm[Hg]")
    assert one(
        con, "SELECT value_as_number, unit_concept_id FROM omop.measurement WHERE measurement_source_value = '39156-5'"
    ) == (31.2, 9531)
    assert one(
        con,
        "SELECT observation_concept_id, value_as_string, value_as_number FROM omop.observation"
        " WHERE observation_source_value = '72166-2'",
    ) == (43054909, "Never smoked tobacco (finding)", None)


def test_events_link_to_person_and_visit(con):
    p1 = person_id(con, P1)
    visit = one(
        con,
        "SELECT visit_occurrence_id, provider_id FROM omop.visit_occurrence"
        " WHERE person_id = ? AND visit_concept_id = 9201",
        [p1],
    )
    assert (
        one(
            con,
            "SELECT visit_occurrence_id, provider_id FROM omop.procedure_occurrence"
            " WHERE procedure_source_value = '232717009'",
        )
        == visit
    )
    # The diagnosis whose stop lies before its start keeps no end date.
    assert one(
        con, "SELECT condition_end_date FROM omop.condition_occurrence WHERE condition_source_value = '44054006'"
    ) == (None,)


def test_observation_period_covers_visits_and_events(con):
    p1 = person_id(con, P1)
    period = one(
        con,
        "SELECT observation_period_start_date, observation_period_end_date"
        " FROM omop.observation_period WHERE person_id = ?",
        [p1],
    )
    assert (str(period[0]), str(period[1])) == ("2020-01-01", "2020-08-01")  # ends with the drug


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("person", ["person_id", "gender_concept_id", "year_of_birth", "race_concept_id", "ethnicity_concept_id"]),
        (
            "visit_occurrence",
            [
                "visit_occurrence_id",
                "person_id",
                "visit_concept_id",
                "visit_start_date",
                "visit_end_date",
                "visit_type_concept_id",
            ],
        ),
        (
            "condition_occurrence",
            [
                "condition_occurrence_id",
                "person_id",
                "condition_concept_id",
                "condition_start_date",
                "condition_type_concept_id",
            ],
        ),
        (
            "drug_exposure",
            [
                "drug_exposure_id",
                "person_id",
                "drug_concept_id",
                "drug_exposure_start_date",
                "drug_exposure_end_date",
                "drug_type_concept_id",
            ],
        ),
        (
            "procedure_occurrence",
            [
                "procedure_occurrence_id",
                "person_id",
                "procedure_concept_id",
                "procedure_date",
                "procedure_type_concept_id",
            ],
        ),
        (
            "measurement",
            [
                "measurement_id",
                "person_id",
                "measurement_concept_id",
                "measurement_date",
                "measurement_type_concept_id",
            ],
        ),
        (
            "observation",
            [
                "observation_id",
                "person_id",
                "observation_concept_id",
                "observation_date",
                "observation_type_concept_id",
            ],
        ),
    ],
)
def test_required_fields_not_null(con, table, columns):
    nulls = " OR ".join(f"{c} IS NULL" for c in columns)
    assert con.execute(f"SELECT count(*) FROM omop.{table} WHERE {nulls}").fetchone()[0] == 0


def test_no_raw_identifier_or_unknown_patient_reaches_cdm(con):
    assert con.execute("SELECT count(*) FROM omop.person WHERE person_source_value = ?", [P_UNKNOWN]).fetchone()[0] == 0
    assert (
        con.execute(
            "SELECT count(*) FROM omop.condition_occurrence WHERE person_id NOT IN (SELECT person_id FROM omop.person)"
        ).fetchone()[0]
        == 0
    )


def test_surrogate_ids_are_stable_across_builds_and_row_order(built, tmp_path):
    with duckdb.connect(str(built / "warehouse.duckdb")) as first:
        expected = {t: table_digest(first, t) for t in CDM_TABLES}
    warehouse = tmp_path / "warehouse.duckdb"
    create_raw_warehouse(warehouse, EXTRACTS, RAW_ROWS, reverse=True)
    dbt_build(built, {"MLHOPS_WAREHOUSE_PATH": str(warehouse)})
    with duckdb.connect(str(warehouse)) as second:
        assert {t: table_digest(second, t) for t in CDM_TABLES} == expected
