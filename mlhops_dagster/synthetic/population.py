"""The synthetic population: per-patient attributes (demographics, hidden frailty, chronic
disease onsets) that every encounter and event is drawn from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlhops_dagster.synthetic.arrays import choice, sigmoid
from mlhops_dagster.synthetic.codes import (
    ANEMIA,
    CHRONIC_OBSTRUCTIVE_BRONCHITIS,
    CHRONIC_PAIN,
    CHRONIC_SINUSITIS,
    COMORBIDITIES,
    CORONARY_ARTERIOSCLEROSIS,
    DIABETES,
    HYPERLIPIDEMIA,
    HYPERTENSION,
    OBESITY,
    PREDIABETES,
)
from mlhops_dagster.synthetic.directory import RACE_SHARES, UNDER_65_PAYER_SHARES
from mlhops_dagster.synthetic.drift import DriftSpec
from mlhops_dagster.synthetic.timeline import DAY, NEVER, YEAR, Window


@dataclass(frozen=True)
class Cohort:
    """Per-patient attributes (arrays indexed by patient number) that drive every event."""

    birth_s: np.ndarray
    death_s: np.ndarray  # NEVER while alive
    active_end_s: np.ndarray  # events happen before this: death or the end of the extract
    male: np.ndarray
    race: np.ndarray
    hispanic: np.ndarray
    site: np.ndarray
    payer: np.ndarray
    frailty: np.ndarray  # hidden: raises morbidity and readmission risk, never recorded
    glycemic_control: np.ndarray  # hidden: how far a diabetic's HbA1c sits above target
    smoking: np.ndarray  # index into SMOKING_STATUSES
    height_cm: np.ndarray
    bmi: np.ndarray
    onset_s: dict[str, np.ndarray]  # chronic condition -> onset (NEVER when absent)

    @property
    def size(self) -> int:
        return len(self.birth_s)

    def age_at(self, patient: np.ndarray, t: np.ndarray | int) -> np.ndarray:
        return (t - self.birth_s[patient]) / YEAR

    def has(self, condition: str, patient: np.ndarray, t: np.ndarray | int) -> np.ndarray:
        return self.onset_s[condition][patient] <= t

    def comorbidity_count(self, patient: np.ndarray, t: np.ndarray | int) -> np.ndarray:
        """How many of the ``COMORBIDITIES`` each patient has at ``t``."""
        count = np.zeros(len(patient), dtype=np.int64)
        for condition in COMORBIDITIES:
            count += self.has(condition, patient, t)
        return count


def make_cohort(rng: np.random.Generator, n: int, sites: int, window: Window, drift: DriftSpec) -> Cohort:
    """Adults weighted to older ages (the readmission population), with correlated chronic
    disease whose prevalence rises with age, obesity, smoking and hidden frailty."""
    age = np.clip(drift.aged(18 + 80 * rng.beta(2.0, 1.6, n)), 18, 105)
    birth_s = window.start_s - (age * YEAR).astype(np.int64) - rng.integers(0, DAY, n)
    male = rng.random(n) < 0.48
    frailty = rng.standard_normal(n)
    smoking = choice(rng, n, (0.55, 0.28, 0.17))
    decades = (age - 60) / 10

    def prevalent(logit: np.ndarray) -> np.ndarray:
        p = np.minimum(drift.prevalence(sigmoid(logit)), 0.95)
        return rng.random(n) < p

    obese = prevalent(-0.9 + 0.1 * decades + 0.3 * frailty)
    hypertension = prevalent(-0.7 + 0.55 * decades + 0.5 * obese + 0.3 * frailty)
    hyperlipidemia = prevalent(-0.9 + 0.35 * decades + 0.3 * obese + 0.2 * frailty)
    diabetes = prevalent(-2.3 + 0.3 * decades + 1.0 * obese + 0.3 * frailty)
    prediabetes = ~diabetes & prevalent(-1.6 + 0.2 * decades + 0.6 * obese)
    coronary = prevalent(
        -3.3 + 0.6 * decades + 0.7 * hypertension + 0.5 * hyperlipidemia + 0.6 * diabetes + 0.3 * frailty
    )
    anemia = prevalent(-2.7 + 0.25 * decades + 0.4 * ~male + 0.4 * frailty)
    bronchitis = prevalent(-3.3 + 0.4 * decades + 1.6 * (smoking > 0) + 0.3 * frailty)
    pain = prevalent(-2.0 + 0.15 * decades + 0.3 * frailty)
    sinusitis = prevalent(np.full(n, -3.0))
    present = {
        OBESITY: obese,
        HYPERTENSION: hypertension,
        HYPERLIPIDEMIA: hyperlipidemia,
        DIABETES: diabetes,
        PREDIABETES: prediabetes,
        CORONARY_ARTERIOSCLEROSIS: coronary,
        ANEMIA: anemia,
        CHRONIC_OBSTRUCTIVE_BRONCHITIS: bronchitis,
        CHRONIC_PAIN: pain,
        CHRONIC_SINUSITIS: sinusitis,
    }
    # Three in four are known before the extract starts; the rest are diagnosed during it.
    span = window.end_s - window.start_s
    onset_s = {}
    for condition, flag in present.items():
        known = rng.random(n) < 0.75
        before = window.start_s - (rng.random(n) * np.minimum(age - 18, 10) * YEAR).astype(np.int64)
        during = window.start_s + (rng.random(n) * span).astype(np.int64)
        onset_s[condition] = np.where(flag, np.where(known, before, during), NEVER)

    burden = sum(present[c].astype(np.int64) for c in COMORBIDITIES)
    dies = rng.random(n) < sigmoid(-3.9 + 0.08 * (age - 65) + 0.2 * burden + 0.4 * frailty)
    death_s = np.where(dies, window.start_s + (rng.random(n) * span).astype(np.int64), NEVER)
    payer = np.where(age >= 65, np.where(rng.random(n) < 0.92, 0, 2), choice(rng, n, UNDER_65_PAYER_SHARES))
    return Cohort(
        birth_s=birth_s,
        death_s=death_s,
        active_end_s=np.minimum(death_s, window.end_s),
        male=male,
        race=choice(rng, n, RACE_SHARES),
        hispanic=rng.random(n) < 0.12,
        site=rng.integers(0, sites, n),
        payer=payer,
        frailty=frailty,
        glycemic_control=rng.standard_normal(n),
        smoking=smoking,
        height_cm=np.where(male, 176.0, 163.0) + rng.normal(0, 7, n),
        bmi=np.where(obese, 30 + rng.exponential(4.5, n), 18.5 + 11.4 * rng.beta(3, 2, n)),
        onset_s=onset_s,
    )
