"""Physiology: true lab and vital-sign values of patients at a moment, set by their chronic
disease and pushed away from baseline by the acute severity of the visit."""

from __future__ import annotations

import numpy as np

from mlhops_dagster.synthetic.codes import (
    ANEMIA,
    CHRONIC_OBSTRUCTIVE_BRONCHITIS,
    CHRONIC_PAIN,
    CORONARY_ARTERIOSCLEROSIS,
    CREATININE,
    DIABETES,
    HBA1C,
    HEMOGLOBIN,
    HYPERLIPIDEMIA,
    HYPERTENSION,
    OBESITY,
    PREDIABETES,
)
from mlhops_dagster.synthetic.population import Cohort


def lab_values(
    rng: np.random.Generator, cohort: Cohort, patient: np.ndarray, t: np.ndarray, severity: np.ndarray
) -> dict[str, np.ndarray]:
    """True lab values: chronic disease sets the baseline, acute severity pushes it away."""
    n = len(patient)
    male = cohort.male[patient]
    age = cohort.age_at(patient, t)
    acute = np.maximum(severity, 0)
    diabetes = cohort.has(DIABETES, patient, t)
    prediabetes = cohort.has(PREDIABETES, patient, t)
    hyperlipidemia = cohort.has(HYPERLIPIDEMIA, patient, t)
    obese = cohort.has(OBESITY, patient, t)
    anemia = cohort.has(ANEMIA, patient, t)
    frailty = cohort.frailty[patient]

    creatinine = (
        np.where(male, 0.95, 0.75)
        * np.exp(0.006 * (age - 50))
        * (
            1
            + 0.25 * diabetes
            + 0.15 * cohort.has(HYPERTENSION, patient, t)
            + 0.2 * cohort.has(CORONARY_ARTERIOSCLEROSIS, patient, t)
        )
        * np.exp(0.12 * frailty + 0.2 * acute + rng.normal(0, 0.08, n))
    )
    hba1c = 5.3 + 0.9 * prediabetes + (2.2 + 0.9 * cohort.glycemic_control[patient]) * diabetes + rng.normal(0, 0.25, n)
    cholesterol = 185 + 40 * hyperlipidemia + rng.normal(0, 25, n)
    return {
        "2339-0": np.maximum(28.7 * hba1c - 46.7 + 15 * acute + rng.normal(0, 12, n), 45),
        "6299-2": np.maximum(7 + 9 * creatinine + 4 * acute + rng.normal(0, 3, n), 3),
        CREATININE: np.maximum(creatinine, 0.3),
        "49765-1": 9.4 + rng.normal(0, 0.35, n),
        "2947-0": 140 - 1.5 * acute + rng.normal(0, 2.2, n),
        "6298-4": 4.2 + 0.3 * (creatinine - 1) + rng.normal(0, 0.35, n),
        "2069-3": 103 + rng.normal(0, 2.5, n),
        "20565-8": 25 - acute + rng.normal(0, 2, n),
        HEMOGLOBIN: np.maximum(
            np.where(male, 14.8, 13.2)
            - 2.8 * anemia
            - 0.015 * (age - 50)
            - 0.6 * acute
            - 0.3 * frailty
            + rng.normal(0, 0.6, n),
            5,
        ),
        "6690-2": np.maximum(7.0 + 2.5 * acute + rng.normal(0, 1.5, n), 2),
        "777-3": np.maximum(250 - 20 * anemia + rng.normal(0, 55, n), 40),
        "2093-3": cholesterol,
        "2571-8": 120 * np.exp(0.3 * hyperlipidemia + 0.2 * obese + rng.normal(0, 0.35, n)),
        "18262-6": np.maximum(0.62 * cholesterol - 10 + rng.normal(0, 10, n), 30),
        "2085-9": np.maximum(54 - 6 * male - 4 * obese + rng.normal(0, 10, n), 20),
        HBA1C: hba1c,
    }


def vital_values(
    rng: np.random.Generator, cohort: Cohort, patient: np.ndarray, t: np.ndarray, severity: np.ndarray
) -> dict[str, np.ndarray]:
    """Vital signs of one encounter; BMI and weight follow the patient's recorded obesity."""
    n = len(patient)
    age = cohort.age_at(patient, t)
    acute = np.maximum(severity, 0)
    bronchitis = cohort.has(CHRONIC_OBSTRUCTIVE_BRONCHITIS, patient, t)
    systolic = 118 + 0.35 * (age - 50) + 16 * cohort.has(HYPERTENSION, patient, t) + 5 * severity + rng.normal(0, 11, n)
    height = cohort.height_cm[patient] + rng.normal(0, 0.4, n)
    weight = cohort.bmi[patient] * (cohort.height_cm[patient] / 100) ** 2 * (1 + rng.normal(0, 0.015, n))
    return {
        "8480-6": np.clip(systolic, 80, 220),
        "8462-4": np.clip(0.5 * systolic + 18 + rng.normal(0, 6, n), 45, 130),
        "8867-4": np.clip(74 + 8 * acute + 3 * bronchitis + rng.normal(0, 9, n), 40, 160),
        "9279-1": np.clip(15 + 2 * acute + 2 * bronchitis + rng.normal(0, 1.5, n), 10, 35),
        "29463-7": weight,
        "8302-2": height,
        "39156-5": weight / (height / 100) ** 2,
        "8310-5": 36.9 + 0.5 * acute + rng.normal(0, 0.25, n),
        "72514-3": np.clip(
            np.round(1 + 4 * cohort.has(CHRONIC_PAIN, patient, t) + 1.5 * acute + rng.normal(0, 1.5, n)), 0, 10
        ),
    }
