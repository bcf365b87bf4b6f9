"""The administrative files: organizations (the sites), their providers, the payers and each
patient's plan, with utilisation and coverage counted from the generated encounters."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlhops_dagster.synthetic.arrays import digits, lookup
from mlhops_dagster.synthetic.directory import (
    CITIES,
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    PAYERS,
    PROVIDER_BANDS,
    PROVIDERS_PER_SITE,
    SITE_KINDS,
    STATE_CODE,
    STREETS,
)
from mlhops_dagster.synthetic.encounters import Encounters
from mlhops_dagster.synthetic.population import Cohort
from mlhops_dagster.synthetic.tables import Identifiers, covered_share, exporter_table, money
from mlhops_dagster.synthetic.timeline import DAY, Window, timestamps


def site_tables(
    rng: np.random.Generator,
    encounters: Encounters,
    ids: Identifiers,
    total_cost: np.ndarray,
    procedure_visits: np.ndarray,
) -> tuple[pa.Table, pa.Table]:
    """Organizations (the sites) and their providers, with utilisation counted from the data."""
    sites = len(ids.organization)
    site = np.arange(sites)
    city = site % len(CITIES)
    street = digits("000", ((0, 3, rng.integers(1, 1000, sites)),))
    address = pc.binary_join_element_wise(street, pa.array(STREETS).take(rng.integers(0, len(STREETS), sites)), " ")
    lat = np.array([c[4] for c in CITIES])[city]
    lon = np.array([c[5] for c in CITIES])[city]
    organizations = exporter_table(
        "organizations",
        sites,
        {
            "Id": ids.organization,
            "NAME": pa.array([f"{CITIES[s % len(CITIES)][0]} {SITE_KINDS[s // len(CITIES) % 3]}" for s in site]),
            "ADDRESS": address,
            "CITY": lookup([c[0] for c in CITIES], city),
            "STATE": lookup((STATE_CODE,), np.zeros(sites)),
            "ZIP": lookup([c[3] for c in CITIES], city),
            "LAT": lat,
            "LON": lon,
            "PHONE": digits(
                "617-000-0000", ((4, 3, rng.integers(200, 1000, sites)), (8, 4, rng.integers(0, 10_000, sites)))
            ),
            "REVENUE": money(np.bincount(encounters.organization, total_cost, sites)),
            "UTILIZATION": np.bincount(encounters.organization, minlength=sites),
            "NPI": digits("0000000000", ((0, 10, rng.integers(10**9, 10**10, sites)),)),
        },
    )

    count = sites * PROVIDERS_PER_SITE
    works_at = np.repeat(site, PROVIDERS_PER_SITE)
    slot = np.tile(np.arange(PROVIDERS_PER_SITE), sites)
    band = np.searchsorted([b[1] for b in PROVIDER_BANDS], slot, side="right") - 1
    male = rng.random(count) < 0.5
    first = pa.array(MALE_FIRST_NAMES + FEMALE_FIRST_NAMES).take(
        np.where(male, 0, len(MALE_FIRST_NAMES)) + rng.integers(0, len(MALE_FIRST_NAMES), count)
    )
    last = pa.array(LAST_NAMES).take(rng.integers(0, len(LAST_NAMES), count))
    providers = exporter_table(
        "providers",
        count,
        {
            "Id": ids.provider,
            "ORGANIZATION": ids.organization.take(works_at),
            "NAME": pc.binary_join_element_wise(first, last, " "),
            "GENDER": lookup(("F", "M"), male),
            "SPECIALITY": lookup([b[0] for b in PROVIDER_BANDS], band),
            "ADDRESS": address.take(works_at),
            "CITY": lookup([c[0] for c in CITIES], city[works_at]),
            "STATE": lookup((STATE_CODE,), np.zeros(count)),
            "ZIP": lookup([c[3] for c in CITIES], city[works_at]),
            "LAT": lat[works_at],
            "LON": lon[works_at],
            "ENCOUNTERS": np.bincount(encounters.provider, minlength=count),
            "PROCEDURES": np.bincount(encounters.provider[procedure_visits], minlength=count),
            "NPI": digits("0000000000", ((0, 10, rng.integers(10**9, 10**10, count)),)),
        },
    )
    return organizations, providers


def payer_tables(
    cohort: Cohort,
    encounters: Encounters,
    ids: Identifiers,
    patients: pa.Table,
    window: Window,
    total_cost: np.ndarray,
    member_ids: pa.Array,
    billed_visits: dict[str, np.ndarray],
) -> tuple[pa.Table, pa.Table]:
    """Payers with coverage totals, and one plan per patient for their time in the extract.
    ``billed_visits`` holds, per billed event kind, the encounter of every event."""
    payers = len(PAYERS)
    covered = np.array([p[2] for p in PAYERS]) > 0

    def split(visits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = np.bincount(cohort.payer[encounters.patient[visits]], minlength=payers)
        return np.where(covered, counts, 0), np.where(covered, 0, counts)

    payer_of_visit = cohort.payer[encounters.patient]
    coverage = covered_share(cohort, encounters.patient)
    member_months = np.bincount(
        cohort.payer, np.maximum(cohort.active_end_s - window.start_s, 0) / (30.44 * DAY), payers
    )
    counts = {}
    for kind, visits in {"ENCOUNTERS": np.arange(len(encounters)), **billed_visits}.items():
        counts[f"COVERED_{kind}"], counts[f"UNCOVERED_{kind}"] = split(visits)
    payer_table = exporter_table(
        "payers",
        payers,
        {
            "Id": ids.payer,
            **{
                column: pa.array([p[i] for p in PAYERS], type=pa.string())
                for column, i in (
                    ("NAME", 0),
                    ("OWNERSHIP", 1),
                    ("ADDRESS", 3),
                    ("CITY", 4),
                    ("STATE_HEADQUARTERED", 5),
                    ("ZIP", 6),
                    ("PHONE", 7),
                )
            },
            "AMOUNT_COVERED": money(np.bincount(payer_of_visit, total_cost * coverage, payers)),
            "AMOUNT_UNCOVERED": money(np.bincount(payer_of_visit, total_cost * (1 - coverage), payers)),
            "REVENUE": money(member_months * 310.0 * covered),
            **counts,
            "UNIQUE_CUSTOMERS": np.bincount(cohort.payer, minlength=payers),
            "QOLS_AVG": np.full(payers, 0.85),
            "MEMBER_MONTHS": np.round(member_months).astype(np.int64),
        },
    )

    n = cohort.size
    transitions = exporter_table(
        "payer_transitions",
        n,
        {
            "PATIENT": ids.patient,
            "MEMBERID": member_ids,
            "START_DATE": timestamps(np.full(n, window.start_s)),
            "END_DATE": timestamps(cohort.active_end_s - 1),
            "PAYER": ids.payer.take(cohort.payer),
            "PLAN_OWNERSHIP": lookup(("Self",), np.zeros(n)),
            "OWNER_NAME": pc.binary_join_element_wise(patients["FIRST"], patients["LAST"], " ").combine_chunks(),
        },
    )
    return payer_table, transitions
