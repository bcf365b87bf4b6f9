"""Encounters: inpatient stays with their readmission chains (the learnable signal), clinic and
emergency visits around them, and who saw the patient where and why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlhops_dagster.synthetic.arrays import categorical, sigmoid, starts_run
from mlhops_dagster.synthetic.codes import (
    ACUTE_BRONCHITIS,
    AMBULATORY,
    ANEMIA,
    CARDIAC_ARREST,
    CHRONIC_CONDITIONS,
    CHRONIC_OBSTRUCTIVE_BRONCHITIS,
    CHRONIC_PAIN,
    CONDITION_CODES,
    CORONARY_ARTERIOSCLEROSIS,
    CREATININE,
    DIABETES,
    DRUG_OVERDOSE,
    EMERGENCY,
    HBA1C,
    HEMOGLOBIN,
    HYPERTENSION,
    HYPOXEMIA,
    INPATIENT,
    LABS,
    MYOCARDIAL_INFARCTION,
    OBESITY,
    OUTPATIENT,
    STRESS,
    URGENTCARE,
    VIRAL_SINUSITIS,
    WELLNESS,
)
from mlhops_dagster.synthetic.directory import CLASS_PROVIDER_BAND, PROVIDER_BANDS, PROVIDERS_PER_SITE
from mlhops_dagster.synthetic.physiology import lab_values
from mlhops_dagster.synthetic.population import Cohort
from mlhops_dagster.synthetic.timeline import DAY, HOUR, NEVER, YEAR, Window, day_start, patient_time

READMISSION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Stays:
    """Inpatient stays with the labs measured during each (they drive readmission)."""

    patient: np.ndarray
    start_s: np.ndarray
    stop_s: np.ndarray
    severity: np.ndarray
    labs: dict[str, np.ndarray]


def _readmission_logit(
    cohort: Cohort,
    patient: np.ndarray,
    discharge_s: np.ndarray,
    labs: dict[str, np.ndarray],
    prior_year_stays: np.ndarray,
    severity: np.ndarray,
    unmeasured: np.ndarray,
) -> np.ndarray:
    """Log-odds of another admission within 30 days of discharge.

    Observable drivers (age, comorbidity, abnormal creatinine / hemoglobin / HbA1c, prior-year
    admissions) carry most of the signal; hidden frailty, residual severity, circumstances
    no record holds (``unmeasured``, standard normal) and the Bernoulli draw keep a good
    model near AUROC 0.8.
    """
    renal = np.clip((labs[CREATININE] - 1.2) / 0.4, 0, 4)
    anemic = np.clip((12.5 - labs[HEMOGLOBIN]) / 1.2, 0, 4)
    glycemic = np.clip(labs[HBA1C] - 7.0, 0, 4)
    return (
        -4.6
        + 0.03 * (cohort.age_at(patient, discharge_s) - 65)
        + 0.2 * cohort.comorbidity_count(patient, discharge_s)
        + 0.45 * renal
        + 0.4 * anemic
        + 0.3 * glycemic
        + 0.4 * np.minimum(prior_year_stays, 3)
        + 0.3 * cohort.frailty[patient]
        + 0.25 * severity
        + unmeasured
    )


def _inpatient_stays(rng: np.random.Generator, cohort: Cohort, window: Window) -> Stays:
    """Index admissions (more for older, sicker patients), then readmission chains.

    Each discharge draws a readmission from ``_readmission_logit``; a readmission starts 1-28
    days later and can itself be readmitted. Unplanned index admissions are kept at least 31
    days after the previous episode, so every 30-day readmission in the output is one the
    model decided, and the label is learnable from what was known at discharge.
    """
    n = cohort.size
    everyone = np.arange(n)
    years = (cohort.active_end_s - window.start_s) / YEAR
    rate = 0.045 * np.exp(
        0.035 * (cohort.age_at(everyone, window.start_s) - 65)
        + 0.3 * cohort.comorbidity_count(everyone, window.end_s)
        + 0.5 * cohort.frailty
    )
    patient = np.repeat(everyone, rng.poisson(rate * np.maximum(years, 0)))
    start_s = window.start_s + (rng.random(len(patient)) * (cohort.active_end_s[patient] - window.start_s)).astype(
        np.int64
    )
    order = np.lexsort((start_s, patient))
    patient, start_s = patient[order], start_s[order]
    crowded = ~starts_run(patient)
    crowded[1:] &= np.diff(start_s) < 120 * DAY
    patient, start_s = patient[~crowded], start_s[~crowded]
    key = patient_time(patient, start_s)
    prior_year = np.arange(len(key)) - np.searchsorted(key, patient_time(patient, start_s - 365 * DAY))

    episode = np.arange(len(patient))
    severity = rng.standard_normal(len(patient))
    chain: list[tuple[np.ndarray, ...]] = []
    chain_labs: list[dict[str, np.ndarray]] = []
    while True:
        length_of_stay = np.clip(np.round(rng.lognormal(np.log(3.2) + 0.15 * severity, 0.45)), 1, 10)
        stop_s = (
            day_start(start_s) + length_of_stay.astype(np.int64) * DAY + rng.integers(9 * HOUR, 17 * HOUR, len(patient))
        )
        labs = lab_values(rng, cohort, patient, start_s, severity)
        chain.append((patient, start_s, stop_s, severity, episode))
        chain_labs.append(labs)
        p = sigmoid(
            _readmission_logit(cohort, patient, stop_s, labs, prior_year, severity, rng.standard_normal(len(patient)))
        )
        again = (rng.random(len(patient)) < p) & (stop_s < cohort.active_end_s[patient])
        if not again.any():
            break
        gap_days = 1 + np.floor(28 * rng.beta(1.0, 2.0, again.sum())).astype(np.int64)
        patient, episode, prior_year = patient[again], episode[again], prior_year[again] + 1
        start_s = day_start(stop_s[again]) + gap_days * DAY + rng.integers(0, DAY, len(patient))
        severity = 0.5 * severity[again] + rng.normal(0, 0.87, len(patient))

    patient, start_s, stop_s, severity, episode = (np.concatenate([part[i] for part in chain]) for i in range(5))
    labs = {code: np.concatenate([part[code] for part in chain_labs]) for code in LABS}
    episode_start = np.full(episode.max(initial=-1) + 1, NEVER)
    np.minimum.at(episode_start, episode, start_s)
    episode_end = np.zeros_like(episode_start)
    np.maximum.at(episode_end, episode, stop_s)
    episode_patient = np.zeros_like(episode_start)
    episode_patient[episode] = patient
    too_soon = ~starts_run(episode_patient)
    too_soon[1:] &= episode_start[1:] < episode_end[:-1] + (READMISSION_WINDOW_DAYS + 1) * DAY
    keep = ~too_soon[episode] & (stop_s < cohort.active_end_s[patient])
    return Stays(
        patient[keep],
        start_s[keep],
        stop_s[keep],
        severity[keep],
        {code: values[keep] for code, values in labs.items()},
    )


@dataclass(frozen=True)
class Encounters:
    """All encounters sorted by patient then start; ``stay`` indexes ``Stays`` (-1 if none)."""

    patient: np.ndarray
    start_s: np.ndarray
    stop_s: np.ndarray
    kind: np.ndarray  # index into ENCOUNTER_CLASSES
    severity: np.ndarray
    stay: np.ndarray
    organization: np.ndarray
    provider: np.ndarray
    reason: np.ndarray  # index into CONDITION_CODES, -1 for none

    def __len__(self) -> int:
        return len(self.patient)

    def key(self) -> np.ndarray:
        return patient_time(self.patient, self.start_s)


def _clinic_visits(
    rng: np.random.Generator, cohort: Cohort, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Same-day visits: a yearly wellness rhythm plus Poisson-distributed problem visits whose
    rates rise with comorbidity. Returns (patient, start_s, kind)."""
    n = cohort.size
    everyone = np.arange(n)
    years = np.maximum((cohort.active_end_s - window.start_s) / YEAR, 0)
    burden = cohort.comorbidity_count(everyone, window.end_s)
    cardiopulmonary = (cohort.onset_s[CORONARY_ARTERIOSCLEROSIS] < NEVER) | (
        cohort.onset_s[CHRONIC_OBSTRUCTIVE_BRONCHITIS] < NEVER
    )

    grid_years = int(np.ceil((window.end_s - window.start_s) / YEAR))
    wellness_patient = np.repeat(everyone, grid_years)
    usual_day = rng.random(n) * YEAR
    wellness_s = (
        window.start_s
        + np.tile(np.arange(grid_years), n) * YEAR
        + usual_day[wellness_patient]
        + rng.normal(0, 20 * DAY, len(wellness_patient))
    )
    attended = rng.random(len(wellness_patient)) < 0.85

    rates = np.stack(
        [
            0.6 + 0.2 * burden,  # ambulatory
            0.1 + 0.4 * cardiopulmonary,  # outpatient
            np.full(n, 0.08),  # urgent care
            0.1 + 0.05 * burden + 0.1 * np.maximum(cohort.frailty, 0),  # emergency
        ],
        axis=1,
    )
    counts = rng.poisson(rates * years[:, None])
    visit_patient = np.repeat(np.repeat(everyone, 4), counts.ravel())
    visit_kind = np.repeat(np.tile([AMBULATORY, OUTPATIENT, URGENTCARE, EMERGENCY], n), counts.ravel())
    visit_s = window.start_s + rng.random(len(visit_patient)) * (cohort.active_end_s[visit_patient] - window.start_s)

    patient = np.concatenate([wellness_patient[attended], visit_patient])
    kind = np.concatenate([np.full(attended.sum(), WELLNESS), visit_kind])
    moment = np.concatenate([wellness_s[attended], visit_s]).astype(np.int64)
    return patient, moment, kind


def _visit_reasons(
    rng: np.random.Generator, cohort: Cohort, patient: np.ndarray, t: np.ndarray, kind: np.ndarray
) -> np.ndarray:
    """Reason (index into CONDITION_CODES, -1 none) per encounter, by class and known history."""
    column = {code: i + 1 for i, code in enumerate(CONDITION_CODES)}
    weights = np.zeros((len(patient), len(CONDITION_CODES) + 1))
    has = {c: cohort.has(c, patient, t) for c in CHRONIC_CONDITIONS}
    young = cohort.age_at(patient, t) < 50
    rules: dict[int, dict[str | None, np.ndarray | float]] = {
        WELLNESS: {None: 1.0},
        AMBULATORY: {
            None: 0.45,
            VIRAL_SINUSITIS: 0.18,
            ACUTE_BRONCHITIS: 0.1,
            STRESS: 0.05,
            **{c: 0.12 * has[c] for c in CHRONIC_CONDITIONS if c != OBESITY},
        },
        OUTPATIENT: {
            None: 0.3,
            CORONARY_ARTERIOSCLEROSIS: 1.0 * has[CORONARY_ARTERIOSCLEROSIS],
            CHRONIC_OBSTRUCTIVE_BRONCHITIS: 1.0 * has[CHRONIC_OBSTRUCTIVE_BRONCHITIS],
            HYPERTENSION: 0.2 * has[HYPERTENSION],
            DIABETES: 0.2 * has[DIABETES],
            CHRONIC_PAIN: 0.3 * has[CHRONIC_PAIN],
        },
        URGENTCARE: {None: 0.3, VIRAL_SINUSITIS: 0.35, ACUTE_BRONCHITIS: 0.3, CHRONIC_PAIN: 0.1 * has[CHRONIC_PAIN]},
        EMERGENCY: {
            None: 0.15,
            MYOCARDIAL_INFARCTION: 0.04 + 0.8 * has[CORONARY_ARTERIOSCLEROSIS],
            HYPOXEMIA: 0.08 + 0.8 * has[CHRONIC_OBSTRUCTIVE_BRONCHITIS],
            CARDIAC_ARREST: 0.02 + 0.05 * has[CORONARY_ARTERIOSCLEROSIS],
            DRUG_OVERDOSE: 0.05 + 0.25 * young,
            ACUTE_BRONCHITIS: 0.25,
            VIRAL_SINUSITIS: 0.1,
            CHRONIC_PAIN: 0.2 * has[CHRONIC_PAIN],
        },
        INPATIENT: {
            None: 0.2,
            MYOCARDIAL_INFARCTION: 0.1 + 1.2 * has[CORONARY_ARTERIOSCLEROSIS],
            HYPOXEMIA: 0.15 + 1.2 * has[CHRONIC_OBSTRUCTIVE_BRONCHITIS],
            CARDIAC_ARREST: 0.05 + 0.1 * has[CORONARY_ARTERIOSCLEROSIS],
            DRUG_OVERDOSE: 0.03 + 0.2 * young,
            ACUTE_BRONCHITIS: 0.15,
            HYPERTENSION: 0.3 * has[HYPERTENSION],
            DIABETES: 0.4 * has[DIABETES],
            CORONARY_ARTERIOSCLEROSIS: 0.6 * has[CORONARY_ARTERIOSCLEROSIS],
            CHRONIC_OBSTRUCTIVE_BRONCHITIS: 0.6 * has[CHRONIC_OBSTRUCTIVE_BRONCHITIS],
            ANEMIA: 0.3 * has[ANEMIA],
        },
    }
    for visit_kind, rule in rules.items():
        rows = kind == visit_kind
        for code, weight in rule.items():
            w = np.broadcast_to(weight, len(patient))
            weights[rows, 0 if code is None else column[code]] = w[rows]
    return categorical(rng, weights) - 1


def make_encounters(rng: np.random.Generator, cohort: Cohort, window: Window, sites: int) -> tuple[Encounters, Stays]:
    """Clinic, emergency and inpatient encounters at the patient's home site (mostly), never
    overlapping a hospital stay, all within the extract and before death."""
    stays = _inpatient_stays(rng, cohort, window)
    patient, start_s, kind = _clinic_visits(rng, cohort, window)
    clinic_hour = np.where(
        kind == EMERGENCY, rng.integers(0, 17 * HOUR, len(patient)), rng.integers(8 * HOUR, 17 * HOUR, len(patient))
    )
    start_s = day_start(start_s) + clinic_hour
    minutes = np.select(
        [kind == WELLNESS, kind == EMERGENCY, kind == AMBULATORY],
        [rng.integers(15, 46, len(patient)), rng.integers(60, 361, len(patient)), rng.integers(15, 61, len(patient))],
        rng.integers(30, 121, len(patient)),
    )
    stop_s = start_s + minutes * 60
    latest_stay = (
        np.searchsorted(patient_time(stays.patient, stays.start_s), patient_time(patient, start_s), side="right") - 1
    )
    in_hospital = latest_stay >= 0
    stay = latest_stay[in_hospital]
    in_hospital[in_hospital] = (stays.patient[stay] == patient[in_hospital]) & (
        stays.stop_s[stay] > start_s[in_hospital]
    )
    keep = (start_s >= window.start_s) & (stop_s < cohort.active_end_s[patient]) & ~in_hospital
    clinic_severity = np.where(
        kind == EMERGENCY, rng.normal(-0.3, 0.8, len(patient)), rng.normal(-1.5, 0.4, len(patient))
    )

    patient = np.concatenate([patient[keep], stays.patient])
    start_s = np.concatenate([start_s[keep], stays.start_s])
    order = np.lexsort((start_s, patient))
    patient, start_s = patient[order], start_s[order]
    stop_s = np.concatenate([stop_s[keep], stays.stop_s])[order]
    kind = np.concatenate([kind[keep], np.full(len(stays.patient), INPATIENT)])[order]
    severity = np.concatenate([clinic_severity[keep], stays.severity])[order]
    stay = np.concatenate([np.full(keep.sum(), -1), np.arange(len(stays.patient))])[order]

    away = (sites > 1) & (rng.random(len(patient)) < 0.1)
    organization = np.where(
        away, (cohort.site[patient] + rng.integers(1, max(sites, 2), len(patient))) % sites, cohort.site[patient]
    )
    band = np.array(CLASS_PROVIDER_BAND)[kind]
    first = np.array([b[1] for b in PROVIDER_BANDS])[band]
    width = np.array([b[2] for b in PROVIDER_BANDS])[band]
    provider = organization * PROVIDERS_PER_SITE + first + (rng.random(len(patient)) * width).astype(np.int64)
    return Encounters(
        patient=patient,
        start_s=start_s,
        stop_s=stop_s,
        kind=kind,
        severity=severity,
        stay=stay,
        organization=organization,
        provider=provider,
        reason=_visit_reasons(rng, cohort, patient, start_s, kind),
    ), stays
