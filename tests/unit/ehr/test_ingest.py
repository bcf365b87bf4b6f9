"""Raw ingest: contract errors, quarantine with reasons, row accounting, pseudonymisation."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from mlhops_dagster.ehr.contract import FILES
from mlhops_dagster.ehr.ingest import ExtractContractError, ingest_extract, is_complete_extract
from mlhops_dagster.governance.pseudonymise import pseudonym
from tests.support.privacy import warehouse_hits

KEY = "test-key-0123456789abcdef"
P1, P2 = "11111111-aaaa-bbbb-cccc-000000000001", "11111111-aaaa-bbbb-cccc-000000000002"
E1, E2 = "22222222-aaaa-bbbb-cccc-000000000001", "22222222-aaaa-bbbb-cccc-000000000002"

TINY = {
    "patients": [
        "Id,BIRTHDATE,DEATHDATE,SSN,FIRST,LAST,ADDRESS,RACE,ETHNICITY,GENDER,STATE,ZIP,EXTRA_COLUMN",
        f"{P1},1950-02-03,,999-12-3456,Alice,Smithson,1 Elm Street,white,nonhispanic,F,Massachusetts,02139,x",
        f"{P2},1948-07-09,,999-65-4321,Bob,Jonesworth,2 Oak Avenue,black,hispanic,M,Massachusetts,02140,y",
    ],
    "encounters": [
        "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,REASONCODE",
        f"{E1},2020-01-01T08:00:00Z,2020-01-05T10:00:00Z,{P1},org1,prov1,pay1,inpatient,183452005,Admission,",
        f"{E2},2020-02-01T08:00:00Z,2020-02-01T09:00:00Z,{P2},org1,prov1,pay1,ambulatory,185345009,Visit,",
    ],
    "conditions": [
        "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION",
        f"2020-01-01,,{P1},{E1},SNOMED-CT,59621000,Essential hypertension",
    ],
    "medications": [
        "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION",
        f"2020-01-02T08:00:00Z,,{P1},pay1,{E1},314076,lisinopril,1,1,3,3,,",
    ],
    "observations": [
        "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE",
        f"2020-01-02T08:00:00Z,{P1},{E1},vital-signs,8480-6,Systolic blood pressure,140,mm[Hg],numeric",
        f"2020-01-02T08:00:00Z,{P1},{E1},survey,72166-2,Tobacco smoking status,Never smoked,,text",
    ],
    "procedures": [
        "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION",
        f"2020-01-03T08:00:00Z,{P1},{E1},5880005,Physical examination,1,,",
    ],
    "organizations": [
        "Id,NAME,ADDRESS,CITY,STATE,ZIP,LAT,LON,PHONE",
        "org1,General Hospital,1 Main St,Boston,MA,02139,1,2,555",
    ],
    "providers": ["Id,ORGANIZATION,NAME,GENDER,SPECIALITY", "prov1,org1,Dr Who,F,GENERAL PRACTICE"],
    "payers": ["Id,NAME,OWNERSHIP", "pay1,Medicare,GOVERNMENT"],
}


def write_extract(folder: Path, files: dict[str, list[str]] = TINY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n")
    (folder / "_SUCCESS").touch()
    return folder


def test_clean_extract_loads_with_accounting_and_pseudonyms(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load = ingest_extract(con, write_extract(tmp_path / "ex1"), "ex1", KEY)
    assert load.rows_quarantined == 0
    assert load.files["patients"].rows_loaded == 2 and load.files["observations"].rows_loaded == 2
    assert not load.files["immunizations"].present
    for f in load.files.values():
        assert f.rows_read == f.rows_loaded + f.rows_quarantined
    ids = {r[0] for r in con.execute("SELECT id FROM raw.patients").fetchall()}
    assert ids == {pseudonym(KEY, "patient", P1), pseudonym(KEY, "patient", P2)}
    enc_patient = con.execute("SELECT patient FROM raw.encounters WHERE code = '183452005'").fetchall()[0][0]
    assert enc_patient == pseudonym(KEY, "patient", P1)
    # procedures in the 2.7.0 shape (DATE instead of START) load through the alias
    assert con.execute("SELECT start FROM raw.procedures").fetchall()[0][0].day == 3
    stop = con.execute("SELECT stop FROM raw.encounters WHERE code = '183452005'").fetchall()[0][0]
    assert (stop.day, stop.hour) == (5, 10)
    manifest = con.execute("SELECT period_start, period_end, rows_read FROM raw.extract_manifest").fetchall()
    assert (
        str(manifest[0][0]) == "2020-01-01" and str(manifest[0][1]) == "2020-02-01" and manifest[0][2] == load.rows_read
    )


def test_accounting_rows_say_what_each_file_did(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    files = {**TINY, "conditions": [*TINY["conditions"], f"2020-01-01,,{P1},{E1},SNOMED-CT,,no code"]}
    with caplog.at_level("INFO", logger="mlhops_dagster.ehr.ingest"):
        load = ingest_extract(con, write_extract(tmp_path / "ex1", files), "ex1", KEY)
    rows = {r["file"]: r for r in load.accounting()}
    assert set(rows) == {f.name for f in FILES}
    assert rows["conditions"]["read"] == 2 and rows["conditions"]["loaded"] == 1
    assert rows["conditions"]["quarantined"] == 1 and rows["conditions"]["reasons"]
    assert rows["immunizations"] == {
        "file": "immunizations",
        "read": None,
        "loaded": None,
        "quarantined": None,
        "reasons": "file absent (optional)",
    }
    # progress per file, then the totals
    assert any("conditions.csv staged and checked, 2 rows" in m for m in caplog.messages)
    assert f"ex1: {load.rows_read} rows read, {load.rows_loaded} loaded, 1 quarantined" in caplog.messages


def test_no_raw_identifier_reaches_the_warehouse(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_extract(con, write_extract(tmp_path / "ex1"), "ex1", KEY)
    for secret in (P1, P2, E1, E2, "999-12-3456", "Alice", "Smithson", "Elm Street", "Dr Who"):
        assert not warehouse_hits(con, secret), secret
    assert warehouse_hits(con, "Medicare")  # the search itself finds what is there
    columns = {
        r[0].upper()
        for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw'").fetchall()
    }
    assert not columns & {"SSN", "FIRST", "LAST", "ADDRESS", "LAT", "LON", "PASSPORT", "DRIVERS"}


def test_missing_file_and_missing_column_name_both(tmp_path: Path) -> None:
    files = {k: v for k, v in TINY.items() if k != "conditions"}
    con = duckdb.connect()
    with pytest.raises(ExtractContractError, match="conditions.csv"):
        ingest_extract(con, write_extract(tmp_path / "a", files), "a", KEY)
    files = dict(
        TINY,
        patients=[TINY["patients"][0].replace("BIRTHDATE,", "")]
        + [",".join(p for i, p in enumerate(line.split(",")) if i != 1) for line in TINY["patients"][1:]],
    )
    with pytest.raises(ExtractContractError, match=r"patients\.csv.*BIRTHDATE"):
        ingest_extract(con, write_extract(tmp_path / "b", files), "b", KEY)


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = write_extract(tmp_path / "a")
    (folder / "payers.csv").write_text("")
    with pytest.raises(ExtractContractError, match=r"payers\.csv .* is empty"):
        ingest_extract(duckdb.connect(), folder, "a", KEY)


def test_bad_rows_are_quarantined_with_line_and_reason(tmp_path: Path) -> None:
    files = dict(TINY)
    files["encounters"] = TINY["encounters"] + [
        f"{E1},2020-03-01T08:00:00Z,,{P1},org1,prov1,pay1,emergency,50849002,ER,",  # duplicate Id (line 4)
        f"e3,not-a-date,,{P1},org1,prov1,pay1,emergency,50849002,ER,",  # unparseable START (line 5)
        "e4,2020-03-01T08:00:00Z,,ghost-patient,org1,prov1,pay1,emergency,50849002,ER,",  # unknown patient (line 6)
        "e5,2020-03-01T08:00:00Z,too,few",  # malformed record (line 7)
    ]
    files["observations"] = TINY["observations"] + [
        f"2020-01-02T08:00:00Z,{P1},{E1},vital-signs,8867-4,Heart rate,fast,/min,numeric",
    ]
    con = duckdb.connect()
    load = ingest_extract(con, write_extract(tmp_path / "a", files), "a", KEY)
    enc = load.files["encounters"]
    assert (enc.rows_read, enc.rows_loaded, enc.rows_quarantined) == (6, 2, 4)
    rows = con.execute("SELECT file, line, reason, record FROM raw.quarantine ORDER BY file, line").fetchall()
    by_line = {(f, line): reason for f, line, reason, _ in rows}
    assert by_line[("encounters.csv", 4)].startswith("duplicate Id (first seen at line 2)")
    assert by_line[("encounters.csv", 5)].startswith("START is not a valid timestamp")
    assert by_line[("encounters.csv", 6)].startswith("unknown PATIENT")
    assert by_line[("encounters.csv", 7)].startswith("malformed CSV record")
    assert by_line[("observations.csv", 4)].startswith("VALUE is not numeric")
    for _, _, _, record in rows:
        assert record is None or P1 not in record
    quarantined_record = json.loads(next(r for f, line, _, r in rows if (f, line) == ("encounters.csv", 5)))
    assert quarantined_record["patient"] == pseudonym(KEY, "patient", P1)
    assert load.rows_read == load.rows_loaded + load.rows_quarantined


def test_reloading_an_extract_replaces_it_and_later_extracts_know_earlier_patients(tmp_path: Path) -> None:
    con = duckdb.connect()
    ingest_extract(con, write_extract(tmp_path / "ex1"), "ex1", KEY)
    ingest_extract(con, write_extract(tmp_path / "ex1"), "ex1", KEY)
    assert con.execute("SELECT count(*) FROM raw.patients").fetchall()[0][0] == 2
    later = {name: lines[:1] for name, lines in TINY.items()}
    later["encounters"] = TINY["encounters"][:1] + [
        f"e9,2021-01-01T08:00:00Z,2021-01-01T09:00:00Z,{P1},org1,prov1,pay1,ambulatory,185345009,Visit,"
    ]
    load = ingest_extract(con, write_extract(tmp_path / "ex2", later), "ex2", KEY)
    assert load.files["encounters"].rows_loaded == 1 and load.rows_quarantined == 0


def test_complete_extract_detection(tmp_path: Path) -> None:
    folder = tmp_path / "partial"
    folder.mkdir()
    (folder / "patients.csv").write_text(TINY["patients"][0])
    assert not is_complete_extract(folder)
    write_extract(folder)
    assert is_complete_extract(folder)
    assert {f.name for f in FILES if f.required} <= {p.stem for p in folder.glob("*.csv")}


def test_an_address_answer_is_loaded_without_its_value_and_counted(tmp_path: Path) -> None:
    files = dict(
        TINY,
        observations=[
            *TINY["observations"],
            f"2020-01-02T08:00:00Z,{P1},{E1},laboratory,56799-0,What address do you live at?,1 Elm Street,,text",
        ],
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load = ingest_extract(con, write_extract(tmp_path / "ex1", files), "ex1", KEY)
    assert load.rows_quarantined == 0
    assert load.files["observations"].rows_loaded == 3
    assert load.files["observations"].values_redacted == 1
    rows = con.execute("SELECT code, value FROM raw.observations ORDER BY code").fetchall()
    assert ("56799-0", None) in rows and ("72166-2", "Never smoked") in rows
    assert con.execute("SELECT count(*) FROM raw.observations WHERE value LIKE '%Elm Street%'").fetchall()[0][0] == 0
