"""dbt_omop visit logic (OHDSI ETL-Synthea), visit_detail, eras, new CDM tables, mapping rate.

Same style as tests/test_dbt_omop.py: one module-scoped fixture builds the raw schema from
the extract contract in a temporary DuckDB file (warehouse.duckdb) and runs `dbt build`
through dbt's Python API. Each scenario lives in its own patient so the cases do not mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.support.dbt_build import dbt_build
from tests.support.raw_warehouse import create_raw_warehouse, pseudo, table_digest

STABLE_TABLES = (
    "person",
    "visit_occurrence",
    "visit_detail",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "device_exposure",
    "payer_plan_period",
    "location",
    "care_site",
    "condition_era",
    "drug_era",
    "observation_period",
)


# One patient per scenario.
STAYS, ER_ADMIT, ER_BEFORE, SAME_DAY_ER = (pseudo(f"visit-patient-{i}") for i in range(1, 5))
(I1, I2, I3, I4, O1, ER1, I5, ER2, I6, ER3, ER4, UC1, AMB1) = (
    pseudo(f"visit-encounter-{name}")
    for name in ("i1", "i2", "i3", "i4", "o1", "er1", "i5", "er2", "i6", "er3", "er4", "uc1", "amb1")
)

X1, X2 = "extract_2024_01", "extract_2024_02"
EXTRACTS = [
    (X1, "2024-01-02 10:00:00", "2019-01-01", "2023-12-31"),
    (X2, "2024-02-02 10:00:00", "2024-01-01", "2024-01-31"),
]


def enc(line: int, eid: str, patient: str, cls: str, start: str, stop: str | None) -> dict:
    return {
        "extract_id": X1,
        "source_line": line,
        "id": eid,
        "patient": patient,
        "start": start,
        "stop": stop,
        "organization": "org-1",
        "provider": "prov-1",
        "encounterclass": cls,
    }


def cond(line: int, patient: str, encounter: str | None, start: str, code: str, stop: str | None = None) -> dict:
    return {
        "extract_id": X1,
        "source_line": line,
        "patient": patient,
        "encounter": encounter,
        "start": start,
        "stop": stop,
        "code": code,
    }


def med(line: int, patient: str, encounter: str, start: str, stop: str) -> dict:
    return {
        "extract_id": X1,
        "source_line": line,
        "patient": patient,
        "encounter": encounter,
        "start": start,
        "stop": stop,
        "code": "314076",
        "description": "lisinopril 10 MG Oral Tablet",
    }


RAW_ROWS: dict[str, list[dict]] = {
    "patients": [
        {
            "extract_id": X1,
            "source_line": i + 2,
            "id": p,
            "birthdate": "1950-01-01",
            "gender": g,
            "race": "white",
            "ethnicity": "nonhispanic",
            "state": s,
        }
        for i, (p, g, s) in enumerate(
            [(STAYS, "M", "Massachusetts"), (ER_ADMIT, "F", "MA"), (ER_BEFORE, "M", "MA"), (SAME_DAY_ER, "F", None)]
        )
    ],
    "organizations": [{"extract_id": X1, "source_line": 2, "id": "org-1", "name": "Hospital", "state": "Vermont"}],
    "providers": [{"extract_id": X1, "source_line": 2, "id": "prov-1", "organization": "org-1", "gender": "F"}],
    "payers": [],
    "encounters": [
        # Stays: I1, I2 (starts the day after I1 ends), I3 (overlaps I2) -> one stay
        # 2021-01-01 .. 2021-01-08; O1 inside it is absorbed; I4 starts 3 days after -> new stay.
        enc(2, I1, STAYS, "inpatient", "2021-01-01 08:00:00", "2021-01-03 10:00:00"),
        enc(3, I2, STAYS, "inpatient", "2021-01-04 09:00:00", "2021-01-06 12:00:00"),
        enc(4, I3, STAYS, "inpatient", "2021-01-05 09:00:00", "2021-01-08 16:00:00"),
        enc(5, O1, STAYS, "outpatient", "2021-01-02 14:00:00", "2021-01-02 14:30:00"),
        enc(6, I4, STAYS, "inpatient", "2021-01-11 09:00:00", "2021-01-12 09:00:00"),
        # ER then admission the same day -> one 262 visit whose id is the ER encounter's.
        enc(7, ER1, ER_ADMIT, "emergency", "2021-02-01 07:00:00", "2021-02-01 08:00:00"),
        enc(8, I5, ER_ADMIT, "inpatient", "2021-02-01 09:00:00", "2021-02-03 11:00:00"),
        # ER the evening before the admission -> 9203 + 9201.
        enc(9, ER2, ER_BEFORE, "emergency", "2021-03-01 20:00:00", "2021-03-01 23:00:00"),
        enc(10, I6, ER_BEFORE, "inpatient", "2021-03-02 01:00:00", "2021-03-04 10:00:00"),
        # Two ERs on one day -> one 9203; urgent care next day -> its own 9203; ambulatory -> 9202.
        enc(11, ER3, SAME_DAY_ER, "emergency", "2021-04-01 10:00:00", "2021-04-01 11:00:00"),
        enc(12, ER4, SAME_DAY_ER, "emergency", "2021-04-01 18:00:00", "2021-04-01 19:30:00"),
        enc(13, UC1, SAME_DAY_ER, "urgentcare", "2021-04-02 10:00:00", "2021-04-02 10:30:00"),
        enc(14, AMB1, SAME_DAY_ER, "ambulatory", "2021-04-01 12:00:00", "2021-04-01 12:20:00"),
    ],
    "conditions": [
        # Essential hypertension (mapped) twice within 30 days -> one era; again in March -> 2nd era.
        cond(2, STAYS, O1, "2021-01-02", "59621000"),
        cond(3, STAYS, I3, "2021-01-20", "59621000", stop="2021-01-25"),
        cond(4, STAYS, I4, "2021-03-10", "59621000"),
        cond(5, ER_ADMIT, ER1, "2021-02-01", "999999999"),  # the one unmapped code
    ],
    "medications": [
        # Two exposures 15 days apart -> one era (gap 15); one in April -> a second era.
        med(2, STAYS, I1, "2021-01-02 09:00:00", "2021-01-10 09:00:00"),
        med(3, STAYS, I4, "2021-01-25 09:00:00", "2021-02-01 09:00:00"),
        med(4, STAYS, I4, "2021-04-15 09:00:00", "2021-04-20 09:00:00"),
    ],
    "immunizations": [],
    "observations": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": STAYS,
            "encounter": I2,
            "date": "2021-01-04 10:00:00",
            "code": "8480-6",
            "value": "120",
            "units": "mm[Hg]",
            "type": "numeric",
        },
    ],
    "procedures": [],
    "allergies": [],
    "devices": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": STAYS,
            "encounter": O1,
            "start": "2021-01-02 14:10:00",
            "code": "72506001",
            "description": "Implantable defibrillator",
        },
    ],
    "payer_transitions": [
        {
            "extract_id": X1,
            "source_line": 2,
            "patient": STAYS,
            "start_date": "2020-01-01",
            "end_date": "2020-12-31",
            "payer": "payer-1",
            "plan_ownership": "Self",
        },
        {
            "extract_id": X1,
            "source_line": 3,
            "patient": STAYS,
            "start_date": "2021-01-01",
            "end_date": "2021-12-31",
            "payer": "payer-2",
            "plan_ownership": "Self",
        },
        # Re-delivery of the same period by a later extract: kept once.
        {
            "extract_id": X2,
            "source_line": 2,
            "patient": STAYS,
            "start_date": "2021-01-01",
            "end_date": "2021-12-31",
            "payer": "payer-2",
            "plan_ownership": "Self",
        },
    ],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project_tmp = tmp_path_factory.mktemp("dbt_visits")
    warehouse = project_tmp / "warehouse.duckdb"
    create_raw_warehouse(warehouse, EXTRACTS, RAW_ROWS)
    dbt_build(project_tmp, {"MLHOPS_WAREHOUSE_PATH": str(warehouse)})
    return project_tmp


@pytest.fixture()
def con(built: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(built / "warehouse.duckdb")) as connection:
        yield connection


def visit_ids(con, encounters: list[str]) -> list[int]:
    """visit_occurrence_id of each encounter, in the given order."""
    found = dict(
        con.execute(
            "SELECT encounter_id, visit_occurrence_id FROM omop_int.int__encounter_visit"
            " WHERE encounter_id IN (SELECT unnest(?))",
            [encounters],
        ).fetchall()
    )
    return [found[e] for e in encounters]


def visits_of(con, patient: str) -> list[tuple]:
    return con.execute(
        "SELECT v.visit_concept_id, v.visit_start_datetime, v.visit_end_datetime"
        " FROM omop.visit_occurrence v JOIN omop.person p USING (person_id)"
        " WHERE p.person_source_value = ? ORDER BY v.visit_start_datetime",
        [patient],
    ).fetchall()


def surrogate(con, encounter: str) -> int:
    return con.execute("SELECT cast(('0x' || substr(md5(?), 1, 15)) as bigint)", [encounter]).fetchone()[0]


def test_adjacent_and_overlapping_stays_collapse_and_absorb_outpatient(con):
    i1, i2, i3, o1, i4 = visit_ids(con, [I1, I2, I3, O1, I4])
    assert i1 == i2 == i3 == o1 == surrogate(con, I1)  # id of the first encounter
    assert i4 != i1  # 3 days after the stay's end: a separate stay
    assert visits_of(con, STAYS) == [
        (9201, datetime(2021, 1, 1, 8), datetime(2021, 1, 8, 16)),  # true multi-day end kept
        (9201, datetime(2021, 1, 11, 9), datetime(2021, 1, 12, 9)),
    ]


def test_er_then_admission_same_day_is_262(con):
    er, ip = visit_ids(con, [ER1, I5])
    assert er == ip == surrogate(con, ER1)
    assert visits_of(con, ER_ADMIT) == [(262, datetime(2021, 2, 1, 7), datetime(2021, 2, 3, 11))]


def test_er_the_day_before_admission_stays_separate(con):
    er, ip = visit_ids(con, [ER2, I6])
    assert er != ip
    assert [v[0] for v in visits_of(con, ER_BEFORE)] == [9203, 9201]


def test_same_day_ers_collapse(con):
    er3, er4, uc, amb = visit_ids(con, [ER3, ER4, UC1, AMB1])
    assert er3 == er4 != uc
    assert amb not in (er3, uc)
    assert visits_of(con, SAME_DAY_ER) == [
        (9203, datetime(2021, 4, 1, 10), datetime(2021, 4, 1, 19, 30)),
        (9202, datetime(2021, 4, 1, 12), datetime(2021, 4, 1, 12, 20)),
        (9203, datetime(2021, 4, 2, 10), datetime(2021, 4, 2, 10, 30)),
    ]


def test_events_of_absorbed_encounters_point_to_collapsed_visit(con):
    stay = surrogate(con, I1)
    rows = con.execute(
        "SELECT c.visit_occurrence_id, d.visit_occurrence_id, d.encounter_id FROM omop.condition_occurrence c"
        " JOIN omop_int.int__encounter_visit d ON d.visit_detail_id = c.visit_detail_id"
        " WHERE c.condition_start_date = DATE '2021-01-02'"
    ).fetchall()
    assert rows == [(stay, stay, O1)]
    assert con.execute("SELECT visit_occurrence_id FROM omop.measurement").fetchall() == [(stay,)]
    assert con.execute(
        "SELECT device_concept_id, visit_occurrence_id, device_source_value FROM omop.device_exposure"
    ).fetchall() == [(0, stay, "72506001")]
    # Every event visit exists.
    assert (
        con.execute(
            "SELECT count(*) FROM omop.condition_occurrence WHERE visit_occurrence_id"
            " NOT IN (SELECT visit_occurrence_id FROM omop.visit_occurrence)"
        ).fetchone()[0]
        == 0
    )


def test_visit_detail_one_row_per_encounter(con):
    assert con.execute("SELECT count(*), count(DISTINCT visit_detail_id) FROM omop.visit_detail").fetchone() == (
        len(RAW_ROWS["encounters"]),
        len(RAW_ROWS["encounters"]),
    )
    assert con.execute("SELECT count(*) FROM omop.visit_occurrence").fetchone()[0] == 8
    # Each detail points to its collapsed visit and keeps its own class and times.
    assert con.execute(
        "SELECT visit_detail_concept_id, visit_occurrence_id, visit_detail_end_datetime FROM omop.visit_detail"
        " WHERE visit_detail_start_datetime = TIMESTAMP '2021-01-02 14:00:00'"
    ).fetchall() == [(9202, surrogate(con, I1), datetime(2021, 1, 2, 14, 30))]


def test_condition_and_drug_eras(con):
    assert con.execute(
        "SELECT condition_concept_id, condition_era_start_date, condition_era_end_date, condition_occurrence_count"
        " FROM omop.condition_era ORDER BY condition_era_start_date"
    ).fetchall() == [
        (320128, datetime(2021, 1, 2), datetime(2021, 1, 25), 2),
        (320128, datetime(2021, 3, 10), datetime(2021, 3, 11), 1),  # no end: start + 1 day
    ]
    assert con.execute(
        "SELECT drug_concept_id, drug_era_start_date, drug_era_end_date, drug_exposure_count, gap_days"
        " FROM omop.drug_era ORDER BY drug_era_start_date"
    ).fetchall() == [
        (19080128, datetime(2021, 1, 2), datetime(2021, 2, 1), 2, 15),
        (19080128, datetime(2021, 4, 15), datetime(2021, 4, 20), 1, 0),
    ]


def test_mapping_rate(con):
    rows = con.execute(
        "SELECT source_table, target_domain, source_rows, mapped_rows, mapping_rate"
        " FROM omop_int.int__mapping_rate ORDER BY ALL"
    ).fetchall()
    assert ("conditions", "Condition", 4, 3, 0.75) in rows
    assert ("medications", "Drug", 3, 3, 1.0) in rows
    assert ("devices", "Device", 1, 0, 0.0) in rows


def test_payer_plan_period_location_cdm_source(con):
    assert con.execute(
        "SELECT payer_source_value, payer_plan_period_start_date, payer_plan_period_end_date"
        " FROM omop.payer_plan_period ORDER BY 2"
    ).fetchall() == [
        ("payer-1", date(2020, 1, 1), date(2020, 12, 31)),
        ("payer-2", date(2021, 1, 1), date(2021, 12, 31)),
    ]
    assert con.execute("SELECT location_source_value, state FROM omop.location ORDER BY 1").fetchall() == [
        ("MA", "MA"),
        ("Massachusetts", "MA"),
        ("Vermont", "VT"),
    ]
    assert con.execute("SELECT count(*) FROM omop.person WHERE location_id IS NULL").fetchone()[0] == 1
    assert (
        con.execute(
            "SELECT count(*) FROM omop.person p JOIN omop.location l USING (location_id)"
            " WHERE l.location_source_value = 'MA'"
        ).fetchone()[0]
        == 2
    )
    assert con.execute(
        "SELECT l.location_source_value FROM omop.care_site JOIN omop.location l USING (location_id)"
    ).fetchall() == [("Vermont",)]
    assert con.execute(
        "SELECT cdm_source_name, cdm_version, vocabulary_version, source_release_date FROM omop.cdm_source"
    ).fetchall() == [("MLHOps synthetic/Synthea extract", "v5.4", "mlhops demo subset", date(2024, 2, 2))]


def test_ids_stable_across_builds_and_row_order(built, tmp_path):
    def digests(path: Path) -> dict[str, str]:
        with duckdb.connect(str(path)) as c:
            return {t: table_digest(c, t) for t in STABLE_TABLES}

    expected = digests(built / "warehouse.duckdb")
    warehouse = tmp_path / "warehouse.duckdb"
    create_raw_warehouse(warehouse, EXTRACTS, RAW_ROWS, reverse=True)
    dbt_build(built, {"MLHOPS_WAREHOUSE_PATH": str(warehouse)})
    assert digests(warehouse) == expected
