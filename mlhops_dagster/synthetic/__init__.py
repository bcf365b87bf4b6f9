"""Deterministic, vectorised generator of synthetic EHR extracts in Synthea 3.3 CSV format.

Why it exists: the pipeline is developed, tested, benchmarked and demonstrated without real
patient data, so it needs raw extracts that look like a hospital's (the Synthea CSV exporter
contract, direct identifiers included so ingest can prove it drops them) and that carry a
known, learnable clinical signal. The signal is a 30-day readmission risk driven by age,
comorbidity burden, abnormal labs measured during the stay and prior-year admissions, plus
hidden frailty and noise, so a sensible model lands near AUROC 0.8 rather than 0.6 or 0.99.

Everything is drawn with numpy from one seed (byte-identical output per arguments) as whole
arrays: there are loops over codes, panels and files, never over patients or encounters.
``DriftSpec`` shifts the population of a later extract for monitoring demos, and
``DefectSpec`` injects named data-quality defects into the in-memory tables before writing
and records what each did in the extract's ``_defects.json``.

It is test and demo tooling, kept apart from the production ingest (``mlhops_dagster.ehr``),
whose contract it writes to. Modules, in the order an extract is made: ``codes`` and
``directory`` (what is drawn from), ``population``, ``encounters``, ``physiology``, ``events``,
``tables`` and ``administration`` (the files), ``drift``, ``defects`` and ``injectors``,
``writer``, and ``extract`` (``generate_extract``, tying them together).
"""

from __future__ import annotations

from mlhops_dagster.synthetic.defects import (
    DEFECT_INJECTORS,
    DEFECTS_MANIFEST,
    DefectCounts,
    DefectInjector,
    DefectSpec,
    defect_injector,
)
from mlhops_dagster.synthetic.drift import DRIFT_PRESETS, DriftSpec
from mlhops_dagster.synthetic.extract import generate_extract
from mlhops_dagster.synthetic.injectors import UNMAPPED_CONDITION
from mlhops_dagster.synthetic.tables import Tables

__all__ = [
    "DEFECTS_MANIFEST",
    "DEFECT_INJECTORS",
    "DRIFT_PRESETS",
    "UNMAPPED_CONDITION",
    "DefectCounts",
    "DefectInjector",
    "DefectSpec",
    "DriftSpec",
    "Tables",
    "defect_injector",
    "generate_extract",
]
