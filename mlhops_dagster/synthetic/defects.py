"""Data-quality defects: what to inject (``DefectSpec``), the registry of injectors, and the
``_defects.json`` manifest of what each did. The injectors themselves live in ``injectors``."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mlhops_dagster.synthetic.tables import Tables

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DefectSpec:
    """A named data-quality defect to inject and the share of eligible rows it corrupts.

    The kinds, what each corrupts, which rows are eligible and whether the corrupted rows
    pass the raw ingest are documented on the injectors in ``DEFECT_INJECTORS``.
    """

    kind: str
    rate: float = 0.01

    def __post_init__(self) -> None:
        if self.kind not in DEFECT_INJECTORS:
            raise ValueError(f"unknown defect {self.kind!r}; known: {sorted(DEFECT_INJECTORS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"defect rate must be within [0, 1], got {self.rate}")


DefectCounts = dict[str, dict[str, int | str]]
"""What one injector did, per file it touched: ``eligible`` rows, ``affected`` rows (rows
changed; for duplicates, rows added) and ``ingest``: ``loaded`` when the corrupted rows pass
the raw ingest (``ehr.ingest``) and reach the warehouse, ``quarantined`` when the ingest is
meant to catch them (the quarantine path is then what the defect tests)."""
DefectInjector = Callable[[Tables, float, np.random.Generator], Tables | tuple[Tables, DefectCounts]]
DEFECT_INJECTORS: dict[str, DefectInjector] = {}
"""Registry of defect injectors: each takes the in-memory tables (file name -> table in
exporter column order), a rate and a generator, and returns the tables with the defect,
optionally with its ``DefectCounts``. Rows are picked deterministically from the generator:
``rate * eligible`` of them (rounded half up). Every kind corrupts values so that the row
still loads (it survives ingest) unless its docstring says otherwise."""

DEFECTS_MANIFEST = "_defects.json"
"""Written into an extract folder generated with defects: per defect its kind, rate,
description and ``DefectCounts`` (counts only, never an identifier)."""


def defect_injector(kind: str) -> Callable[[DefectInjector], DefectInjector]:
    """Register an injector under the name used by ``DefectSpec.kind`` and the CLI."""

    def register(injector: DefectInjector) -> DefectInjector:
        DEFECT_INJECTORS[kind] = injector
        return injector

    return register


def pick_rows(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Sorted positions: ``rate * len(eligible)`` (rounded half up) of ``eligible``, drawn
    without replacement."""
    count = int(np.floor(rate * len(eligible) + 0.5))
    if count == 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(np.asarray(eligible, dtype=np.int64), size=count, replace=False))


def file_counts(eligible: int | np.integer, affected: int | np.integer, ingest: str = "loaded") -> dict[str, int | str]:
    """One file's entry in ``DefectCounts`` (plain ints, so the manifest serialises)."""
    return {"eligible": int(eligible), "affected": int(affected), "ingest": ingest}


def inject_defects(tables: Tables, seed: int, defects: Sequence[DefectSpec]) -> tuple[Tables, list[dict[str, object]]]:
    """Inject each defect in turn, each from its own random stream of the seed (so the output
    stays byte-identical per arguments); return the tables and one manifest entry per defect
    (kind, rate, the first paragraph of the injector's docstring, ``DefectCounts``)."""
    injected: list[dict[str, object]] = []
    for number, defect in enumerate(defects):
        rng = np.random.default_rng([seed, number, zlib.crc32(defect.kind.encode())])
        injector = DEFECT_INJECTORS[defect.kind]
        result = injector(tables, defect.rate, rng)
        tables, counts = result if isinstance(result, tuple) else (result, {})
        injected.append(
            {
                "kind": defect.kind,
                "rate": defect.rate,
                "description": " ".join((injector.__doc__ or "").split("\n\n")[0].split()),
                "files": counts,
            }
        )
        logger.info("injected defect %s at rate %s: %s", defect.kind, defect.rate, counts)
    return tables, injected
