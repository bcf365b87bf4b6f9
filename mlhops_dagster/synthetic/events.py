"""Clinical events recorded at encounters: diagnoses, prescriptions, procedures, vaccinations
and measurements (vitals, smoking status, lab panels), each rule one vectorised block."""

from __future__ import annotations

import numpy as np

from mlhops_dagster.synthetic.arrays import choice, starts_run
from mlhops_dagster.synthetic.codes import (
    ACETAMINOPHEN,
    ACUTE_BRONCHITIS,
    AMOXICILLIN_CLAVULANATE,
    BLOOD_COUNT,
    CHEST_X_RAY,
    CHRONIC_CONDITIONS,
    CHRONIC_OBSTRUCTIVE_BRONCHITIS,
    CONDITION_CODES,
    CORONARY_ARTERIOSCLEROSIS,
    CORONARY_ARTERY_BYPASS,
    DEPRESSION_SCREENING,
    DIABETES,
    ECHOCARDIOGRAPHY,
    EMERGENCY,
    ENOXAPARIN,
    EPISODE_DAYS,
    FULL_TIME_EMPLOYMENT,
    HBA1C,
    HYPERLIPIDEMIA,
    IMMUNIZATION_CODES,
    INPATIENT,
    LABS,
    LIPID_PANEL,
    LONG_TERM_DRUGS,
    MEDICATION_CODES,
    MEDICATION_RECONCILIATION,
    METABOLIC_PANEL,
    MYOCARDIAL_INFARCTION,
    OBSERVATION_CODES,
    OUTPATIENT,
    PERCUTANEOUS_CORONARY_INTERVENTION,
    PHYSICAL_EXAMINATION,
    PREDIABETES,
    PROCEDURE_CODES,
    PROCEDURES,
    SMOKING_STATUS,
    SPIROMETRY,
    VIRAL_SINUSITIS,
    WELLNESS,
)
from mlhops_dagster.synthetic.drift import DriftSpec
from mlhops_dagster.synthetic.encounters import Encounters, Stays
from mlhops_dagster.synthetic.physiology import lab_values, vital_values
from mlhops_dagster.synthetic.population import Cohort
from mlhops_dagster.synthetic.timeline import DAY, HOUR, NEVER, Window, patient_time


class Events:
    """Column-wise accumulator: each clinical rule adds one vectorised block of events."""

    def __init__(self, *fields: str) -> None:
        self._blocks: dict[str, list[np.ndarray]] = {field: [] for field in fields}

    def add(self, encounter: np.ndarray, **columns: np.ndarray | float) -> None:
        columns["encounter"] = encounter
        n = len(encounter)
        for field, blocks in self._blocks.items():
            blocks.append(np.broadcast_to(columns[field], n))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self._blocks)

    def __getitem__(self, field: str) -> np.ndarray:
        return np.concatenate(self._blocks[field])


def _within(encounters: Encounters, rows: np.ndarray, rng: np.random.Generator, latest_hours: float) -> np.ndarray:
    """A moment inside each encounter, at most ``latest_hours`` after it starts."""
    start = encounters.start_s[rows]
    latest = np.minimum(encounters.stop_s[rows], start + int(latest_hours * HOUR))
    return start + (rng.random(len(rows)) * (latest - start)).astype(np.int64)


def diagnose(
    rng: np.random.Generator, cohort: Cohort, encounters: Encounters, window: Window
) -> tuple[Events, dict[str, np.ndarray]]:
    """Condition rows, and per chronic condition the encounter that first recorded it per
    patient (-1 if never) so treatment can start there."""
    events = Events("encounter", "start_s", "stop_s", "code")
    key = encounters.key()
    diagnosed_at: dict[str, np.ndarray] = {}
    for code in CHRONIC_CONDITIONS:
        patient = np.flatnonzero(cohort.onset_s[code] < NEVER)
        seen = np.maximum(cohort.onset_s[code][patient], window.start_s)
        visit = np.searchsorted(key, patient_time(patient, seen))
        found = visit < len(encounters)
        found[found] = encounters.patient[visit[found]] == patient[found]
        diagnosed_at[code] = np.full(cohort.size, -1)
        diagnosed_at[code][patient[found]] = visit[found]
        visit = visit[found]
        events.add(encounter=visit, start_s=encounters.start_s[visit], stop_s=-1, code=CONDITION_CODES.index(code))

    # Employment is a social finding recorded at the first wellness visit of working-age adults.
    wellness = np.flatnonzero(encounters.kind == WELLNESS)
    first = wellness[starts_run(encounters.patient[wellness])]
    employed = first[
        (cohort.age_at(encounters.patient[first], encounters.start_s[first]) < 65) & (rng.random(len(first)) < 0.55)
    ]
    events.add(
        encounter=employed,
        start_s=encounters.start_s[employed],
        stop_s=-1,
        code=CONDITION_CODES.index(FULL_TIME_EMPLOYMENT),
    )

    for code, (shortest, longest) in EPISODE_DAYS.items():
        visit = np.flatnonzero(encounters.reason == CONDITION_CODES.index(code))
        lasts = rng.integers(shortest, longest + 1, len(visit)) * DAY
        resolved = np.minimum(encounters.stop_s[visit] + lasts, cohort.active_end_s[encounters.patient[visit]] - 1)
        events.add(
            encounter=visit, start_s=encounters.start_s[visit], stop_s=resolved, code=CONDITION_CODES.index(code)
        )
    return events, diagnosed_at


def prescribe(
    rng: np.random.Generator,
    cohort: Cohort,
    encounters: Encounters,
    diagnosed_at: dict[str, np.ndarray],
    window: Window,
) -> Events:
    """Long-term drugs started at diagnosis (stopped at death), enoxaparin during stays and
    short antibiotic / analgesic courses for acute respiratory infections."""
    events = Events("encounter", "start_s", "stop_s", "code", "reason")
    for condition, rules in LONG_TERM_DRUGS.items():
        patient = np.flatnonzero(diagnosed_at[condition] >= 0)
        visit = diagnosed_at[condition][patient]
        for drugs, shares in rules:
            pick = choice(rng, len(patient), (*shares, 1 - sum(shares)))
            for option, drug in enumerate(drugs):
                chosen = visit[pick == option]
                death_s = cohort.death_s[encounters.patient[chosen]]
                events.add(
                    encounter=chosen,
                    start_s=encounters.start_s[chosen],
                    stop_s=np.where(death_s < NEVER, death_s, -1),
                    code=MEDICATION_CODES.index(drug),
                    reason=CONDITION_CODES.index(condition),
                )

    stays = np.flatnonzero((encounters.kind == INPATIENT) & (rng.random(len(encounters)) < 0.6))
    events.add(
        encounter=stays,
        start_s=encounters.start_s[stays] + 2 * HOUR,
        stop_s=encounters.stop_s[stays],
        code=MEDICATION_CODES.index(ENOXAPARIN),
        reason=encounters.reason[stays],
    )

    for infection, drug, share, days in (
        (VIRAL_SINUSITIS, AMOXICILLIN_CLAVULANATE, 0.5, 10),
        (ACUTE_BRONCHITIS, AMOXICILLIN_CLAVULANATE, 0.4, 10),
        (ACUTE_BRONCHITIS, ACETAMINOPHEN, 0.5, 7),
    ):
        visit = np.flatnonzero(
            (encounters.reason == CONDITION_CODES.index(infection)) & (rng.random(len(encounters)) < share)
        )
        end_s = np.minimum(encounters.start_s[visit] + days * DAY, cohort.active_end_s[encounters.patient[visit]] - 1)
        events.add(
            encounter=visit,
            start_s=encounters.start_s[visit],
            stop_s=end_s,
            code=MEDICATION_CODES.index(drug),
            reason=CONDITION_CODES.index(infection),
        )
    return events


def perform_procedures(rng: np.random.Generator, cohort: Cohort, encounters: Encounters) -> Events:
    """Procedures where they belong: examinations at wellness visits, imaging and coronary
    revascularisation around cardiac events, spirometry for obstructive bronchitis, and
    medication reconciliation just before every discharge."""
    events = Events("encounter", "start_s", "stop_s", "code", "reason")
    kind, reason = encounters.kind, encounters.reason
    n = len(encounters)
    coronary = cohort.has(CORONARY_ARTERIOSCLEROSIS, encounters.patient, encounters.start_s)
    bronchitis = cohort.has(CHRONIC_OBSTRUCTIVE_BRONCHITIS, encounters.patient, encounters.start_s)
    infarction = reason == CONDITION_CODES.index(MYOCARDIAL_INFARCTION)
    chance = rng.random((6, n))
    rules = (
        (PHYSICAL_EXAMINATION, (kind == WELLNESS) & (chance[0] < 0.9), -1),
        (DEPRESSION_SCREENING, (kind == WELLNESS) & (chance[1] < 0.4), -1),
        (CHEST_X_RAY, np.isin(kind, (EMERGENCY, INPATIENT)) & (chance[2] < 0.4), reason),
        (
            ECHOCARDIOGRAPHY,
            (((kind == INPATIENT) & (coronary | infarction)) | ((kind == OUTPATIENT) & coronary)) & (chance[3] < 0.6),
            CONDITION_CODES.index(CORONARY_ARTERIOSCLEROSIS),
        ),
        (PERCUTANEOUS_CORONARY_INTERVENTION, (kind == INPATIENT) & infarction & (chance[4] < 0.5), reason),
        (
            CORONARY_ARTERY_BYPASS,
            (kind == INPATIENT) & coronary & (chance[5] < 0.05),
            CONDITION_CODES.index(CORONARY_ARTERIOSCLEROSIS),
        ),
        (
            SPIROMETRY,
            (kind == OUTPATIENT) & bronchitis & (chance[0] < 0.7),
            CONDITION_CODES.index(CHRONIC_OBSTRUCTIVE_BRONCHITIS),
        ),
    )
    for code, selected, why in rules:
        visit = np.flatnonzero(selected)
        duration = PROCEDURES[code][2] * 60
        begins = np.minimum(_within(encounters, visit, rng, latest_hours=6), encounters.stop_s[visit] - duration)
        begins = np.maximum(begins, encounters.start_s[visit])
        events.add(
            encounter=visit,
            start_s=begins,
            stop_s=np.minimum(begins + duration, encounters.stop_s[visit]),
            code=PROCEDURE_CODES.index(code),
            reason=np.broadcast_to(why, n)[visit],
        )
    discharges = np.flatnonzero(kind == INPATIENT)
    events.add(
        encounter=discharges,
        start_s=encounters.stop_s[discharges] - HOUR,
        stop_s=encounters.stop_s[discharges] - HOUR // 2,
        code=PROCEDURE_CODES.index(MEDICATION_RECONCILIATION),
        reason=reason[discharges],
    )
    return events


def vaccinate(rng: np.random.Generator, cohort: Cohort, encounters: Encounters) -> Events:
    """Seasonal influenza at about half of wellness visits; pneumococcal for some over-65s."""
    events = Events("encounter", "date_s", "code")
    wellness = np.flatnonzero(encounters.kind == WELLNESS)
    senior = cohort.age_at(encounters.patient[wellness], encounters.start_s[wellness]) >= 65
    chance = rng.random((2, len(wellness)))
    for code, selected in (("140", chance[0] < 0.55), ("133", senior & (chance[1] < 0.08))):
        visit = wellness[selected]
        events.add(encounter=visit, date_s=encounters.start_s[visit], code=IMMUNIZATION_CODES.index(code))
    return events


def measure(rng: np.random.Generator, cohort: Cohort, encounters: Encounters, stays: Stays, drift: DriftSpec) -> Events:
    """Vitals at every wellness, emergency and inpatient encounter; smoking status at wellness;
    lab panels where clinically plausible. Inpatient labs are the values the readmission
    model saw, so the signal in the extract is exactly the one that drove the outcome."""
    events = Events("encounter", "date_s", "code", "value")
    kind, n = encounters.kind, len(encounters)

    vitals_at = np.flatnonzero(np.isin(kind, (WELLNESS, EMERGENCY, INPATIENT)))
    vitals = vital_values(
        rng, cohort, encounters.patient[vitals_at], encounters.start_s[vitals_at], encounters.severity[vitals_at]
    )
    for code, values in vitals.items():
        events.add(
            encounter=vitals_at, date_s=encounters.start_s[vitals_at], code=OBSERVATION_CODES.index(code), value=values
        )
    wellness = np.flatnonzero(kind == WELLNESS)
    events.add(
        encounter=wellness,
        date_s=encounters.start_s[wellness],
        code=OBSERVATION_CODES.index(SMOKING_STATUS),
        value=cohort.smoking[encounters.patient[wellness]],
    )

    glycemic = cohort.has(DIABETES, encounters.patient, encounters.start_s) | cohort.has(
        PREDIABETES, encounters.patient, encounters.start_s
    )
    lipid_disorder = cohort.has(HYPERLIPIDEMIA, encounters.patient, encounters.start_s)
    diabetes_visit = encounters.reason == CONDITION_CODES.index(DIABETES)
    chance = rng.random((4, n))
    inpatient, emergency, well = kind == INPATIENT, kind == EMERGENCY, kind == WELLNESS
    panels = (
        (METABOLIC_PANEL, inpatient | (emergency & (chance[0] < 0.6)) | (well & (chance[0] < 0.35))),
        (BLOOD_COUNT, inpatient | (emergency & (chance[0] < 0.6)) | (well & (chance[1] < 0.3))),
        (LIPID_PANEL, ((inpatient | well) & (chance[2] < 0.25 + 0.5 * lipid_disorder))),
        (
            (HBA1C,),
            (inpatient & (glycemic | (chance[3] < 0.3))) | (well & glycemic & (chance[3] < 0.7)) | diabetes_visit,
        ),
    )
    tested = np.flatnonzero(np.logical_or.reduce([selected for _, selected in panels]))
    drawn_s = _within(encounters, tested, rng, latest_hours=6)
    labs = lab_values(rng, cohort, encounters.patient[tested], drawn_s, encounters.severity[tested])
    stay = encounters.stay[tested]
    admitted = stay >= 0
    for code in LABS:
        labs[code][admitted] = stays.labs[code][stay[admitted]]
    position = np.full(n, -1)
    position[tested] = np.arange(len(tested))
    for codes, selected in panels:
        rows = position[np.flatnonzero(selected)]
        for code in codes:
            events.add(
                encounter=tested[rows],
                date_s=drawn_s[rows],
                code=OBSERVATION_CODES.index(code),
                value=drift.recorded_lab(labs[code][rows]),
            )
    return events
