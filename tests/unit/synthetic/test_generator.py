"""Tests of the synthetic Synthea-format extract generator.

Expectations are written independently of the generator's own constants: headers come from
the Synthea 3.3 contract (shared SYNTHEA_CSV.md) and codes from the demo vocabulary, so a
change in the generator cannot silently redefine what is being checked.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mlhops_dagster.cli import main as mlhops_main
from mlhops_dagster.cli import parse_defects
from mlhops_dagster.ehr.contract import FILES, SUCCESS_MARKER
from mlhops_dagster.ehr.ingest import ingest_extract
from mlhops_dagster.synthetic import (
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
    "organizations": "Id, NAME, ADDRESS, CITY, STATE, ZIP, LAT, LON, PHONE, REVENUE, UTILIZATION, NPI",
    "providers": "Id, ORGANIZATION, NAME, GENDER, SPECIALITY, ADDRESS, CITY, STATE, ZIP, LAT, LON, "
    "ENCOUNTERS, PROCEDURES, NPI",
    "payers": "Id, NAME, OWNERSHIP, ADDRESS, CITY, STATE_HEADQUARTERED, ZIP, PHONE, "
    "AMOUNT_COVERED, AMOUNT_UNCOVERED, REVENUE, COVERED_ENCOUNTERS, "
    "UNCOVERED_ENCOUNTERS, COVERED_MEDICATIONS, UNCOVERED_MEDICATIONS, "
    "COVERED_PROCEDURES, UNCOVERED_PROCEDURES, COVERED_IMMUNIZATIONS, "
    "UNCOVERED_IMMUNIZATIONS, UNIQUE_CUSTOMERS, QOLS_AVG, MEMBER_MONTHS",
    "payer_transitions": "PATIENT, MEMBERID, START_DATE, END_DATE, PAYER, SECONDARY_PAYER, PLAN_OWNERSHIP, OWNER_NAME",
}

CHRONIC_CONDITIONS = {
    "59621000",
    "44054006",
    "15777000",
    "271737000",
    "55822004",
    "53741008",
    "185086009",
    "40055000",
    "82423001",
    "162864005",
}
DEMO_VOCABULARY = {
    "conditions": CHRONIC_CONDITIONS
    | {
        "22298006",
        "410429000",
        "389087006",
        "444814009",
        "10509002",
        "55680006",
        "73595000",
        "160903007",
    },
    "medications": {
        "314076",
        "310798",
        "308136",
        "197361",
        "314231",
        "312961",
        "259255",
        "309362",
        "705129",
        "2123111",
        "895994",
        "313782",
        "310325",
        "854235",
        "562251",
    },
    "observations": {
        "8480-6",
        "8462-4",
        "8867-4",
        "9279-1",
        "29463-7",
        "8302-2",
        "39156-5",
        "8310-5",
        "72514-3",
        "38483-4",
        "2339-0",
        "4548-4",
        "2947-0",
        "6298-4",
        "6299-2",
        "2069-3",
        "20565-8",
        "49765-1",
        "718-7",
        "6690-2",
        "777-3",
        "2093-3",
        "2571-8",
        "18262-6",
        "2085-9",
        "72166-2",
    },
    "procedures": {
        "430193006",
        "5880005",
        "40701008",
        "232717009",
        "415070008",
        "399208008",
        "127783003",
        "171207006",
    },
}
CREATININE = "38483-4"
EVENT_FILES = ("conditions", "medications", "observations", "procedures", "immunizations", "allergies")
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


def test_every_file_has_the_synthea_3_3_header_and_the_contract_columns(extract: tuple[Path, dict[str, int]]) -> None:
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


def test_values_are_iso_dated_unquoted_and_nulls_are_empty(extract: tuple[Path, dict[str, int]]) -> None:
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


def test_encounters_and_events_are_clinically_coherent(extract: tuple[Path, dict[str, int]]) -> None:
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
    assert (stop.dt.normalize() <= death.reindex(encounters["PATIENT"]).to_numpy()).sum() == death.reindex(
        encounters["PATIENT"]
    ).notna().sum()
    inpatient = encounters["ENCOUNTERCLASS"] == "inpatient"
    stay_days = (stop - start)[inpatient].dt.total_seconds() / 86_400
    assert (stay_days > 1).mean() > 0.9 and stay_days.max() <= 11
    assert (stop.dt.normalize() == start.dt.normalize())[~inpatient].all()
    assert set(encounters["ENCOUNTERCLASS"]) == {
        "wellness",
        "ambulatory",
        "outpatient",
        "urgentcare",
        "emergency",
        "inpatient",
    }

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


def test_readmissions_are_common_enough_and_follow_comorbidity(extract: tuple[Path, dict[str, int]]) -> None:
    folder, _ = extract
    encounters = read(folder, "encounters")
    stays = (
        encounters[encounters["ENCOUNTERCLASS"] == "inpatient"]
        .assign(
            START=lambda t: moment(t["START"]),
            STOP=lambda t: moment(t["STOP"]),
        )
        .sort_values(["PATIENT", "START"])
    )
    next_admission = stays.groupby("PATIENT")["START"].shift(-1)
    stays["readmitted"] = (next_admission - stays["STOP"]) <= pd.Timedelta(days=30)
    stays = stays[stays["STOP"] <= pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=30)]

    conditions = read(folder, "conditions")
    chronic = conditions[conditions["CODE"].isin(CHRONIC_CONDITIONS)]
    diagnosed = stays[["Id", "PATIENT", "STOP"]].merge(
        chronic.assign(START=moment(chronic["START"]))[["PATIENT", "START"]], on="PATIENT"
    )
    burden = (
        diagnosed[diagnosed["START"] <= diagnosed["STOP"]]
        .groupby("Id")
        .size()
        .reindex(stays["Id"], fill_value=0)
        .to_numpy()
    )

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
    generate_extract(tmp_path / "defect", patients=300, seed=8, defects=[DefectSpec("unmapped_codes", rate=0.2)])
    clean, defect = read(tmp_path / "clean", "conditions"), read(tmp_path / "defect", "conditions")
    changed = clean["CODE"] != defect["CODE"]
    assert 0.15 <= changed.mean() <= 0.25
    assert not defect.loc[changed, "CODE"].isin(DEMO_VOCABULARY["conditions"]).any()
    assert clean.drop(columns=["CODE", "DESCRIPTION"]).equals(defect.drop(columns=["CODE", "DESCRIPTION"]))
    for name in ("encounters", "observations"):
        assert (tmp_path / "clean" / f"{name}.csv").read_bytes() == (tmp_path / "defect" / f"{name}.csv").read_bytes()
    with pytest.raises(ValueError, match="unknown defect"):
        DefectSpec("no_such_defect")


def test_values_needing_quotes_are_quoted_rfc_4180(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    awkward = 'O"Brien, Jr.\nthe second'

    def rename_first_patient(tables: dict[str, pa.Table], rate: float, rng: object) -> dict:
        patients = tables["patients"]
        first = pc.if_else(pa.array([True] + [False] * (patients.num_rows - 1)), pa.scalar(awkward), patients["FIRST"])
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


# --------------------------------------------------------------------------------------------
# Defect injection: each kind, measured on the CSVs by an independent detector
# --------------------------------------------------------------------------------------------

DEFECT_PATIENTS, DEFECT_SEED, DEFECT_RATE = 120, 21, 0.1
DEFECTS_MANIFEST = "_defects.json"
TODAY = pd.Timestamp(date.today(), tz="UTC")
# DataQualityDashboard's former vital-sign ranges (issue 4), per LOINC code.
VITAL_RANGES = {
    "8867-4": (10, 500),
    "29463-7": (2, 500),
    "8302-2": (20, 250),
    "8310-5": (34, 45),
    "8480-6": (10, 250),
    "8462-4": (30, 200),
    "39156-5": (16, 100),
}
# The unit Synthea writes for each numeric LOINC code.
UNITS = {
    "8480-6": "mm[Hg]",
    "8462-4": "mm[Hg]",
    "8867-4": "/min",
    "9279-1": "/min",
    "29463-7": "kg",
    "8302-2": "cm",
    "39156-5": "kg/m2",
    "8310-5": "Cel",
    "72514-3": "{score}",
    "38483-4": "mg/dL",
    "2339-0": "mg/dL",
    "4548-4": "%",
    "2947-0": "mmol/L",
    "6298-4": "mmol/L",
    "6299-2": "mg/dL",
    "2069-3": "mmol/L",
    "20565-8": "mmol/L",
    "49765-1": "mg/dL",
    "718-7": "g/dL",
    "6690-2": "10*3/uL",
    "777-3": "10*3/uL",
    "2093-3": "mg/dL",
    "2571-8": "mg/dL",
    "18262-6": "mg/dL",
    "2085-9": "mg/dL",
}
SWAPPABLE_LABS = {"2339-0", "38483-4", "718-7", "2947-0"}  # glucose, creatinine, hemoglobin, sodium
DEMO_UCUM_UNITS = {"/min", "%", "cm", "fL", "g/dL", "mmol/L", "mg/dL", "mm[Hg]", "kg", "kg/m2"}
DATE_COLUMN = {
    "conditions": "START",
    "medications": "START",
    "observations": "DATE",
    "procedures": "START",
    "immunizations": "DATE",
    "allergies": "START",
}

Detection = dict[str, tuple[int, int]]
"""file -> (rows showing the defect, rows eligible for it)."""


def _death_by_patient(folder: Path) -> pd.Series:
    patients = read(folder, "patients").set_index("Id")
    return moment(patients["DEATHDATE"].replace("", None))


def _per_file(folder: Path, with_encounters: Callable[[pd.DataFrame, str], tuple[int, int]]) -> Detection:
    found = {"encounters": with_encounters(read(folder, "encounters"), "START")}
    for name, column in DATE_COLUMN.items():
        found[name] = with_encounters(read(folder, name), column)
    return found


def detect_unmapped_codes(folder: Path) -> Detection:
    conditions = read(folder, "conditions")
    return {"conditions": (int((~conditions["CODE"].isin(DEMO_VOCABULARY["conditions"])).sum()), len(conditions))}


def detect_implausible_vitals(folder: Path) -> Detection:
    observations = read(folder, "observations")
    vitals = observations[observations["CODE"].isin(VITAL_RANGES)]
    value = vitals["VALUE"].astype(float)
    low = vitals["CODE"].map(lambda code: VITAL_RANGES[code][0])
    high = vitals["CODE"].map(lambda code: VITAL_RANGES[code][1])
    return {"observations": (int(((value < low) | (value > high)).sum()), len(vitals))}


def detect_future_dates(folder: Path) -> Detection:
    death = _death_by_patient(folder)

    def count(rows: pd.DataFrame, column: str) -> tuple[int, int]:
        living = death.reindex(rows["PATIENT"]).isna().to_numpy()
        return int((moment(rows[column]) > TODAY).sum()), int(living.sum())

    return _per_file(folder, count)


def detect_events_after_death(folder: Path) -> Detection:
    death = _death_by_patient(folder)

    def count(rows: pd.DataFrame, column: str) -> tuple[int, int]:
        died = death.reindex(rows["PATIENT"]).to_numpy()
        late = moment(rows[column]).dt.normalize().to_numpy() > died + pd.Timedelta(days=60)
        return int(late.sum()), int(pd.notna(died).sum())

    return _per_file(folder, count)


def detect_death_before_birth(folder: Path) -> Detection:
    """Eligible: patients born from 1951 on, so a death up to a year before birth stays after
    DQD's earliest plausible date (1950-01-01)."""
    patients = read(folder, "patients")
    died, born = moment(patients["DEATHDATE"].replace("", None)), moment(patients["BIRTHDATE"])
    return {"patients": (int((died < born).sum()), int((born >= pd.Timestamp("1951-01-01", tz="UTC")).sum()))}


def detect_visit_end_before_start(folder: Path) -> Detection:
    encounters = read(folder, "encounters")
    stop = moment(encounters["STOP"].replace("", None)).dt.normalize()
    return {"encounters": (int((stop < moment(encounters["START"]).dt.normalize()).sum()), len(encounters))}


def detect_missing_required_fields(folder: Path) -> Detection:
    patients = read(folder, "patients")
    blank = (patients["GENDER"].str.strip() == "") | (patients["RACE"] == "") | (patients["ETHNICITY"] == "")
    return {"patients": (int(blank.sum()), len(patients))}


def detect_duplicate_primary_keys(folder: Path) -> Detection:
    encounters, observations = read(folder, "encounters"), read(folder, "observations")
    repeated_ids = int(encounters["Id"].duplicated().sum())
    repeated_rows = int(observations.duplicated().sum())
    return {
        "encounters": (repeated_ids, len(encounters) - repeated_ids),
        "observations": (repeated_rows, len(observations) - repeated_rows),
    }


def detect_unit_swaps(folder: Path) -> Detection:
    observations = read(folder, "observations")
    numeric = observations[observations["TYPE"] == "numeric"]
    wrong = numeric["UNITS"] != numeric["CODE"].map(UNITS)
    return {"observations": (int(wrong.sum()), int(numeric["CODE"].isin(SWAPPABLE_LABS).sum()))}


DETECTORS: dict[str, Callable[[Path], Detection]] = {
    "unmapped_codes": detect_unmapped_codes,
    "implausible_vitals": detect_implausible_vitals,
    "future_dates": detect_future_dates,
    "events_after_death": detect_events_after_death,
    "death_before_birth": detect_death_before_birth,
    "visit_end_before_start": detect_visit_end_before_start,
    "missing_required_fields": detect_missing_required_fields,
    "duplicate_primary_keys": detect_duplicate_primary_keys,
    "unit_swaps": detect_unit_swaps,
}
PRIMARY_FILES = {
    "unmapped_codes": ("conditions",),
    "implausible_vitals": ("observations",),
    "future_dates": ("encounters",),
    "events_after_death": ("encounters",),
    "death_before_birth": ("patients",),
    "visit_end_before_start": ("encounters",),
    "missing_required_fields": ("patients",),
    "duplicate_primary_keys": ("encounters", "observations"),
    "unit_swaps": ("observations",),
}
"""Where each kind's rate is measured (event files moved with their visit follow it loosely)."""
COLLATERAL = {"death_before_birth": {"events_after_death"}}
"""Defects a kind implies by construction: a patient dead before birth has every event after death."""
RAW_CORRUPTED_SQL = {
    "unmapped_codes": "SELECT count(*) FROM raw.conditions WHERE code = '233604007'",
    "implausible_vitals": "SELECT count(*) FROM raw.observations o JOIN (VALUES "
    + ", ".join(f"('{code}', {low}, {high})" for code, (low, high) in VITAL_RANGES.items())
    + ") r(code, low, high) USING (code) WHERE CAST(o.value AS DOUBLE) NOT BETWEEN r.low AND r.high",
    "future_dates": "SELECT count(*) FROM raw.encounters WHERE start > current_date",
    "events_after_death": "SELECT count(*) FROM raw.encounters e JOIN raw.patients p ON p.id = e.patient "
    "WHERE CAST(e.start AS DATE) > p.deathdate + INTERVAL 60 DAY",
    "death_before_birth": "SELECT count(*) FROM raw.patients WHERE deathdate < birthdate",
    "visit_end_before_start": "SELECT count(*) FROM raw.encounters WHERE CAST(stop AS DATE) < CAST(start AS DATE)",
    "missing_required_fields": "SELECT count(*) FROM raw.patients WHERE trim(gender) = '' "
    "AND race IS NULL AND ethnicity IS NULL",
    "unit_swaps": "SELECT count(*) FROM raw.observations WHERE (code IN ('2339-0', '38483-4') "
    "AND units = 'mmol/L') OR (code IN ('718-7', '2947-0') AND units = 'mg/dL')",
}
"""Per kind, the corrupted rows of its primary file as loaded into the raw warehouse."""


def defect_extract(folder: Path, kind: str, rate: float = DEFECT_RATE) -> dict:
    """Generate the small extract with one defect; return that defect's manifest entry."""
    generate_extract(folder, patients=DEFECT_PATIENTS, seed=DEFECT_SEED, defects=[DefectSpec(kind, rate)])
    manifest = json.loads((folder / DEFECTS_MANIFEST).read_text(encoding="utf-8"))
    (entry,) = manifest["defects"]
    return entry


@pytest.fixture(scope="module")
def clean_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean_small")
    generate_extract(folder, patients=DEFECT_PATIENTS, seed=DEFECT_SEED)
    return folder


def test_every_registered_defect_kind_has_a_detector() -> None:
    assert set(DEFECT_INJECTORS) == set(DETECTORS)


def test_a_clean_extract_has_none_of_the_defects(clean_small: Path) -> None:
    assert not (clean_small / DEFECTS_MANIFEST).exists()
    for kind, detect in DETECTORS.items():
        found = detect(clean_small)
        assert all(hits == 0 for hits, _ in found.values()), (kind, found)
        for file in PRIMARY_FILES[kind]:
            assert found[file][1] > 0, (kind, file)  # there was something to corrupt
    # every death has events before it, so events_after_death has eligible rows
    assert detect_events_after_death(clean_small)["encounters"][1] >= 30


@pytest.mark.parametrize("kind", sorted(DETECTORS))
def test_each_defect_kind_corrupts_the_requested_share_deterministically(
    tmp_path: Path, clean_small: Path, kind: str
) -> None:
    entry = defect_extract(tmp_path / "a", kind)
    assert entry["kind"] == kind and entry["rate"] == DEFECT_RATE and entry["description"]
    found = DETECTORS[kind](tmp_path / "a")
    # the manifest says what was done, and the CSVs show exactly that
    for file, counts in entry["files"].items():
        if file in found:
            assert (found[file][0], found[file][1]) == (counts["affected"], counts["eligible"]), (
                kind,
                file,
                found[file],
                counts,
            )
        assert counts["ingest"] in {"loaded", "quarantined"}
    for file in PRIMARY_FILES[kind]:
        hits, eligible = found[file]
        assert abs(hits / eligible - DEFECT_RATE) <= (0.03 if eligible < 200 else 0.015), (kind, file)
    # no other defect rides along (beyond what the kind implies)
    for other, detect in DETECTORS.items():
        if other != kind and other not in COLLATERAL.get(kind, ()):
            assert all(hits == 0 for hits, _ in detect(tmp_path / "a").values()), (kind, other)
    # the same seed gives byte-identical files, manifest included
    defect_extract(tmp_path / "b", kind)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # untouched files stay byte-identical to the clean extract
    touched = set(entry["files"])
    for name in (
        "payers",
        "organizations",
        "providers",
        "payer_transitions",
        "conditions",
        "observations",
        "encounters",
        "patients",
    ):
        if name not in touched:
            assert (tmp_path / "a" / f"{name}.csv").read_bytes() == (clean_small / f"{name}.csv").read_bytes(), (
                kind,
                name,
            )


def test_defects_keep_values_well_formed_and_in_the_demo_vocabulary(tmp_path: Path) -> None:
    kinds = sorted(DETECTORS)
    generate_extract(
        tmp_path, patients=DEFECT_PATIENTS, seed=DEFECT_SEED, defects=[DefectSpec(kind, 0.05) for kind in kinds]
    )
    manifest = json.loads((tmp_path / DEFECTS_MANIFEST).read_text(encoding="utf-8"))
    assert [d["kind"] for d in manifest["defects"]] == kinds
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", json.dumps(manifest))  # counts, no ids
    deaths = read(tmp_path, "patients")["DEATHDATE"]
    assert (deaths[deaths != ""] >= "1950-01-01").all()  # DQD's earliest plausible date
    for file in FILES:
        table = read(tmp_path, file.name)
        for column in file.columns:
            if column.type in ISO_PATTERN and column.headers[0] in table:
                values = table[column.headers[0]]
                assert (values.str.fullmatch(ISO_PATTERN[column.type]) | (values == "")).all(), (file.name, column.name)
    observations = read(tmp_path, "observations")
    numeric = observations[observations["TYPE"] == "numeric"]
    assert pd.to_numeric(numeric["VALUE"], errors="coerce").notna().all()
    swapped = numeric["UNITS"] != numeric["CODE"].map(UNITS)
    assert swapped.any() and numeric.loc[swapped, "UNITS"].isin(DEMO_UCUM_UNITS).all()
    assert set(numeric.loc[swapped, "CODE"]) <= SWAPPABLE_LABS


@pytest.mark.parametrize("kind", sorted(DETECTORS))
def test_defective_rows_survive_ingest_or_are_quarantined_as_documented(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "extract"
    entry = defect_extract(folder, kind)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        load = ingest_extract(con, folder, "defects", "generator-defect-test-key-0123456789")
        for file, counts in entry["files"].items():
            report = load.files[file]
            written = len(read(folder, file))
            if counts["ingest"] == "loaded":
                assert report.rows_quarantined == 0, (file, report.reasons)
                assert report.rows_loaded == written
            else:  # duplicate ids: every repeat quarantined and counted, the first copy loaded
                assert report.rows_quarantined == counts["affected"] > 0
                assert all(reason.startswith("duplicate Id") for reason in report.reasons), report.reasons
                assert report.rows_loaded == written - counts["affected"]
        assert load.rows_quarantined == sum(
            c["affected"] for c in entry["files"].values() if c["ingest"] == "quarantined"
        )
        if kind in RAW_CORRUPTED_SQL:
            (primary,) = PRIMARY_FILES[kind]
            loaded = con.execute(RAW_CORRUPTED_SQL[kind]).fetchall()[0][0]
            assert loaded == entry["files"][primary]["affected"] > 0, kind
        else:  # duplicate observation rows load as repeated records
            assert (
                con.execute(
                    "SELECT count(*) - count(DISTINCT (patient, encounter, date, code, value, units)) "
                    "FROM raw.observations"
                ).fetchall()[0][0]
                == entry["files"]["observations"]["affected"]
            )
    assert load.ignored_files == [DEFECTS_MANIFEST]


def test_events_after_death_adds_a_death_date_when_nobody_died(tmp_path: Path) -> None:
    for seed in range(40):  # a tiny cohort where nobody dies
        generate_extract(tmp_path / "probe", patients=3, seed=seed)
        if (read(tmp_path / "probe", "patients")["DEATHDATE"] == "").all():
            break
    else:
        pytest.skip("no death-free tiny cohort among the seeds tried")
    generate_extract(tmp_path / "x", patients=3, seed=seed, defects=[DefectSpec("events_after_death", 0.5)])
    entry = json.loads((tmp_path / "x" / DEFECTS_MANIFEST).read_text())["defects"][0]
    assert entry["files"]["patients"]["affected"] >= 1
    found = detect_events_after_death(tmp_path / "x")
    assert found["encounters"][0] == entry["files"]["encounters"]["affected"] > 0
    # everything not moved still lies before the added death
    assert detect_death_before_birth(tmp_path / "x")["patients"][0] == 0


def test_defect_cli_takes_kinds_with_a_shared_or_own_rate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert parse_defects("future_dates, unit_swaps:0.5", 0.2) == [
        DefectSpec("future_dates", 0.2),
        DefectSpec("unit_swaps", 0.5),
    ]
    assert parse_defects(None, 0.1) == [] and parse_defects("", 0.1) == []
    for bad in ("no_such_kind", "unit_swaps:lots", "unit_swaps:2"):
        with pytest.raises(ValueError):
            parse_defects(bad, 0.1)
    assert (
        mlhops_main(
            [
                "generate",
                "--patients",
                "40",
                "--seed",
                "3",
                "--out",
                str(tmp_path / "cli"),
                "--defects",
                "death_before_birth:0.25,visit_end_before_start",
                "--defect-rate",
                "0.1",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert [(d["kind"], d["rate"]) for d in printed["defects"]] == [
        ("death_before_birth", 0.25),
        ("visit_end_before_start", 0.1),
    ]
    hits, eligible = detect_death_before_birth(tmp_path / "cli")["patients"]
    assert printed["defects"][0]["files"]["patients"] == {"eligible": eligible, "affected": hits, "ingest": "loaded"}
    assert hits == int(0.25 * eligible + 0.5) > 0
    assert (
        mlhops_main(["generate", "--patients", "40", "--out", str(tmp_path / "bad"), "--defects", "no_such_kind"]) == 2
    )
    # without --defects the CLI writes the clean extract, as before
    assert mlhops_main(["generate", "--patients", "40", "--seed", "3", "--out", str(tmp_path / "plain")]) == 0
    assert not (tmp_path / "plain" / DEFECTS_MANIFEST).exists()


def test_every_command_option_has_a_help_text() -> None:
    import argparse

    from mlhops_dagster.cli import build_parser

    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    undocumented = [
        f"{name} --{action.dest}"
        for name, command in commands.choices.items()
        for action in command._actions
        if action.dest != "help" and not action.help
    ]
    assert undocumented == []
