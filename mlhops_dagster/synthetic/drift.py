"""Population drift for monitoring demos: how a later extract differs and where that is applied.

Age and comorbidity drift change the cohort itself (``population.make_cohort``), so outcomes
follow; lab drift changes only the recorded values (``events.measure``), so a model trained on
the reference degrades as it would after an assay recalibration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DriftSpec:
    """How a later extract's population differs from the reference; defaults mean no drift.

    ``lab_shift`` models a measurement change (assay recalibration): it moves recorded lab
    values but not the physiology driving outcomes, so a model degrades as it would in reality.
    """

    age_shift_years: float = 0.0
    lab_shift: float = 0.0
    comorbidity_multiplier: float = 1.0

    def __post_init__(self) -> None:
        if self.lab_shift <= -1.0:
            raise ValueError("lab_shift must be greater than -1 (values stay positive)")
        if self.comorbidity_multiplier <= 0.0:
            raise ValueError("comorbidity_multiplier must be positive")

    def aged(self, age_years: np.ndarray) -> np.ndarray:
        """Ages of the drifted population: everyone ``age_shift_years`` older."""
        return age_years + self.age_shift_years

    def prevalence(self, probability: np.ndarray) -> np.ndarray:
        """Chance of a chronic disease in the drifted population (``comorbidity_multiplier`` times)."""
        return probability * self.comorbidity_multiplier

    def recorded_lab(self, values: np.ndarray) -> np.ndarray:
        """Lab values as the (recalibrated) assay reports them; the physiology is unchanged."""
        return values * (1 + self.lab_shift)


DRIFT_PRESETS: dict[str, DriftSpec] = {
    "none": DriftSpec(),
    "aging": DriftSpec(age_shift_years=10.0, lab_shift=0.15, comorbidity_multiplier=1.5),
    "lab_recalibration": DriftSpec(lab_shift=0.15),
}
