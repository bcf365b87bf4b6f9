"""The patient-level files as Arrow tables in exporter column order: patients, encounters and the
events recorded at them, sorted as an exporter writes them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlhops_dagster.ehr.contract import EXPORTER_HEADERS
from mlhops_dagster.synthetic.arrays import choice, digits, lookup, starts_run
from mlhops_dagster.synthetic.codes import (
    ALLERGIES,
    CONDITION_CODES,
    CONDITIONS,
    ENCOUNTER_CLASSES,
    IMMUNIZATION_CODES,
    IMMUNIZATIONS,
    INPATIENT,
    MEDICATION_CODES,
    MEDICATIONS,
    OBSERVATION_CODES,
    OBSERVATIONS,
    PROCEDURE_CODES,
    PROCEDURES,
    SMOKING_STATUS,
    SMOKING_STATUSES,
    SNOMED,
)
from mlhops_dagster.synthetic.directory import (
    CITIES,
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    PAYERS,
    RACES,
    STATE,
    STREETS,
)
from mlhops_dagster.synthetic.encounters import Encounters
from mlhops_dagster.synthetic.events import Events
from mlhops_dagster.synthetic.population import Cohort
from mlhops_dagster.synthetic.timeline import DAY, NEVER, Window, dates, timestamps

Tables = dict[str, pa.Table]
"""Every file of an extract by name (e.g. ``patients``), each in exporter column order."""


@dataclass(frozen=True)
class Identifiers:
    patient: pa.Array
    encounter: pa.Array
    organization: pa.Array
    provider: pa.Array
    payer: pa.Array


def money(values: np.ndarray) -> np.ndarray:
    return np.round(values, 2)


def covered_share(cohort: Cohort, patient: np.ndarray) -> np.ndarray:
    """Share of a patient's costs their payer covers."""
    return np.array([p[2] for p in PAYERS])[cohort.payer[patient]]


def exporter_table(file: str, n: int, columns: dict[str, pa.Array | np.ndarray]) -> pa.Table:
    """A file's table in exporter header order; columns not given are all null."""
    unknown = set(columns) - set(EXPORTER_HEADERS[file])
    if unknown:
        raise KeyError(f"{file}: columns outside the Synthea 3.3 header: {sorted(unknown)}")
    arrays = [
        pa.nulls(n, pa.string())
        if name not in columns
        else pa.array(columns[name])
        if isinstance(columns[name], np.ndarray)
        else columns[name]
        for name in EXPORTER_HEADERS[file]
    ]
    return pa.Table.from_arrays(arrays, names=list(EXPORTER_HEADERS[file]))


def patients_table(rng: np.random.Generator, cohort: Cohort, ids: Identifiers) -> pa.Table:
    """Demographics plus plausible fake direct identifiers (ingest must prove it drops them).
    Patients mostly live in their home site's town."""
    n = cohort.size
    male = cohort.male
    name_pool = pa.array(MALE_FIRST_NAMES + FEMALE_FIRST_NAMES)
    per_sex = len(MALE_FIRST_NAMES)

    def numbered(pool: pa.Array, index: np.ndarray) -> pa.Array:
        """Synthea-style obviously fake names: a common name plus three digits."""
        suffix = digits("000", ((0, 3, rng.integers(100, 1000, n)),))
        return pc.binary_join_element_wise(pool.take(index), suffix, "")

    def some(values: pa.Array, present: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(present), values, pa.nulls(n, pa.string()))

    sex_offset = np.where(male, 0, per_sex)
    marital = choice(rng, n, (0.5, 0.3, 0.12, 0.08))  # M, S, D, W
    married_woman = ~male & (marital != 1)
    city = np.where(rng.random(n) < 0.6, cohort.site % len(CITIES), rng.integers(0, len(CITIES), n))
    house = digits("000", ((0, 3, rng.integers(1, 1000, n)),))
    street = pa.array(STREETS).take(rng.integers(0, len(STREETS), n))
    dead = cohort.death_s < NEVER
    return exporter_table(
        "patients",
        n,
        {
            "Id": ids.patient,
            "BIRTHDATE": dates(cohort.birth_s),
            "DEATHDATE": dates(np.where(dead, cohort.death_s, 0), valid=dead),
            "SSN": digits("999-00-0000", ((4, 2, rng.integers(10, 100, n)), (7, 4, rng.integers(0, 10_000, n)))),
            "DRIVERS": digits("S99900000", ((4, 5, rng.integers(0, 100_000, n)),), valid=rng.random(n) < 0.9),
            "PASSPORT": digits("X00000000X", ((1, 8, rng.integers(0, 10**8, n)),), valid=rng.random(n) < 0.7),
            "PREFIX": lookup(("Mr.", "Mrs.", "Ms."), np.where(male, 0, np.where(married_woman, 1, 2))),
            "FIRST": numbered(name_pool, sex_offset + rng.integers(0, per_sex, n)),
            "MIDDLE": some(numbered(name_pool, sex_offset + rng.integers(0, per_sex, n)), rng.random(n) < 0.7),
            "LAST": numbered(pa.array(LAST_NAMES), rng.integers(0, len(LAST_NAMES), n)),
            "MAIDEN": some(numbered(pa.array(LAST_NAMES), rng.integers(0, len(LAST_NAMES), n)), married_woman),
            "MARITAL": lookup(("M", "S", "D", "W"), marital),
            "RACE": lookup(RACES, cohort.race),
            "ETHNICITY": lookup(("nonhispanic", "hispanic"), cohort.hispanic),
            "GENDER": lookup(("F", "M"), male),
            "BIRTHPLACE": lookup([f"{c[0]}  {STATE}  US" for c in CITIES], rng.integers(0, len(CITIES), n)),
            "ADDRESS": pc.binary_join_element_wise(house, street, " "),
            "CITY": lookup([c[0] for c in CITIES], city),
            "STATE": lookup((STATE,), np.zeros(n)),
            "COUNTY": lookup([c[1] for c in CITIES], city),
            "FIPS": lookup([c[2] for c in CITIES], city),
            "ZIP": lookup([c[3] for c in CITIES], city),
            "LAT": np.array([c[4] for c in CITIES])[city] + rng.normal(0, 0.05, n),
            "LON": np.array([c[5] for c in CITIES])[city] + rng.normal(0, 0.05, n),
            "HEALTHCARE_EXPENSES": money(rng.lognormal(11.5, 0.8, n)),
            "HEALTHCARE_COVERAGE": money(rng.lognormal(10.5, 1.0, n)),
            "INCOME": np.round(rng.lognormal(10.9, 0.6, n)).astype(np.int64),
        },
    )


def encounter_costs(rng: np.random.Generator, encounters: Encounters) -> np.ndarray:
    """Total claim cost: the class's base cost, per day for hospital stays, plus extras."""
    base = np.array([c[3] for c in ENCOUNTER_CLASSES])[encounters.kind]
    days = np.where(encounters.kind == INPATIENT, np.ceil((encounters.stop_s - encounters.start_s) / DAY), 1)
    return money(base * days * rng.lognormal(0.3, 0.3, len(encounters)))


def encounters_table(cohort: Cohort, encounters: Encounters, ids: Identifiers, total_cost: np.ndarray) -> pa.Table:
    kind = encounters.kind
    return exporter_table(
        "encounters",
        len(encounters),
        {
            "Id": ids.encounter,
            "START": timestamps(encounters.start_s),
            "STOP": timestamps(encounters.stop_s),
            "PATIENT": ids.patient.take(encounters.patient),
            "ORGANIZATION": ids.organization.take(encounters.organization),
            "PROVIDER": ids.provider.take(encounters.provider),
            "PAYER": ids.payer.take(cohort.payer[encounters.patient]),
            "ENCOUNTERCLASS": lookup([c[0] for c in ENCOUNTER_CLASSES], kind),
            "CODE": lookup([c[1] for c in ENCOUNTER_CLASSES], kind),
            "DESCRIPTION": lookup([c[2] for c in ENCOUNTER_CLASSES], kind),
            "BASE_ENCOUNTER_COST": np.array([c[3] for c in ENCOUNTER_CLASSES])[kind],
            "TOTAL_CLAIM_COST": total_cost,
            "PAYER_COVERAGE": money(total_cost * covered_share(cohort, encounters.patient)),
            "REASONCODE": lookup(CONDITION_CODES, encounters.reason),
            "REASONDESCRIPTION": lookup(list(CONDITIONS.values()), encounters.reason),
        },
    )


def in_visit_order(events: Events, encounters: Encounters, moment: str) -> dict[str, np.ndarray]:
    """Event columns sorted by encounter (so by patient), time and code, as an exporter
    writes them. One packed integer key: a 3-key lexsort is 4x slower at this size."""
    visit = events["encounter"]
    offset = events[moment] - encounters.start_s[visit]  # < 2**20 s: stays last < 12 days
    order = np.argsort((visit << 26) | (offset << 6) | events["code"], kind="stable")
    return {field: events[field][order] for field in events.fields}


def conditions_table(events: Events, encounters: Encounters, ids: Identifiers) -> pa.Table:
    rows = in_visit_order(events, encounters, "start_s")
    visit, code, stop_s = rows["encounter"], rows["code"], rows["stop_s"]
    return exporter_table(
        "conditions",
        len(visit),
        {
            "START": dates(rows["start_s"]),
            "STOP": dates(np.maximum(stop_s, 0), valid=stop_s >= 0),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "SYSTEM": lookup((SNOMED,), np.zeros(len(visit))),
            "CODE": lookup(CONDITION_CODES, code),
            "DESCRIPTION": lookup(list(CONDITIONS.values()), code),
        },
    )


def medications_table(
    events: Events, cohort: Cohort, encounters: Encounters, ids: Identifiers, window: Window
) -> pa.Table:
    rows = in_visit_order(events, encounters, "start_s")
    visit, code, reason = rows["encounter"], rows["code"], rows["reason"]
    start_s, stop_s = rows["start_s"], rows["stop_s"]
    patient = encounters.patient[visit]
    covered_until = np.where(stop_s >= 0, stop_s, window.end_s)
    dispenses = np.maximum(np.ceil((covered_until - start_s) / (30.44 * DAY)), 1).astype(np.int64)
    base_cost = np.array([m[1] for m in MEDICATIONS.values()])[code]
    total = money(base_cost * dispenses)
    return exporter_table(
        "medications",
        len(visit),
        {
            "START": timestamps(start_s),
            "STOP": timestamps(np.maximum(stop_s, 0), valid=stop_s >= 0),
            "PATIENT": ids.patient.take(patient),
            "PAYER": ids.payer.take(cohort.payer[patient]),
            "ENCOUNTER": ids.encounter.take(visit),
            "CODE": lookup(MEDICATION_CODES, code),
            "DESCRIPTION": lookup([m[0] for m in MEDICATIONS.values()], code),
            "BASE_COST": base_cost,
            "PAYER_COVERAGE": money(total * covered_share(cohort, patient)),
            "DISPENSES": dispenses,
            "TOTALCOST": total,
            "REASONCODE": lookup(CONDITION_CODES, reason),
            "REASONDESCRIPTION": lookup(list(CONDITIONS.values()), reason),
        },
    )


def observations_table(events: Events, encounters: Encounters, ids: Identifiers) -> pa.Table:
    rows = in_visit_order(events, encounters, "date_s")
    visit, code, value = rows["encounter"], rows["code"], rows["value"]
    scale = 10.0 ** np.array([o[3] for o in OBSERVATIONS.values()])[code]
    text = code == OBSERVATION_CODES.index(SMOKING_STATUS)
    numeric = np.flatnonzero(~text)
    worded = np.flatnonzero(text)
    # Numbers and words are formatted apart, then put back in row order.
    values = pa.concat_arrays(
        [
            pc.cast(pa.array(np.round(value[numeric] * scale[numeric]) / scale[numeric]), pa.string()),
            pa.array(SMOKING_STATUSES).take(value[worded].astype(np.int64)),
        ]
    )
    row_order = np.empty(len(visit), dtype=np.int64)
    row_order[np.concatenate([numeric, worded])] = np.arange(len(visit))
    return exporter_table(
        "observations",
        len(visit),
        {
            "DATE": timestamps(rows["date_s"]),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "CATEGORY": lookup([o[2] for o in OBSERVATIONS.values()], code),
            "CODE": lookup(OBSERVATION_CODES, code),
            "DESCRIPTION": lookup([o[0] for o in OBSERVATIONS.values()], code),
            "VALUE": values.take(row_order),
            "UNITS": lookup([o[1] or None for o in OBSERVATIONS.values()], code),
            "TYPE": lookup(("numeric", "text"), text),
        },
    )


def procedures_table(events: Events, encounters: Encounters, ids: Identifiers) -> pa.Table:
    rows = in_visit_order(events, encounters, "start_s")
    visit, code, reason = rows["encounter"], rows["code"], rows["reason"]
    return exporter_table(
        "procedures",
        len(visit),
        {
            "START": timestamps(rows["start_s"]),
            "STOP": timestamps(rows["stop_s"]),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "SYSTEM": lookup((SNOMED,), np.zeros(len(visit))),
            "CODE": lookup(PROCEDURE_CODES, code),
            "DESCRIPTION": lookup([p[0] for p in PROCEDURES.values()], code),
            "BASE_COST": np.array([p[1] for p in PROCEDURES.values()])[code],
            "REASONCODE": lookup(CONDITION_CODES, reason),
            "REASONDESCRIPTION": lookup(list(CONDITIONS.values()), reason),
        },
    )


def immunizations_table(events: Events, encounters: Encounters, ids: Identifiers) -> pa.Table:
    rows = in_visit_order(events, encounters, "date_s")
    visit, code = rows["encounter"], rows["code"]
    return exporter_table(
        "immunizations",
        len(visit),
        {
            "DATE": timestamps(rows["date_s"]),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "CODE": lookup(IMMUNIZATION_CODES, code),
            "DESCRIPTION": lookup([i[0] for i in IMMUNIZATIONS.values()], code),
            "BASE_COST": np.array([i[1] for i in IMMUNIZATIONS.values()])[code],
        },
    )


def allergies_table(rng: np.random.Generator, encounters: Encounters, ids: Identifiers) -> pa.Table:
    """A few known allergies, recorded at the patient's first encounter of the extract."""
    first = np.flatnonzero(starts_run(encounters.patient))
    visit = first[rng.random(len(first)) < 0.06]
    allergy = rng.integers(0, len(ALLERGIES), len(visit))

    def field(i: int) -> pa.Array:
        return lookup([a[i] for a in ALLERGIES], allergy)

    return exporter_table(
        "allergies",
        len(visit),
        {
            "START": dates(encounters.start_s[visit]),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "CODE": field(0),
            "SYSTEM": field(1),
            "DESCRIPTION": field(2),
            "TYPE": field(3),
            "CATEGORY": field(4),
            "REACTION1": field(5),
            "DESCRIPTION1": field(6),
            "SEVERITY1": field(7),
        },
    )
