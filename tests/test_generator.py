"""Tests of the synthetic Synthea-format extract generator.

Expectations are written independently of the generator's own constants: headers come from
the Synthea 3.3 contract (shared SYNTHEA_CSV.md) and codes from the demo vocabulary, so a
change in the generator cannot silently redefine what is being checked.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mlhops_dagster.ehr.contract import FILES, SUCCESS_MARKER
from mlhops_dagster.ehr.generator import (
    DEFECT_INJECTORS,
    DRIFT_PRESETS,
    DefectSpec,
    generate_extract,
)

START, END = date(2016, 1, 1), date(2021, 12, 31)

SYNTHEA_3_3_HEADERS = {
    "patients": "Id, BIRTHDATE, DEATHDATE, SSN, DRIVERS, PASSPORT, PREFIX, FIRST, MIDDLE, LAST, "
                "SUFFIX, MAIDEN, MARITAL, RACE, ETHNICITY, GENDER, BIRTHPLACE, ADDRESS, CITY, "
                "STATE, COUNTY, FIPS, ZIP, LAT, LON, HEALTHCARE_EXPENSES, HEALTHCARE_COVERAGE, "
                "INCOME",
    "encounters": "Id, START, STOP, PATIENT, ORGANIZATION, PROVIDER, PAYER, ENCOUNTERCLASS, CODE, "
                  "DESCRIPTION, BASE_ENCOUNTER_COST, TOTAL_CLAIM_COST, PAYER_COVERAGE, "
                  "REASONCODE, REASONDESCRIPTION",
    "conditions": "START, STOP, PATIENT, ENCOUNTER, SYSTEM, CODE, DESCRIPTION",
    "medications": "START, STOP, PATIENT, PAYER, ENCOUNTER, CODE, DESCRIPTION, BASE_COST, "
                   "PAYER_COVERAGE, DISPENSES, TOTALCOST, REASONCODE, REASONDESCRIPTION",
    "observations": "DATE, PATIENT, ENCOUNTER, CATEGORY, CODE, DESCRIPTION, VALUE, UNITS, TYPE",
    "procedures": "START, STOP, PATIENT, ENCOUNTER, SYSTEM, CODE, DESCRIPTION, BASE_COST, "
                  "REASONCODE, REASONDESCRIPTION",
    "immunizations": "DATE, PATIENT, ENCOUNTER, CODE, DESCRIPTION, BASE_COST",
    "allergies": "START, STOP, PATIENT, ENCOUNTER, CODE, SYSTEM, DESCRIPTION, TYPE, CATEGORY, "
                 "REACTION1, DESCRIPTION1, SEVERITY1, REACTION2, DESCRIPTION2, SEVERITY2",
    "devices": "START, STOP, PATIENT, ENCOUNTER, CODE, DESCRIPTION, UDI",
    "organizations": "Id, NAME, ADDRESS, CITY, STATE, ZIP, LAT, LON, PHONE, REVENUE, UTILIZATION, "
                     "NPI",
    "providers": "Id, ORGANIZATION, NAME, GENDER, SPECIALITY, ADDRESS, CITY, STATE, ZIP, LAT, LON, "
                 "ENCOUNTERS, PROCEDURES, NPI",
    "payers": "Id, NAME, OWNERSHIP, ADDRESS, CITY, STATE_HEADQUARTERED, ZIP, PHONE, "
              "AMOUNT_COVERED, AMOUNT_UNCOVERED, REVENUE, COVERED_ENCOUNTERS, "
              "UNCOVERED_ENCOUNTERS, COVERED_MEDICATIONS, UNCOVERED_MEDICATIONS, "
              "COVERED_PROCEDURES, UNCOVERED_PROCEDURES, COVERED_IMMUNIZATIONS, "
              "UNCOVERED_IMMUNIZATIONS, UNIQUE_CUSTOMERS, QOLS_AVG, MEMBER_MONTHS",
    "payer_transitions": "PATIENT, MEMBERID, START_DATE, END_DATE, PAYER, SECONDARY_PAYER, "
                         "PLAN_OWNERSHIP, OWNER_NAME",
}

CHRONIC_CONDITIONS = {
    "59621000", "44054006", "15777000", "271737000", "55822004", "53741008", "185086009",
    "40055000", "82423001", "162864005",
}
DEMO_VOCABULARY = {
    "conditions": CHRONIC_CONDITIONS | {
        "22298006", "410429000", "389087006", "444814009", "10509002", "55680006", "73595000",
        "160903007",
    },
    "medications": {
        "314076", "310798", "308136", "197361", "314231", "312961", "259255", "309362", "705129",
        "2123111", "895994", "313782", "310325", "854235", "562251",
    },
    "observations": {
        "8480-6", "8462-4", "8867-4", "9279-1", "29463-7", "8302-2", "39156-5", "8310-5",
        "72514-3", "38483-4", "2339-0", "4548-4", "2947-0", "6298-4", "6299-2", "2069-3",
        "20565-8", "49765-1", "718-7", "6690-2", "777-3", "2093-3", "2571-8", "18262-6",
        "2085-9", "72166-2",
    },
    "procedures": {
        "430193006", "5880005", "40701008", "232717009", "415070008", "399208008", "127783003",
        "171207006",
    },
}
CREATININE = "38483-4"
EVENT_FILES = ("conditions", "medications", "observations", "procedures", "immunizations",
               "allergies")
# A contract "date" column also accepts a full timestamp (Synthea writes payer_transitions dates that way).
ISO_PATTERN = {"date": r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?", "timestamp": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"}


def read(folder: Path, name: str) -> pd.DataFrame:
    """A file as text, nulls as empty strings, exactly as a CSV reader sees it."""
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def moment(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True)


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("extract")
    return folder, generate_extract(folder, patients=500, seed=11, start=START, end=END)


def test_same_seed_gives_identical_files_and_another_seed_other_ids(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_extract(tmp_path / name, patients=200, seed=seed)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    for file in files:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    for name, column in (("patients", "Id"), ("encounters", "Id")):
        assert not set(read(tmp_path / "a", name)[column]) & set(read(tmp_path / "c", name)[column])


def test_every_file_has_the_synthea_3_3_header_and_the_contract_columns(
        extract: tuple[Path, dict[str, int]]) -> None:
    folder, rows = extract
    assert (folder / SUCCESS_MARKER).exists()
    assert set(rows) == set(SYNTHEA_3_3_HEADERS)
    for name, expected in SYNTHEA_3_3_HEADERS.items():
        with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            assert header == expected.split(", "), name
            assert sum(1 for _ in reader) == rows[name], name
    for file in FILES:  # Synthea writes "Id"; the contract names it "ID": match ignoring case
        header = (folder / file.file_name).read_text().splitlines()[0].upper().split(",")
        for column in file.columns:
            assert any(h.upper() in header for h in column.headers), (file.name, column.name)
        # identifiers are listed under every exporter's name (e.g. OWNER_NAME and 3.0's OWNERNAME)
        assert not file.dropped_identifiers or set(file.dropped_identifiers) & set(header), file.name


def test_values_are_iso_dated_unquoted_and_nulls_are_empty(
        extract: tuple[Path, dict[str, int]]) -> None:
    folder, _ = extract
    for name in SYNTHEA_3_3_HEADERS:  # like Synthea's exporter: no value needs quoting
        assert '"' not in (folder / f"{name}.csv").read_text(encoding="utf-8"), name
    for file in FILES:
        table = read(folder, file.name)
        assert not table.isin(["nan", "NaN", "None", "null", "NULL"]).any().any(), file.name
        for column in file.columns:
            if column.type in ISO_PATTERN and column.headers[0] in table:
                values = table[column.headers[0]]
                well_formed = values.str.fullmatch(ISO_PATTERN[column.type]) | (values == "")
                assert well_formed.all(), (file.name, column.name)
    patients = read(folder, "patients")
    assert patients["SSN"].str.fullmatch(r"999-\d{2}-\d{4}").all()
    assert (patients["FIRST"] != "").all() and (patients["ADDRESS"] != "").all()


def test_encounters_and_events_are_clinically_coherent(
        extract: tuple[Path, dict[str, int]]) -> None:
    folder, _ = extract
    patients = read(folder, "patients").set_index("Id")
    encounters = read(folder, "encounters").set_index("Id")
    birth = moment(patients["BIRTHDATE"])
    death = moment(patients["DEATHDATE"].replace("", None))
    start, stop = moment(encounters["START"]), moment(encounters["STOP"])
    window_start, window_end = pd.Timestamp(START, tz="UTC"), pd.Timestamp(END, tz="UTC")

    assert (birth < window_start).all()
    assert 0 < death.notna().mean() < 0.3
    assert encounters["PATIENT"].isin(patients.index).all()
    assert (stop >= start).all()
    assert (start >= window_start).all() and (stop.dt.normalize() <= window_end).all()
    assert (stop.dt.normalize() <= death.reindex(encounters["PATIENT"]).to_numpy()).sum() == \
        death.reindex(encounters["PATIENT"]).notna().sum()
    inpatient = encounters["ENCOUNTERCLASS"] == "inpatient"
    stay_days = (stop - start)[inpatient].dt.total_seconds() / 86_400
    assert (stay_days > 1).mean() > 0.9 and stay_days.max() <= 11
    assert (stop.dt.normalize() == start.dt.normalize())[~inpatient].all()
    assert set(encounters["ENCOUNTERCLASS"]) == {
        "wellness", "ambulatory", "outpatient", "urgentcare", "emergency", "inpatient"}

    for name in EVENT_FILES:
        events = read(folder, name)
        when = "DATE" if "DATE" in events else "START"
        visit = encounters.loc[events["ENCOUNTER"]]
        assert (visit["PATIENT"].to_numpy() == events["PATIENT"].to_numpy()).all(), name
        began = moment(events[when]).to_numpy()
        assert (began >= start.loc[events["ENCOUNTER"]].dt.normalize().to_numpy()).all(), name
        assert (began <= stop.loc[events["ENCOUNTER"]].to_numpy()).all(), name
        died = death.reindex(events["PATIENT"]).to_numpy()
        for column in (when, "STOP"):
            if column in events:
                ended = moment(events[column].replace("", None)).dt.normalize().to_numpy()
                assert not (ended > died).any(), (name, column)
                assert not (ended > window_end).any(), (name, column)


def test_codes_come_from_the_demo_vocabulary(extract: tuple[Path, dict[str, int]]) -> None:
    folder, _ = extract
    for name, vocabulary in DEMO_VOCABULARY.items():
        codes = set(read(folder, name)["CODE"])
        assert codes <= vocabulary, (name, codes - vocabulary)
    observations = read(folder, "observations")
    numeric = observations[observations["TYPE"] == "numeric"]
    assert (numeric["UNITS"] != "").all()
    assert pd.to_numeric(numeric["VALUE"], errors="coerce").notna().all()
    smoking = observations[observations["CODE"] == "72166-2"]
    assert (smoking["TYPE"] == "text").all() and len(smoking) > 0
    assert set(read(folder, "conditions")["SYSTEM"]) == {"SNOMED-CT"}


def test_readmissions_are_common_enough_and_follow_comorbidity(
        extract: tuple[Path, dict[str, int]]) -> None:
    folder, _ = extract
    encounters = read(folder, "encounters")
    stays = encounters[encounters["ENCOUNTERCLASS"] == "inpatient"].assign(
        START=lambda t: moment(t["START"]), STOP=lambda t: moment(t["STOP"]),
    ).sort_values(["PATIENT", "START"])
    next_admission = stays.groupby("PATIENT")["START"].shift(-1)
    stays["readmitted"] = (next_admission - stays["STOP"]) <= pd.Timedelta(days=30)
    stays = stays[stays["STOP"] <= pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=30)]

    conditions = read(folder, "conditions")
    chronic = conditions[conditions["CODE"].isin(CHRONIC_CONDITIONS)]
    diagnosed = stays[["Id", "PATIENT", "STOP"]].merge(
        chronic.assign(START=moment(chronic["START"]))[["PATIENT", "START"]], on="PATIENT")
    burden = (diagnosed[diagnosed["START"] <= diagnosed["STOP"]].groupby("Id").size()
              .reindex(stays["Id"], fill_value=0).to_numpy())

    assert len(stays) >= 150
    assert 0.08 <= stays["readmitted"].mean() <= 0.30
    low, high = stays["readmitted"][burden <= 1].mean(), stays["readmitted"][burden >= 3].mean()
    assert high > 1.5 * low  # 1.5-3x across seeds at this size


def test_aging_drift_makes_patients_older_with_higher_creatinine(tmp_path: Path) -> None:
    summary = {}
    for preset in ("none", "aging"):
        generate_extract(tmp_path / preset, patients=300, seed=5, drift=DRIFT_PRESETS[preset])
        patients = read(tmp_path / preset, "patients")
        age = (pd.Timestamp(START) - pd.to_datetime(patients["BIRTHDATE"])).dt.days / 365.25
        observations = read(tmp_path / preset, "observations")
        creatinine = observations.loc[observations["CODE"] == CREATININE, "VALUE"].astype(float)
        summary[preset] = age.mean(), creatinine.mean()
    assert summary["aging"][0] > summary["none"][0] + 8
    assert summary["aging"][1] > summary["none"][1] * 1.15


def test_unmapped_codes_defect_hits_the_requested_share_of_conditions(tmp_path: Path) -> None:
    generate_extract(tmp_path / "clean", patients=300, seed=8)
    generate_extract(tmp_path / "defect", patients=300, seed=8,
                     defects=[DefectSpec("unmapped_codes", rate=0.2)])
    clean, defect = read(tmp_path / "clean", "conditions"), read(tmp_path / "defect", "conditions")
    changed = clean["CODE"] != defect["CODE"]
    assert 0.15 <= changed.mean() <= 0.25
    assert not defect.loc[changed, "CODE"].isin(DEMO_VOCABULARY["conditions"]).any()
    assert clean.drop(columns=["CODE", "DESCRIPTION"]).equals(
        defect.drop(columns=["CODE", "DESCRIPTION"]))
    for name in ("encounters", "observations"):
        assert (tmp_path / "clean" / f"{name}.csv").read_bytes() == \
            (tmp_path / "defect" / f"{name}.csv").read_bytes()
    with pytest.raises(ValueError, match="unknown defect"):
        DefectSpec("no_such_defect")


def test_values_needing_quotes_are_quoted_rfc_4180(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    awkward = 'O"Brien, Jr.\nthe second'

    def rename_first_patient(tables: dict[str, pa.Table], rate: float, rng: object) -> dict:
        patients = tables["patients"]
        first = pc.if_else(pa.array([True] + [False] * (patients.num_rows - 1)),
                           pa.scalar(awkward), patients["FIRST"])
        index = patients.schema.get_field_index("FIRST")
        return {**tables, "patients": patients.set_column(index, "FIRST", first)}

    monkeypatch.setitem(DEFECT_INJECTORS, "awkward_name", rename_first_patient)
    generate_extract(tmp_path, patients=50, seed=2, defects=[DefectSpec("awkward_name", 1.0)])
    text = (tmp_path / "patients.csv").read_text(encoding="utf-8")
    assert text.startswith("Id,BIRTHDATE,DEATHDATE,")
    assert '"O""Brien, Jr.\nthe second"' in text
    patients = read(tmp_path, "patients")
    assert patients.loc[0, "FIRST"] == awkward and len(patients) == 50
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", patients.loc[0, "BIRTHDATE"])
