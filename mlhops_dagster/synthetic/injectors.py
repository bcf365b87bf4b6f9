"""The defect injectors, registered in ``DEFECT_INJECTORS`` under the names ``DefectSpec`` and the
CLI use. Each docstring's first paragraph is the defect's description in ``_defects.json``."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlhops_dagster.quality.plausibility import VALUE_RANGES
from mlhops_dagster.synthetic.codes import OBSERVATION_CODES, OBSERVATIONS
from mlhops_dagster.synthetic.defects import DefectCounts, defect_injector, file_counts, pick_rows
from mlhops_dagster.synthetic.edits import moments, plain_column, set_moments, set_rows
from mlhops_dagster.synthetic.tables import Tables
from mlhops_dagster.synthetic.timeline import DAY, day_start


def _encounter_patients(tables: Tables) -> np.ndarray:
    """Row in patients.csv of each encounter's patient."""
    position = pc.index_in(
        plain_column(tables["encounters"], "PATIENT"), value_set=plain_column(tables["patients"], "Id")
    )
    return position.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


_EVENT_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "conditions": ("START", "STOP"),
    "medications": ("START", "STOP"),
    "observations": ("DATE",),
    "procedures": ("START", "STOP"),
    "immunizations": ("DATE",),
    "allergies": ("START", "STOP"),
    "devices": ("START", "STOP"),
}
"""Event files recorded at an encounter, and their date columns."""


def _shift_encounters(
    tables: Tables, eligible: np.ndarray, rows: np.ndarray, days: np.ndarray
) -> tuple[Tables, DefectCounts]:
    """Move the encounters at ``rows`` (each by its whole number of ``days``, times of day
    kept) together with every event recorded at them, so a visit and its events stay
    consistent (no event leaves its visit, no stop falls before its start). ``eligible`` marks
    the encounters that could have been picked (for the counts)."""
    tables = dict(tables)
    encounters = tables["encounters"]
    for column in ("START", "STOP"):
        seconds, valid = moments(encounters, column, rows)
        encounters = set_moments(encounters, column, rows, seconds + days * DAY, valid)
    tables["encounters"] = encounters
    counts: DefectCounts = {"encounters": file_counts(len(eligible), len(rows))}
    shift = np.zeros(encounters.num_rows + 1, dtype=np.int64)  # last slot: events of no encounter
    shift[rows] = days
    picked = np.zeros(encounters.num_rows + 1, dtype=bool)
    picked[rows] = True
    could = np.zeros(encounters.num_rows + 1, dtype=bool)
    could[eligible] = True
    for name, columns in _EVENT_DATE_COLUMNS.items():
        table = tables[name]
        if table.num_rows == 0:
            continue
        visit = pc.index_in(plain_column(table, "ENCOUNTER"), value_set=plain_column(encounters, "Id"))
        visit = visit.fill_null(encounters.num_rows).to_numpy(zero_copy_only=False).astype(np.int64)
        hit = np.flatnonzero(picked[visit])
        for column in columns:
            seconds, valid = moments(table, column, hit)
            table = set_moments(table, column, hit, seconds + shift[visit[hit]] * DAY, valid)
        tables[name] = table
        counts[name] = file_counts(np.count_nonzero(could[visit]), len(hit))
    return tables, counts


UNMAPPED_CONDITION = ("233604007", "Pneumonia (disorder)")
"""A real SNOMED code deliberately outside the demo vocabulary."""


@defect_injector("unmapped_codes")
def inject_unmapped_codes(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """conditions CODE/DESCRIPTION replaced by a valid SNOMED code the vocabulary lacks
    (``UNMAPPED_CONDITION``). Eligible: every condition. The row loads; its concept maps to 0."""
    conditions = tables["conditions"]
    rows = pick_rows(rng, np.arange(conditions.num_rows), rate)
    for column, replacement in zip(("CODE", "DESCRIPTION"), UNMAPPED_CONDITION, strict=True):
        conditions = set_rows(conditions, column, rows, pa.scalar(replacement))
    return {**tables, "conditions": conditions}, {"conditions": file_counts(conditions.num_rows, len(rows))}


_VITAL_RANGE_LABELS: dict[str, str] = {
    "8867-4": "heart_rate",  # /min
    "29463-7": "body_weight",  # kg
    "8302-2": "body_height",  # cm
    "8310-5": "body_temperature",  # Cel
    "8480-6": "systolic_bp",  # mm[Hg]
    "8462-4": "diastolic_bp",  # mm[Hg]
    "39156-5": "bmi",  # kg/m2
}
"""Vital-sign LOINC code -> its label in the plausibility catalogue (``quality.plausibility``)."""

_RANGE_BY_LABEL = {value_range.label: value_range for value_range in VALUE_RANGES}
VITAL_RANGES: dict[str, tuple[float, float]] = {
    code: (_RANGE_BY_LABEL[label].low, _RANGE_BY_LABEL[label].high) for code, label in _VITAL_RANGE_LABELS.items()
}
"""Plausible ranges of the vital signs (DataQualityDashboard's plausibleValueLow/High before
2022, per unit), taken from the quality catalogue so the checks and this defect agree; the
generator's clean values stay inside them."""


@defect_injector("implausible_vitals")
def inject_implausible_vitals(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """observations VALUE of vital signs with a plausible range (``VITAL_RANGES``) made
    implausible: half multiplied by 100 (a misplaced decimal point), half negated, so each
    lies outside its range; units and TYPE stay, the value still parses (the row loads)."""
    observations = tables["observations"]
    code = plain_column(observations, "CODE")
    eligible = np.flatnonzero(pc.is_in(code, value_set=pa.array(list(VITAL_RANGES))).to_numpy(zero_copy_only=False))
    rows = pick_rows(rng, eligible, rate)
    take = pa.array(rows, type=pa.int64())
    value = pc.cast(plain_column(observations, "VALUE").take(take), pa.float64()).to_numpy(zero_copy_only=False)
    negate = rng.random(len(rows)) < 0.5
    decimals = pc.index_in(code.take(take), value_set=pa.array(OBSERVATION_CODES))
    scale = (
        10.0
        ** np.array([o[3] for o in OBSERVATIONS.values()])[decimals.to_numpy(zero_copy_only=False).astype(np.int64)]
    )
    corrupted = np.round(np.where(negate, -value, value * 100) * scale) / scale
    observations = set_rows(observations, "VALUE", rows, pc.cast(pa.array(corrupted), pa.string()))
    return {**tables, "observations": observations}, {"observations": file_counts(len(eligible), len(rows))}


FUTURE_SHIFT_DAYS = 36_524
"""How far ``future_dates`` moves an encounter: about 100 years, so the dates lie years after
any day the extract is checked (DQD flags dates after today + 1), whatever the extract window,
and the output does not depend on the day it is generated."""


@defect_injector("future_dates")
def inject_future_dates(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """encounters START/STOP, and the dates of every event recorded at them (conditions,
    medications, observations, procedures, immunizations, allergies), moved
    ``FUTURE_SHIFT_DAYS`` later. Eligible: encounters of patients without a DEATHDATE (a
    future event of a dead patient would also be an event after death); the events move with
    their visit so they stay within it. The dates still parse (the rows load)."""
    dead = plain_column(tables["patients"], "DEATHDATE").is_valid().to_numpy(zero_copy_only=False)
    patient = _encounter_patients(tables)
    eligible = np.flatnonzero((patient >= 0) & ~dead[np.maximum(patient, 0)])
    rows = pick_rows(rng, eligible, rate)
    return _shift_encounters(tables, eligible, rows, np.full(len(rows), FUTURE_SHIFT_DAYS))


@defect_injector("events_after_death")
def inject_events_after_death(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """encounters of patients with a DEATHDATE moved, with every event recorded at them, to
    61-180 days after the death date (DQD's plausibleBeforeDeath tolerates 60 days). Eligible:
    encounters of patients who have a DEATHDATE. Should no patient have one (tiny extracts),
    ``rate`` of the patients (at least one) first get a DEATHDATE the day after
    their last encounter ends (counted under patients). The dates parse (the rows load)."""
    tables = dict(tables)
    patients = tables["patients"]
    patient = _encounter_patients(tables)
    counts: DefectCounts = {}
    death = plain_column(patients, "DEATHDATE")
    if death.null_count == patients.num_rows:
        seen = np.unique(patient[patient >= 0])
        chosen = pick_rows(rng, seen, rate)
        chosen = chosen if len(chosen) else seen[:1]
        every = np.arange(tables["encounters"].num_rows)
        stop_s, stopped = moments(tables["encounters"], "STOP", every)
        start_s, _ = moments(tables["encounters"], "START", every)
        last_s = np.zeros(patients.num_rows, dtype=np.int64)
        np.maximum.at(last_s, np.maximum(patient, 0), np.where(stopped, stop_s, start_s))
        patients = set_moments(patients, "DEATHDATE", chosen, day_start(last_s[chosen]) + DAY)
        tables["patients"] = patients
        counts["patients"] = file_counts(patients.num_rows, len(chosen))
        death = plain_column(patients, "DEATHDATE")
    dead = death.is_valid().to_numpy(zero_copy_only=False)
    death_day = death.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    eligible = np.flatnonzero((patient >= 0) & dead[np.maximum(patient, 0)])
    rows = pick_rows(rng, eligible, rate)
    start_s, _ = moments(tables["encounters"], "START", rows)
    days = death_day[patient[rows]] + rng.integers(61, 181, len(rows)) - start_s // DAY
    tables, moved = _shift_encounters(tables, eligible, rows, days)
    return tables, {**counts, **moved}


EARLIEST_PLAUSIBLE_DATE = date(1950, 1, 1)
"""DQD's default lower bound for event and death dates (plausibleValueLow)."""


@defect_injector("death_before_birth")
def inject_death_before_birth(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """patients DEATHDATE set 1-365 days before BIRTHDATE (replacing any death date).
    Eligible: patients born from the year after ``EARLIEST_PLAUSIBLE_DATE`` on, so the death date
    itself stays within DQD's plausible date range. The date parses (the row loads). By
    construction all of such a patient's events then lie after their death, so
    plausibleBeforeDeath sees them too."""
    patients = tables["patients"]
    every = np.arange(patients.num_rows)
    birth_s, _ = moments(patients, "BIRTHDATE", every)
    born_from = datetime(EARLIEST_PLAUSIBLE_DATE.year + 1, 1, 1, tzinfo=UTC).timestamp()
    eligible = np.flatnonzero(birth_s >= born_from)
    rows = pick_rows(rng, eligible, rate)
    death_s = birth_s[rows] - rng.integers(1, 366, len(rows)) * DAY
    patients = set_moments(patients, "DEATHDATE", rows, death_s)
    return {**tables, "patients": patients}, {"patients": file_counts(len(eligible), len(rows))}


@defect_injector("visit_end_before_start")
def inject_visit_end_before_start(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """encounters STOP set 1-3 days (whole days, so also by date) before START. Eligible:
    every encounter. STOP is optional and still parses (the row loads); events keep their
    dates, so they stay within the visit's start - 7 days .. end + 7 days for all but the
    last days of long inpatient stays."""
    encounters = tables["encounters"]
    rows = pick_rows(rng, np.arange(encounters.num_rows), rate)
    start_s, _ = moments(encounters, "START", rows)
    stop_s = start_s - rng.integers(1, 4, len(rows)) * DAY
    encounters = set_moments(encounters, "STOP", rows, stop_s)
    return {**tables, "encounters": encounters}, {"encounters": file_counts(encounters.num_rows, len(rows))}


@defect_injector("missing_required_fields")
def inject_missing_required_fields(
    tables: Tables, rate: float, rng: np.random.Generator
) -> tuple[Tables, DefectCounts]:
    """patients: RACE and ETHNICITY emptied and GENDER blanked (a single space). OMOP PERSON
    requires gender_concept_id, race_concept_id and ethnicity_concept_id; the raw contract
    lets RACE and ETHNICITY through as optional, so the rows load and the concepts become 0.
    GENDER is required by the raw contract, so an empty GENDER would be quarantined ("missing
    required GENDER"); a blank one is present to the ingest and only becomes null when the
    OMOP staging trims it, so gender_concept_id is 0 too. Eligible: every patient.

    Not used: encounters STOP (optional; the OMOP ETL fills visit_end_date from the start),
    encounters CODE (optional but feeds no required column), ENCOUNTERCLASS (required and
    quarantined when empty; a blank class maps to an outpatient visit)."""
    patients = tables["patients"]
    rows = pick_rows(rng, np.arange(patients.num_rows), rate)
    patients = set_rows(patients, "GENDER", rows, pa.scalar(" "))
    for column in ("RACE", "ETHNICITY"):
        patients = set_rows(patients, column, rows, pa.scalar(None, type=pa.string()))
    return {**tables, "patients": patients}, {"patients": file_counts(patients.num_rows, len(rows))}


@defect_injector("duplicate_primary_keys")
def inject_duplicate_primary_keys(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """Exact copies of encounters (the ingest quarantines repeated Ids) and of observations
    (no Id column: the copies load), each written right after its original.

    - encounters (primary key Id): the ingest quarantines every repeat of an Id ("duplicate
      Id"), so this variant tests the quarantine path (copies counted there, never loaded);
    - observations (no Id column): the copies load. They reach MEASUREMENT (or OBSERVATION)
      as repeated records of the same person, concept, time and value; their ids still
      differ because the CDM derives them from the source line, so DQD's isPrimaryKey does
      not see them, a duplicate-record check does.

    Eligible: every row of each file, ``rate`` of them copied once."""
    tables = dict(tables)
    counts: DefectCounts = {}
    for name, ingest in (("encounters", "quarantined"), ("observations", "loaded")):
        table = tables[name]
        rows = pick_rows(rng, np.arange(table.num_rows), rate)
        order = np.sort(np.concatenate([np.arange(table.num_rows), rows]), kind="stable")
        tables[name] = table.take(pa.array(order, type=pa.int64()))
        counts[name] = file_counts(table.num_rows, len(rows), ingest)
    return tables, counts


UNIT_SWAPS: dict[str, str] = {
    "2339-0": "mmol/L",  # glucose: the mg/dL number labelled mmol/L (18x too high)
    "38483-4": "mmol/L",  # creatinine: the mg/dL number labelled mmol/L (~88x too high)
    "718-7": "mg/dL",  # hemoglobin: the g/dL number labelled mg/dL (1000x too low)
    "2947-0": "mg/dL",  # sodium: the mmol/L number labelled mg/dL (a mass unit for moles)
}
"""Lab code -> the unit written instead of its own. Each swapped-in unit is a standard UCUM
concept of the demo vocabulary (mmol/L 8753, mg/dL 8840), so unit_concept_id maps and the
defect shows as an implausible unit or, after unit harmonisation, an implausible value. A
body weight in [lb_av] would need the pound concept (8739) in the vocabulary seed; it is not
there, so weights are not swapped."""


@defect_injector("unit_swaps")
def inject_unit_swaps(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """observations UNITS of labs in ``UNIT_SWAPS`` replaced by another plausible unit without
    converting VALUE. Eligible: observations of those codes. The row loads."""
    observations = tables["observations"]
    code = plain_column(observations, "CODE")
    eligible = np.flatnonzero(pc.is_in(code, value_set=pa.array(list(UNIT_SWAPS))).to_numpy(zero_copy_only=False))
    rows = pick_rows(rng, eligible, rate)
    swapped = pa.array(list(UNIT_SWAPS.values())).take(
        pc.index_in(code.take(pa.array(rows, type=pa.int64())), value_set=pa.array(list(UNIT_SWAPS)))
    )
    observations = set_rows(observations, "UNITS", rows, swapped)
    return {**tables, "observations": observations}, {"observations": file_counts(len(eligible), len(rows))}
