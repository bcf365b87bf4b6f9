"""One extract folder end to end: seeded random streams, the tables, optional defects, the CSV
files and, last, the completion marker."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from mlhops_dagster.ehr.contract import SUCCESS_MARKER
from mlhops_dagster.synthetic.administration import payer_tables, site_tables
from mlhops_dagster.synthetic.arrays import uuids
from mlhops_dagster.synthetic.defects import DEFECTS_MANIFEST, DefectSpec, inject_defects
from mlhops_dagster.synthetic.directory import PAYERS, PROVIDERS_PER_SITE
from mlhops_dagster.synthetic.drift import DriftSpec
from mlhops_dagster.synthetic.encounters import make_encounters
from mlhops_dagster.synthetic.events import diagnose, measure, perform_procedures, prescribe, vaccinate
from mlhops_dagster.synthetic.population import make_cohort
from mlhops_dagster.synthetic.tables import (
    Identifiers,
    Tables,
    allergies_table,
    conditions_table,
    encounter_costs,
    encounters_table,
    exporter_table,
    immunizations_table,
    medications_table,
    observations_table,
    patients_table,
    procedures_table,
)
from mlhops_dagster.synthetic.timeline import Window
from mlhops_dagster.synthetic.writer import write_tables

logger = logging.getLogger(__name__)


def generate_extract(
    out_dir: Path,
    patients: int,
    seed: int,
    sites: int = 3,
    start: date = date(2016, 1, 1),
    end: date = date(2021, 12, 31),
    drift: DriftSpec | None = None,
    defects: Sequence[DefectSpec] = (),
) -> dict[str, int]:
    """Write one complete extract folder; return rows per file name (e.g. {"patients": 2000}).

    With ``defects``, each is injected in turn (its own random stream from the seed, so the
    output stays byte-identical per arguments) and what it did is written to
    ``DEFECTS_MANIFEST`` in the folder. The ``_SUCCESS`` marker is removed first and written
    last, so a reader never mistakes a half-written folder for a complete extract.
    """
    if patients < 1 or sites < 1:
        raise ValueError("patients and sites must be at least 1")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    if not date(1971, 1, 1) <= start < end < date(2100, 1, 1):
        raise ValueError("need 1971-01-01 <= start < end < 2100-01-01")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SUCCESS_MARKER).unlink(missing_ok=True)
    (out_dir / DEFECTS_MANIFEST).unlink(missing_ok=True)
    logger.info(
        "generating %d patients at %d sites, %s to %s, seed %d, into %s", patients, sites, start, end, seed, out_dir
    )

    generated = generate_tables(patients, seed, sites, Window.of(start, end), drift or DriftSpec())
    tables, injected = inject_defects(generated, seed, defects)
    write_tables(out_dir, tables, generated)
    if defects:
        (out_dir / DEFECTS_MANIFEST).write_text(json.dumps({"defects": injected}, indent=2) + "\n", encoding="utf-8")
    (out_dir / SUCCESS_MARKER).touch()
    logger.info("extract complete: %s", out_dir)
    return {name: table.num_rows for name, table in tables.items()}


def generate_tables(n: int, seed: int, sites: int, window: Window, drift: DriftSpec) -> Tables:
    """Every file of the extract as an in-memory table, in exporter column order.

    Independent random streams per stage keep identifiers stable when only the clinical
    model (e.g. drift) changes, and keep each stage reproducible on its own.
    """
    naming, population, utilisation, clinical, identity = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    cohort = make_cohort(population, n, sites, window, drift)
    encounters, stays = make_encounters(utilisation, cohort, window, sites)
    ids = Identifiers(
        patient=uuids(naming, n),
        encounter=uuids(naming, len(encounters)),
        organization=uuids(naming, sites),
        provider=uuids(naming, sites * PROVIDERS_PER_SITE),
        payer=uuids(naming, len(PAYERS)),
    )
    member_ids = uuids(naming, n)

    diagnoses, diagnosed_at = diagnose(clinical, cohort, encounters, window)
    prescriptions = prescribe(clinical, cohort, encounters, diagnosed_at, window)
    interventions = perform_procedures(clinical, cohort, encounters)
    measurements = measure(clinical, cohort, encounters, stays, drift)
    vaccinations = vaccinate(clinical, cohort, encounters)
    total_cost = encounter_costs(clinical, encounters)

    tables: Tables = {
        "patients": patients_table(identity, cohort, ids),
        "encounters": encounters_table(cohort, encounters, ids, total_cost),
        "conditions": conditions_table(diagnoses, encounters, ids),
        "medications": medications_table(prescriptions, cohort, encounters, ids, window),
        "observations": observations_table(measurements, encounters, ids),
        "procedures": procedures_table(interventions, encounters, ids),
        "immunizations": immunizations_table(vaccinations, encounters, ids),
        "allergies": allergies_table(clinical, encounters, ids),
        # Synthea writes the file even when no device was implanted; the demo population has none.
        "devices": exporter_table("devices", 0, {}),
    }
    tables["organizations"], tables["providers"] = site_tables(
        identity, encounters, ids, total_cost, interventions["encounter"]
    )
    tables["payers"], tables["payer_transitions"] = payer_tables(
        cohort,
        encounters,
        ids,
        tables["patients"],
        window,
        total_cost,
        member_ids,
        {
            "MEDICATIONS": prescriptions["encounter"],
            "PROCEDURES": interventions["encounter"],
            "IMMUNIZATIONS": vaccinations["encounter"],
        },
    )
    for name, table in tables.items():
        logger.info("generated %s: %d rows", name, table.num_rows)
    return tables
