"""Plausible value ranges of the vitals and labs: one table for the checks, the data elements and the generator.

``plausibleValueLow/High`` checks of a measurement concept (and unit) read these limits, the
ML-DQA data elements set values outside them to NULL, and the synthetic generator keeps its
clean values inside them (and its ``implausible_vitals`` defect outside).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValueRange:
    concept_id: int
    unit_concept_id: int | None  # None: any unit (the demo vocabulary lacks some UCUM units)
    low: float
    high: float
    label: str
    source: str


_DQD_2021 = "DQD Concept_Level (2021 release, per unit)"
_LAB = "project default: wide survivable limits around critical values (Tietz Clinical Chemistry)"
VALUE_RANGES: tuple[ValueRange, ...] = (
    ValueRange(3027018, 8541, 10, 500, "heart_rate", _DQD_2021),
    ValueRange(3025315, 9529, 2, 500, "body_weight", _DQD_2021),
    ValueRange(3036277, 8582, 20, 250, "body_height", _DQD_2021),
    ValueRange(3020891, None, 34, 45, "body_temperature", _DQD_2021 + " (degC; unit unmapped in the demo)"),
    ValueRange(3004249, 8876, 10, 250, "systolic_bp", _DQD_2021),
    ValueRange(3012888, 8876, 30, 200, "diastolic_bp", _DQD_2021),
    ValueRange(3038553, 9531, 16, 100, "bmi", _DQD_2021),
    ValueRange(3024171, 8541, 2, 80, "respiratory_rate", _LAB),
    ValueRange(43055141, None, 0, 10, "pain_score", "scale definition (0-10 numeric rating)"),
    ValueRange(3000285, 8753, 90, 200, "sodium", _LAB),
    ValueRange(3005456, 8753, 1, 10, "potassium", _LAB),
    ValueRange(3018572, 8753, 50, 150, "chloride", _LAB),
    ValueRange(3014094, 8753, 2, 60, "carbon_dioxide", _LAB),
    ValueRange(3000483, 8840, 10, 2000, "glucose", _LAB),
    ValueRange(3004295, 8840, 1, 300, "urea_nitrogen", _LAB),
    ValueRange(3051825, 8840, 0.1, 30, "creatinine", _LAB),
    ValueRange(3032503, 8840, 2, 20, "calcium", _LAB),
    ValueRange(3000963, 8713, 2, 25, "hemoglobin", _LAB),
    ValueRange(3004410, 8554, 2, 25, "hba1c", _LAB),
    ValueRange(3000905, None, 0.1, 500, "leukocytes", _LAB + " (10*3/uL)"),
    ValueRange(3024929, None, 1, 2000, "platelets", _LAB + " (10*3/uL)"),
    ValueRange(3027114, 8840, 30, 1000, "cholesterol_total", _LAB),
    ValueRange(3007070, 8840, 5, 200, "cholesterol_hdl", _LAB),
    ValueRange(3009966, 8840, 5, 700, "cholesterol_ldl", _LAB),
    ValueRange(3022192, 8840, 10, 10000, "triglycerides", _LAB),
)
VALUE_RANGE_THRESHOLD = 1.0
