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
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mlhops_dagster.ehr.contract import SUCCESS_MARKER

# --------------------------------------------------------------------------------------------
# The exporter contract: Synthea 3.3 columns, in header order, per file written.
# --------------------------------------------------------------------------------------------

HEADERS: dict[str, tuple[str, ...]] = {
    "patients": (
        "Id",
        "BIRTHDATE",
        "DEATHDATE",
        "SSN",
        "DRIVERS",
        "PASSPORT",
        "PREFIX",
        "FIRST",
        "MIDDLE",
        "LAST",
        "SUFFIX",
        "MAIDEN",
        "MARITAL",
        "RACE",
        "ETHNICITY",
        "GENDER",
        "BIRTHPLACE",
        "ADDRESS",
        "CITY",
        "STATE",
        "COUNTY",
        "FIPS",
        "ZIP",
        "LAT",
        "LON",
        "HEALTHCARE_EXPENSES",
        "HEALTHCARE_COVERAGE",
        "INCOME",
    ),
    "encounters": (
        "Id",
        "START",
        "STOP",
        "PATIENT",
        "ORGANIZATION",
        "PROVIDER",
        "PAYER",
        "ENCOUNTERCLASS",
        "CODE",
        "DESCRIPTION",
        "BASE_ENCOUNTER_COST",
        "TOTAL_CLAIM_COST",
        "PAYER_COVERAGE",
        "REASONCODE",
        "REASONDESCRIPTION",
    ),
    "conditions": ("START", "STOP", "PATIENT", "ENCOUNTER", "SYSTEM", "CODE", "DESCRIPTION"),
    "medications": (
        "START",
        "STOP",
        "PATIENT",
        "PAYER",
        "ENCOUNTER",
        "CODE",
        "DESCRIPTION",
        "BASE_COST",
        "PAYER_COVERAGE",
        "DISPENSES",
        "TOTALCOST",
        "REASONCODE",
        "REASONDESCRIPTION",
    ),
    "observations": (
        "DATE",
        "PATIENT",
        "ENCOUNTER",
        "CATEGORY",
        "CODE",
        "DESCRIPTION",
        "VALUE",
        "UNITS",
        "TYPE",
    ),
    "procedures": (
        "START",
        "STOP",
        "PATIENT",
        "ENCOUNTER",
        "SYSTEM",
        "CODE",
        "DESCRIPTION",
        "BASE_COST",
        "REASONCODE",
        "REASONDESCRIPTION",
    ),
    "immunizations": ("DATE", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION", "BASE_COST"),
    "allergies": (
        "START",
        "STOP",
        "PATIENT",
        "ENCOUNTER",
        "CODE",
        "SYSTEM",
        "DESCRIPTION",
        "TYPE",
        "CATEGORY",
        "REACTION1",
        "DESCRIPTION1",
        "SEVERITY1",
        "REACTION2",
        "DESCRIPTION2",
        "SEVERITY2",
    ),
    "devices": ("START", "STOP", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION", "UDI"),
    "organizations": (
        "Id",
        "NAME",
        "ADDRESS",
        "CITY",
        "STATE",
        "ZIP",
        "LAT",
        "LON",
        "PHONE",
        "REVENUE",
        "UTILIZATION",
        "NPI",
    ),
    "providers": (
        "Id",
        "ORGANIZATION",
        "NAME",
        "GENDER",
        "SPECIALITY",
        "ADDRESS",
        "CITY",
        "STATE",
        "ZIP",
        "LAT",
        "LON",
        "ENCOUNTERS",
        "PROCEDURES",
        "NPI",
    ),
    "payers": (
        "Id",
        "NAME",
        "OWNERSHIP",
        "ADDRESS",
        "CITY",
        "STATE_HEADQUARTERED",
        "ZIP",
        "PHONE",
        "AMOUNT_COVERED",
        "AMOUNT_UNCOVERED",
        "REVENUE",
        "COVERED_ENCOUNTERS",
        "UNCOVERED_ENCOUNTERS",
        "COVERED_MEDICATIONS",
        "UNCOVERED_MEDICATIONS",
        "COVERED_PROCEDURES",
        "UNCOVERED_PROCEDURES",
        "COVERED_IMMUNIZATIONS",
        "UNCOVERED_IMMUNIZATIONS",
        "UNIQUE_CUSTOMERS",
        "QOLS_AVG",
        "MEMBER_MONTHS",
    ),
    "payer_transitions": (
        "PATIENT",
        "MEMBERID",
        "START_DATE",
        "END_DATE",
        "PAYER",
        "SECONDARY_PAYER",
        "PLAN_OWNERSHIP",
        "OWNER_NAME",
    ),
}

# --------------------------------------------------------------------------------------------
# Demo vocabulary: the only condition, drug, observation and procedure codes emitted (outside
# defect injection), so the demo's OMOP mapping is complete. Descriptions are the real ones.
# --------------------------------------------------------------------------------------------

SNOMED = "SNOMED-CT"

HYPERTENSION = "59621000"
DIABETES = "44054006"
PREDIABETES = "15777000"
ANEMIA = "271737000"
HYPERLIPIDEMIA = "55822004"
MYOCARDIAL_INFARCTION = "22298006"
CORONARY_ARTERIOSCLEROSIS = "53741008"
CARDIAC_ARREST = "410429000"
HYPOXEMIA = "389087006"
CHRONIC_OBSTRUCTIVE_BRONCHITIS = "185086009"
CHRONIC_SINUSITIS = "40055000"
VIRAL_SINUSITIS = "444814009"
ACUTE_BRONCHITIS = "10509002"
DRUG_OVERDOSE = "55680006"
CHRONIC_PAIN = "82423001"
STRESS = "73595000"
OBESITY = "162864005"
FULL_TIME_EMPLOYMENT = "160903007"

CONDITIONS: dict[str, str] = {
    HYPERTENSION: "Essential hypertension (disorder)",
    DIABETES: "Diabetes mellitus type 2 (disorder)",
    PREDIABETES: "Prediabetes (finding)",
    ANEMIA: "Anemia (disorder)",
    HYPERLIPIDEMIA: "Hyperlipidemia (disorder)",
    MYOCARDIAL_INFARCTION: "Myocardial infarction (disorder)",
    CORONARY_ARTERIOSCLEROSIS: "Coronary arteriosclerosis (disorder)",
    CARDIAC_ARREST: "Cardiac arrest (disorder)",
    HYPOXEMIA: "Hypoxemia (disorder)",
    CHRONIC_OBSTRUCTIVE_BRONCHITIS: "Chronic obstructive bronchitis (disorder)",
    CHRONIC_SINUSITIS: "Chronic sinusitis (disorder)",
    VIRAL_SINUSITIS: "Viral sinusitis (disorder)",
    ACUTE_BRONCHITIS: "Acute bronchitis (disorder)",
    DRUG_OVERDOSE: "Drug overdose",
    CHRONIC_PAIN: "Chronic pain (finding)",
    STRESS: "Stress (finding)",
    OBESITY: "Body mass index 30+ - obesity (finding)",
    FULL_TIME_EMPLOYMENT: "Full-time employment (finding)",
}
CONDITION_CODES = tuple(CONDITIONS)

CHRONIC_CONDITIONS = (
    OBESITY,
    HYPERTENSION,
    HYPERLIPIDEMIA,
    DIABETES,
    PREDIABETES,
    CORONARY_ARTERIOSCLEROSIS,
    ANEMIA,
    CHRONIC_OBSTRUCTIVE_BRONCHITIS,
    CHRONIC_PAIN,
    CHRONIC_SINUSITIS,
)
"""Long-term problems: recorded once at diagnosis, never stopped."""

COMORBIDITIES = (
    OBESITY,
    HYPERTENSION,
    HYPERLIPIDEMIA,
    DIABETES,
    CORONARY_ARTERIOSCLEROSIS,
    ANEMIA,
    CHRONIC_OBSTRUCTIVE_BRONCHITIS,
    CHRONIC_PAIN,
)
"""The chronic diseases counted as comorbidity burden (drives admissions and readmission)."""

EPISODE_DAYS: dict[str, tuple[int, int]] = {
    VIRAL_SINUSITIS: (7, 21),
    ACUTE_BRONCHITIS: (7, 21),
    STRESS: (30, 180),
    MYOCARDIAL_INFARCTION: (0, 0),
    CARDIAC_ARREST: (0, 0),
    HYPOXEMIA: (0, 0),
    DRUG_OVERDOSE: (0, 0),
}
"""Acute conditions recorded at the visit they cause: days they last after that visit ends."""

LISINOPRIL = "314076"
HYDROCHLOROTHIAZIDE = "310798"
AMLODIPINE_2_5 = "308136"
AMLODIPINE_5 = "197361"
SIMVASTATIN_10 = "314231"
SIMVASTATIN_20 = "312961"
ATORVASTATIN_80 = "259255"
CLOPIDOGREL = "309362"
NITROGLYCERIN = "705129"
ALBUTEROL = "2123111"
FLUTICASONE = "895994"
ACETAMINOPHEN = "313782"
FERROUS_SULFATE = "310325"
ENOXAPARIN = "854235"
AMOXICILLIN_CLAVULANATE = "562251"

MEDICATIONS: dict[str, tuple[str, float]] = {
    LISINOPRIL: ("lisinopril 10 MG Oral Tablet", 11.34),
    HYDROCHLOROTHIAZIDE: ("Hydrochlorothiazide 25 MG Oral Tablet", 7.12),
    AMLODIPINE_2_5: ("amLODIPine 2.5 MG Oral Tablet", 9.48),
    AMLODIPINE_5: ("amLODIPine 5 MG Oral Tablet", 10.21),
    SIMVASTATIN_10: ("Simvastatin 10 MG Oral Tablet", 8.64),
    SIMVASTATIN_20: ("Simvastatin 20 MG Oral Tablet", 9.35),
    ATORVASTATIN_80: ("Atorvastatin 80 MG Oral Tablet", 12.87),
    CLOPIDOGREL: ("Clopidogrel 75 MG Oral Tablet", 15.40),
    NITROGLYCERIN: ("Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray", 98.53),
    ALBUTEROL: ("NDA020503 200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", 41.20),
    FLUTICASONE: ("120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler", 180.76),
    ACETAMINOPHEN: ("Acetaminophen 325 MG Oral Tablet", 5.27),
    FERROUS_SULFATE: ("ferrous sulfate 325 MG Oral Tablet", 4.81),
    ENOXAPARIN: ("0.4 ML Enoxaparin sodium 100 MG/ML Prefilled Syringe", 88.94),
    AMOXICILLIN_CLAVULANATE: ("Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet", 14.62),
}
MEDICATION_CODES = tuple(MEDICATIONS)

LONG_TERM_DRUGS: dict[str, tuple[tuple[tuple[str, ...], tuple[float, ...]], ...]] = {
    HYPERTENSION: (
        ((LISINOPRIL,), (0.8,)),
        ((HYDROCHLOROTHIAZIDE,), (0.4,)),
        ((AMLODIPINE_2_5, AMLODIPINE_5), (0.15, 0.15)),
    ),
    HYPERLIPIDEMIA: (((SIMVASTATIN_10, SIMVASTATIN_20, ATORVASTATIN_80), (0.3, 0.35, 0.25)),),
    CORONARY_ARTERIOSCLEROSIS: (((CLOPIDOGREL,), (0.8,)), ((NITROGLYCERIN,), (0.6,))),
    ANEMIA: (((FERROUS_SULFATE,), (0.8,)),),
    CHRONIC_OBSTRUCTIVE_BRONCHITIS: (((ALBUTEROL,), (0.9,)), ((FLUTICASONE,), (0.6,))),
    CHRONIC_PAIN: (((ACETAMINOPHEN,), (0.7,)),),
}
"""Per chronic condition: prescribing rules, each a set of alternative drugs and their shares
(one of them at most is started at diagnosis; shares summing below 1 leave some untreated)."""

VITAL_SIGNS = ("8480-6", "8462-4", "8867-4", "9279-1", "29463-7", "8302-2", "39156-5", "8310-5", "72514-3")
METABOLIC_PANEL = ("2339-0", "6299-2", "38483-4", "49765-1", "2947-0", "6298-4", "2069-3", "20565-8")
BLOOD_COUNT = ("718-7", "6690-2", "777-3")
LIPID_PANEL = ("2093-3", "2571-8", "18262-6", "2085-9")
HBA1C = "4548-4"
CREATININE, HEMOGLOBIN = "38483-4", "718-7"
SMOKING_STATUS = "72166-2"
LABS = (*METABOLIC_PANEL, *BLOOD_COUNT, *LIPID_PANEL, HBA1C)

OBSERVATIONS: dict[str, tuple[str, str, str, int]] = {
    # code: (description, units, category, decimals)
    "8480-6": ("Systolic Blood Pressure", "mm[Hg]", "vital-signs", 0),
    "8462-4": ("Diastolic Blood Pressure", "mm[Hg]", "vital-signs", 0),
    "8867-4": ("Heart rate", "/min", "vital-signs", 0),
    "9279-1": ("Respiratory rate", "/min", "vital-signs", 0),
    "29463-7": ("Body Weight", "kg", "vital-signs", 1),
    "8302-2": ("Body Height", "cm", "vital-signs", 1),
    "39156-5": ("Body mass index (BMI) [Ratio]", "kg/m2", "vital-signs", 1),
    "8310-5": ("Body temperature", "Cel", "vital-signs", 1),
    "72514-3": ("Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}", "vital-signs", 0),
    "38483-4": ("Creatinine [Mass/volume] in Blood", "mg/dL", "laboratory", 2),
    "2339-0": ("Glucose [Mass/volume] in Blood", "mg/dL", "laboratory", 0),
    "4548-4": ("Hemoglobin A1c/Hemoglobin.total in Blood", "%", "laboratory", 1),
    "2947-0": ("Sodium [Moles/volume] in Blood", "mmol/L", "laboratory", 0),
    "6298-4": ("Potassium [Moles/volume] in Blood", "mmol/L", "laboratory", 1),
    "6299-2": ("Urea nitrogen [Mass/volume] in Blood", "mg/dL", "laboratory", 0),
    "2069-3": ("Chloride [Moles/volume] in Blood", "mmol/L", "laboratory", 0),
    "20565-8": ("Carbon dioxide  total [Moles/volume] in Blood", "mmol/L", "laboratory", 0),
    "49765-1": ("Calcium [Mass/volume] in Blood", "mg/dL", "laboratory", 1),
    "718-7": ("Hemoglobin [Mass/volume] in Blood", "g/dL", "laboratory", 1),
    "6690-2": ("Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", "laboratory", 1),
    "777-3": ("Platelets [#/volume] in Blood by Automated count", "10*3/uL", "laboratory", 0),
    "2093-3": ("Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory", 0),
    "2571-8": ("Triglycerides", "mg/dL", "laboratory", 0),
    "18262-6": ("Low Density Lipoprotein Cholesterol", "mg/dL", "laboratory", 0),
    "2085-9": ("High Density Lipoprotein Cholesterol", "mg/dL", "laboratory", 0),
    "72166-2": ("Tobacco smoking status", "", "survey", 0),
}
OBSERVATION_CODES = tuple(OBSERVATIONS)
SMOKING_STATUSES = ("Never smoked tobacco (finding)", "Ex-smoker (finding)", "Smokes tobacco daily (finding)")

MEDICATION_RECONCILIATION = "430193006"
PHYSICAL_EXAMINATION = "5880005"
ECHOCARDIOGRAPHY = "40701008"
CORONARY_ARTERY_BYPASS = "232717009"
PERCUTANEOUS_CORONARY_INTERVENTION = "415070008"
CHEST_X_RAY = "399208008"
SPIROMETRY = "127783003"
DEPRESSION_SCREENING = "171207006"

PROCEDURES: dict[str, tuple[str, float, int]] = {
    # code: (description, base cost, minutes)
    MEDICATION_RECONCILIATION: ("Medication reconciliation (procedure)", 498.83, 30),
    PHYSICAL_EXAMINATION: ("Physical examination procedure (procedure)", 431.40, 15),
    ECHOCARDIOGRAPHY: ("Echocardiography (procedure)", 1204.20, 45),
    CORONARY_ARTERY_BYPASS: ("Coronary artery bypass grafting (procedure)", 28746.19, 240),
    PERCUTANEOUS_CORONARY_INTERVENTION: ("Percutaneous coronary intervention (procedure)", 16302.55, 120),
    CHEST_X_RAY: ("Plain chest X-ray (procedure)", 365.82, 20),
    SPIROMETRY: ("Spirometry (procedure)", 233.71, 20),
    DEPRESSION_SCREENING: ("Depression screening (procedure)", 431.40, 10),
}
PROCEDURE_CODES = tuple(PROCEDURES)

IMMUNIZATIONS: dict[str, tuple[str, float]] = {
    "140": ("Influenza  seasonal  injectable  preservative free", 136.00),
    "133": ("Pneumococcal conjugate PCV 13", 136.00),
}
IMMUNIZATION_CODES = tuple(IMMUNIZATIONS)

ALLERGIES: tuple[tuple[str, ...], ...] = (
    # code, system, description, type, category, reaction, reaction description, severity
    (
        "91936005",
        SNOMED,
        "Allergy to penicillin (finding)",
        "allergy",
        "medication",
        "271807003",
        "Eruption of skin (disorder)",
        "MILD",
    ),
    (
        "300916003",
        SNOMED,
        "Latex allergy (finding)",
        "allergy",
        "environment",
        "247472004",
        "Wheal (finding)",
        "MODERATE",
    ),
    (
        "91935009",
        SNOMED,
        "Allergy to peanuts (finding)",
        "allergy",
        "food",
        "39579001",
        "Anaphylaxis (disorder)",
        "SEVERE",
    ),
)

# Encounter classes: (ENCOUNTERCLASS, SNOMED encounter type, description, base cost).
WELLNESS, AMBULATORY, OUTPATIENT, URGENTCARE, EMERGENCY, INPATIENT = range(6)
ENCOUNTER_CLASSES: tuple[tuple[str, str, str, float], ...] = (
    ("wellness", "162673000", "General examination of patient (procedure)", 136.80),
    ("ambulatory", "185345009", "Encounter for symptom (procedure)", 85.55),
    ("outpatient", "185347001", "Encounter for problem (procedure)", 85.55),
    ("urgentcare", "702927004", "Urgent care clinic (environment)", 136.80),
    ("emergency", "50849002", "Emergency room admission (procedure)", 146.18),
    ("inpatient", "183452005", "Emergency hospital admission (procedure)", 1061.20),
)

# Each organization staffs PROVIDERS_PER_SITE clinicians; an encounter class is seen by a band.
PROVIDER_BANDS: tuple[tuple[str, int, int], ...] = (
    ("INTERNAL MEDICINE", 0, 2),
    ("EMERGENCY MEDICINE", 2, 2),
    ("GENERAL PRACTICE", 4, 4),
)
PROVIDERS_PER_SITE = 8
CLASS_PROVIDER_BAND = (2, 2, 2, 1, 1, 0)

PAYERS: tuple[tuple[str, str, float, str | None, str | None, str | None, str | None, str | None], ...] = (
    # name, ownership, share of cost covered, headquarters address, city, state, ZIP, phone
    ("Medicare", "GOVERNMENT", 0.80, "7500 Security Blvd", "Baltimore", "MD", "21244", "1-800-633-4227"),
    ("Medicaid", "GOVERNMENT", 0.90, "7500 Security Blvd", "Baltimore", "MD", "21244", "1-877-267-2323"),
    ("Blue Cross Blue Shield", "PRIVATE", 0.70, "101 Huntington Ave", "Boston", "MA", "02199", "1-800-262-2583"),
    ("Aetna", "PRIVATE", 0.65, "151 Farmington Ave", "Hartford", "CT", "06156", "1-800-872-3862"),
    ("UnitedHealthcare", "PRIVATE", 0.65, "9800 Healthcare Lane", "Minnetonka", "MN", "55436", "1-888-545-5205"),
    ("NO_INSURANCE", "NO_INSURANCE", 0.0, None, None, None, None, None),
)
UNDER_65_PAYER_SHARES = (0.0, 0.15, 0.30, 0.20, 0.25, 0.10)

RACES = ("white", "black", "asian", "native", "other")
RACE_SHARES = (0.72, 0.11, 0.08, 0.01, 0.08)
MALE_FIRST_NAMES = (
    "James",
    "John",
    "Robert",
    "Michael",
    "William",
    "David",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "Paul",
    "Steven",
)
FEMALE_FIRST_NAMES = (
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Nancy",
    "Margaret",
    "Sandra",
    "Emily",
    "Donna",
    "Michelle",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
)
STREETS = (
    "Main Street",
    "Oak Avenue",
    "Maple Street",
    "Cedar Lane",
    "Elm Street",
    "Park Road",
    "Washington Street",
    "Lake Drive",
    "Hill Street",
    "River Road",
    "Chestnut Street",
    "Pleasant Street",
)
CITIES: tuple[tuple[str, str, str, str, float, float], ...] = (
    # city, county, FIPS, ZIP, latitude, longitude
    ("Boston", "Suffolk County", "25025", "02118", 42.3601, -71.0589),
    ("Worcester", "Worcester County", "25027", "01608", 42.2626, -71.8023),
    ("Springfield", "Hampden County", "25013", "01103", 42.1015, -72.5898),
    ("Lowell", "Middlesex County", "25017", "01852", 42.6334, -71.3162),
    ("Brockton", "Plymouth County", "25023", "02301", 42.0834, -71.0184),
    ("Quincy", "Norfolk County", "25021", "02169", 42.2529, -71.0023),
    ("Lynn", "Essex County", "25009", "01901", 42.4668, -70.9495),
    ("New Bedford", "Bristol County", "25005", "02740", 41.6362, -70.9342),
    ("Pittsfield", "Berkshire County", "25003", "01201", 42.4501, -73.2454),
    ("Barnstable", "Barnstable County", "25001", "02601", 41.7003, -70.3002),
)
SITE_KINDS = ("General Hospital", "Medical Center", "Community Hospital")
STATE, STATE_CODE = "Massachusetts", "MA"

DAY = 86_400
YEAR = 365.25 * DAY
HOUR = 3_600
NEVER = np.iinfo(np.int64).max
"""Onset of a condition the patient never has."""

READMISSION_WINDOW_DAYS = 30


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


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


DRIFT_PRESETS: dict[str, DriftSpec] = {
    "none": DriftSpec(),
    "aging": DriftSpec(age_shift_years=10.0, lab_shift=0.15, comorbidity_multiplier=1.5),
    "lab_recalibration": DriftSpec(lab_shift=0.15),
}


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


Tables = dict[str, pa.Table]
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


def _pick(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Sorted positions: ``rate * len(eligible)`` (rounded half up) of ``eligible``, drawn
    without replacement."""
    count = int(np.floor(rate * len(eligible) + 0.5))
    if count == 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(np.asarray(eligible, dtype=np.int64), size=count, replace=False))


def _counts(eligible: int, affected: int, ingest: str = "loaded") -> dict[str, int | str]:
    return {"eligible": int(eligible), "affected": int(affected), "ingest": ingest}


def _column(table: pa.Table, column: str) -> pa.Array:
    """One column as a single plain (not dictionary-encoded) array."""
    return _decoded(table.column(column)).combine_chunks()


def _set_rows(table: pa.Table, column: str, rows: np.ndarray, values: pa.Array | pa.Scalar) -> pa.Table:
    """``table`` with ``column`` replaced at positions ``rows`` by ``values`` (in row order) or
    by one scalar."""
    current = _column(table, column)
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    if isinstance(values, pa.Scalar):
        changed = pc.if_else(pa.array(mask), values.cast(current.type), current)
    else:
        changed = pc.replace_with_mask(current, pa.array(mask), values.cast(current.type))
    return table.set_column(table.schema.get_field_index(column), column, changed)


def _moments(table: pa.Table, column: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds of a date or ``YYYY-MM-DDTHH:MM:SSZ`` column at ``rows``, and which are set."""
    values = _column(table, column).take(pa.array(rows, type=pa.int64()))
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    if pa.types.is_date32(values.type):
        days = values.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        return days.astype(np.int64) * DAY, valid
    parsed = pc.strptime(values, format="%Y-%m-%dT%H:%M:%SZ", unit="s")
    return parsed.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), valid


def _set_moments(
    table: pa.Table, column: str, rows: np.ndarray, seconds: np.ndarray, valid: np.ndarray | None = None
) -> pa.Table:
    """Write epoch seconds back into a date or timestamp column, in that column's format."""
    valid = np.ones(len(rows), dtype=bool) if valid is None else valid
    dated = pa.types.is_date32(table.schema.field(column).type)
    values = _dates(seconds, valid) if dated else _timestamps(seconds, valid)
    return _set_rows(table, column, rows, values)


def _encounter_patients(tables: Tables) -> np.ndarray:
    """Row in patients.csv of each encounter's patient."""
    position = pc.index_in(_column(tables["encounters"], "PATIENT"), value_set=_column(tables["patients"], "Id"))
    return position.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


_EVENT_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "conditions": ("START", "STOP"),
    "medications": ("START", "STOP"),
    "observations": ("DATE",),
    "procedures": ("START", "STOP"),
    "immunizations": ("DATE",),
    "allergies": ("START", "STOP"),
    "devices": ("START", "STOP"),
}
"""Event files recorded at an encounter, and their date columns."""


def _shift_encounters(
    tables: Tables, eligible: np.ndarray, rows: np.ndarray, days: np.ndarray
) -> tuple[Tables, DefectCounts]:
    """Move the encounters at ``rows`` (each by its whole number of ``days``, times of day
    kept) together with every event recorded at them, so a visit and its events stay
    consistent (no event leaves its visit, no stop falls before its start). ``eligible`` marks
    the encounters that could have been picked (for the counts)."""
    tables = dict(tables)
    encounters = tables["encounters"]
    for column in ("START", "STOP"):
        seconds, valid = _moments(encounters, column, rows)
        encounters = _set_moments(encounters, column, rows, seconds + days * DAY, valid)
    tables["encounters"] = encounters
    counts: DefectCounts = {"encounters": _counts(len(eligible), len(rows))}
    shift = np.zeros(encounters.num_rows + 1, dtype=np.int64)  # last slot: events of no encounter
    shift[rows] = days
    picked = np.zeros(encounters.num_rows + 1, dtype=bool)
    picked[rows] = True
    could = np.zeros(encounters.num_rows + 1, dtype=bool)
    could[eligible] = True
    for name, columns in _EVENT_DATE_COLUMNS.items():
        table = tables[name]
        if table.num_rows == 0:
            continue
        visit = pc.index_in(_column(table, "ENCOUNTER"), value_set=_column(encounters, "Id"))
        visit = visit.fill_null(encounters.num_rows).to_numpy(zero_copy_only=False).astype(np.int64)
        hit = np.flatnonzero(picked[visit])
        for column in columns:
            seconds, valid = _moments(table, column, hit)
            table = _set_moments(table, column, hit, seconds + shift[visit[hit]] * DAY, valid)
        tables[name] = table
        counts[name] = _counts(np.count_nonzero(could[visit]), len(hit))
    return tables, counts


UNMAPPED_CONDITION = ("233604007", "Pneumonia (disorder)")
"""A real SNOMED code deliberately outside the demo vocabulary."""


@defect_injector("unmapped_codes")
def inject_unmapped_codes(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """conditions CODE/DESCRIPTION replaced by a valid SNOMED code the vocabulary lacks
    (``UNMAPPED_CONDITION``). Eligible: every condition. The row loads; its concept maps to 0."""
    conditions = tables["conditions"]
    rows = _pick(rng, np.arange(conditions.num_rows), rate)
    for column, replacement in zip(("CODE", "DESCRIPTION"), UNMAPPED_CONDITION, strict=True):
        conditions = _set_rows(conditions, column, rows, pa.scalar(replacement))
    return {**tables, "conditions": conditions}, {"conditions": _counts(conditions.num_rows, len(rows))}


VITAL_RANGES: dict[str, tuple[float, float]] = {
    "8867-4": (10, 500),  # heart rate, /min
    "29463-7": (2, 500),  # body weight, kg
    "8302-2": (20, 250),  # body height, cm
    "8310-5": (34, 45),  # body temperature, Cel
    "8480-6": (10, 250),  # systolic blood pressure, mm[Hg]
    "8462-4": (30, 200),  # diastolic blood pressure, mm[Hg]
    "39156-5": (16, 100),  # body mass index, kg/m2
}
"""Plausible ranges of the vital signs (DataQualityDashboard's plausibleValueLow/High before
2022, per unit); the generator's clean values stay inside them."""


@defect_injector("implausible_vitals")
def inject_implausible_vitals(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """observations VALUE of vital signs with a plausible range (``VITAL_RANGES``) made
    implausible: half multiplied by 100 (a misplaced decimal point), half negated, so each
    lies outside its range; units and TYPE stay, the value still parses (the row loads)."""
    observations = tables["observations"]
    code = _column(observations, "CODE")
    eligible = np.flatnonzero(pc.is_in(code, value_set=pa.array(list(VITAL_RANGES))).to_numpy(zero_copy_only=False))
    rows = _pick(rng, eligible, rate)
    take = pa.array(rows, type=pa.int64())
    value = pc.cast(_column(observations, "VALUE").take(take), pa.float64()).to_numpy(zero_copy_only=False)
    negate = rng.random(len(rows)) < 0.5
    decimals = pc.index_in(code.take(take), value_set=pa.array(OBSERVATION_CODES))
    scale = (
        10.0
        ** np.array([o[3] for o in OBSERVATIONS.values()])[decimals.to_numpy(zero_copy_only=False).astype(np.int64)]
    )
    corrupted = np.round(np.where(negate, -value, value * 100) * scale) / scale
    observations = _set_rows(observations, "VALUE", rows, pc.cast(pa.array(corrupted), pa.string()))
    return {**tables, "observations": observations}, {"observations": _counts(len(eligible), len(rows))}


FUTURE_SHIFT_DAYS = 36_524
"""How far ``future_dates`` moves an encounter: about 100 years, so the dates lie years after
any day the extract is checked (DQD flags dates after today + 1), whatever the extract window,
and the output does not depend on the day it is generated."""


@defect_injector("future_dates")
def inject_future_dates(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """encounters START/STOP, and the dates of every event recorded at them (conditions,
    medications, observations, procedures, immunizations, allergies), moved
    ``FUTURE_SHIFT_DAYS`` later. Eligible: encounters of patients without a DEATHDATE (a
    future event of a dead patient would also be an event after death); the events move with
    their visit so they stay within it. The dates still parse (the rows load)."""
    dead = _column(tables["patients"], "DEATHDATE").is_valid().to_numpy(zero_copy_only=False)
    patient = _encounter_patients(tables)
    eligible = np.flatnonzero((patient >= 0) & ~dead[np.maximum(patient, 0)])
    rows = _pick(rng, eligible, rate)
    return _shift_encounters(tables, eligible, rows, np.full(len(rows), FUTURE_SHIFT_DAYS))


@defect_injector("events_after_death")
def inject_events_after_death(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """encounters of patients with a DEATHDATE moved, with every event recorded at them, to
    61-180 days after the death date (DQD's plausibleBeforeDeath tolerates 60 days). Eligible:
    encounters of patients who have a DEATHDATE. Should no patient have one (tiny extracts),
    ``rate`` of the patients (at least one) first get a DEATHDATE the day after
    their last encounter ends (counted under patients). The dates parse (the rows load)."""
    tables = dict(tables)
    patients = tables["patients"]
    patient = _encounter_patients(tables)
    counts: DefectCounts = {}
    death = _column(patients, "DEATHDATE")
    if death.null_count == patients.num_rows:
        seen = np.unique(patient[patient >= 0])
        chosen = _pick(rng, seen, rate)
        chosen = chosen if len(chosen) else seen[:1]
        every = np.arange(tables["encounters"].num_rows)
        stop_s, stopped = _moments(tables["encounters"], "STOP", every)
        start_s, _ = _moments(tables["encounters"], "START", every)
        last_s = np.zeros(patients.num_rows, dtype=np.int64)
        np.maximum.at(last_s, np.maximum(patient, 0), np.where(stopped, stop_s, start_s))
        patients = _set_moments(patients, "DEATHDATE", chosen, _day_start(last_s[chosen]) + DAY)
        tables["patients"] = patients
        counts["patients"] = _counts(patients.num_rows, len(chosen))
        death = _column(patients, "DEATHDATE")
    dead = death.is_valid().to_numpy(zero_copy_only=False)
    death_day = death.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    eligible = np.flatnonzero((patient >= 0) & dead[np.maximum(patient, 0)])
    rows = _pick(rng, eligible, rate)
    start_s, _ = _moments(tables["encounters"], "START", rows)
    days = death_day[patient[rows]] + rng.integers(61, 181, len(rows)) - start_s // DAY
    tables, moved = _shift_encounters(tables, eligible, rows, days)
    return tables, {**counts, **moved}


EARLIEST_PLAUSIBLE_DATE = date(1950, 1, 1)
"""DQD's default lower bound for event and death dates (plausibleValueLow)."""


@defect_injector("death_before_birth")
def inject_death_before_birth(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """patients DEATHDATE set 1-365 days before BIRTHDATE (replacing any death date).
    Eligible: patients born from the year after ``EARLIEST_PLAUSIBLE_DATE`` on, so the death date
    itself stays within DQD's plausible date range. The date parses (the row loads). By
    construction all of such a patient's events then lie after their death, so
    plausibleBeforeDeath sees them too."""
    patients = tables["patients"]
    every = np.arange(patients.num_rows)
    birth_s, _ = _moments(patients, "BIRTHDATE", every)
    born_from = datetime(EARLIEST_PLAUSIBLE_DATE.year + 1, 1, 1, tzinfo=UTC).timestamp()
    eligible = np.flatnonzero(birth_s >= born_from)
    rows = _pick(rng, eligible, rate)
    death_s = birth_s[rows] - rng.integers(1, 366, len(rows)) * DAY
    patients = _set_moments(patients, "DEATHDATE", rows, death_s)
    return {**tables, "patients": patients}, {"patients": _counts(len(eligible), len(rows))}


@defect_injector("visit_end_before_start")
def inject_visit_end_before_start(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """encounters STOP set 1-3 days (whole days, so also by date) before START. Eligible:
    every encounter. STOP is optional and still parses (the row loads); events keep their
    dates, so they stay within the visit's start - 7 days .. end + 7 days for all but the
    last days of long inpatient stays."""
    encounters = tables["encounters"]
    rows = _pick(rng, np.arange(encounters.num_rows), rate)
    start_s, _ = _moments(encounters, "START", rows)
    stop_s = start_s - rng.integers(1, 4, len(rows)) * DAY
    encounters = _set_moments(encounters, "STOP", rows, stop_s)
    return {**tables, "encounters": encounters}, {"encounters": _counts(encounters.num_rows, len(rows))}


@defect_injector("missing_required_fields")
def inject_missing_required_fields(
    tables: Tables, rate: float, rng: np.random.Generator
) -> tuple[Tables, DefectCounts]:
    """patients: RACE and ETHNICITY emptied and GENDER blanked (a single space). OMOP PERSON
    requires gender_concept_id, race_concept_id and ethnicity_concept_id; the raw contract
    lets RACE and ETHNICITY through as optional, so the rows load and the concepts become 0.
    GENDER is required by the raw contract, so an empty GENDER would be quarantined ("missing
    required GENDER"); a blank one is present to the ingest and only becomes null when the
    OMOP staging trims it, so gender_concept_id is 0 too. Eligible: every patient.

    Not used: encounters STOP (optional; the OMOP ETL fills visit_end_date from the start),
    encounters CODE (optional but feeds no required column), ENCOUNTERCLASS (required and
    quarantined when empty; a blank class maps to an outpatient visit)."""
    patients = tables["patients"]
    rows = _pick(rng, np.arange(patients.num_rows), rate)
    patients = _set_rows(patients, "GENDER", rows, pa.scalar(" "))
    for column in ("RACE", "ETHNICITY"):
        patients = _set_rows(patients, column, rows, pa.scalar(None, type=pa.string()))
    return {**tables, "patients": patients}, {"patients": _counts(patients.num_rows, len(rows))}


@defect_injector("duplicate_primary_keys")
def inject_duplicate_primary_keys(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """Exact copies of encounters (the ingest quarantines repeated Ids) and of observations
    (no Id column: the copies load), each written right after its original.

    - encounters (primary key Id): the ingest quarantines every repeat of an Id ("duplicate
      Id"), so this variant tests the quarantine path (copies counted there, never loaded);
    - observations (no Id column): the copies load. They reach MEASUREMENT (or OBSERVATION)
      as repeated records of the same person, concept, time and value; their ids still
      differ because the CDM derives them from the source line, so DQD's isPrimaryKey does
      not see them, a duplicate-record check does.

    Eligible: every row of each file, ``rate`` of them copied once."""
    tables = dict(tables)
    counts: DefectCounts = {}
    for name, ingest in (("encounters", "quarantined"), ("observations", "loaded")):
        table = tables[name]
        rows = _pick(rng, np.arange(table.num_rows), rate)
        order = np.sort(np.concatenate([np.arange(table.num_rows), rows]), kind="stable")
        tables[name] = table.take(pa.array(order, type=pa.int64()))
        counts[name] = _counts(table.num_rows, len(rows), ingest)
    return tables, counts


UNIT_SWAPS: dict[str, str] = {
    "2339-0": "mmol/L",  # glucose: the mg/dL number labelled mmol/L (18x too high)
    "38483-4": "mmol/L",  # creatinine: the mg/dL number labelled mmol/L (~88x too high)
    "718-7": "mg/dL",  # hemoglobin: the g/dL number labelled mg/dL (1000x too low)
    "2947-0": "mg/dL",  # sodium: the mmol/L number labelled mg/dL (a mass unit for moles)
}
"""Lab code -> the unit written instead of its own. Each swapped-in unit is a standard UCUM
concept of the demo vocabulary (mmol/L 8753, mg/dL 8840), so unit_concept_id maps and the
defect shows as an implausible unit or, after unit harmonisation, an implausible value. A
body weight in [lb_av] would need the pound concept (8739) in the vocabulary seed; it is not
there, so weights are not swapped."""


@defect_injector("unit_swaps")
def inject_unit_swaps(tables: Tables, rate: float, rng: np.random.Generator) -> tuple[Tables, DefectCounts]:
    """observations UNITS of labs in ``UNIT_SWAPS`` replaced by another plausible unit without
    converting VALUE. Eligible: observations of those codes. The row loads."""
    observations = tables["observations"]
    code = _column(observations, "CODE")
    eligible = np.flatnonzero(pc.is_in(code, value_set=pa.array(list(UNIT_SWAPS))).to_numpy(zero_copy_only=False))
    rows = _pick(rng, eligible, rate)
    swapped = pa.array(list(UNIT_SWAPS.values())).take(
        pc.index_in(code.take(pa.array(rows, type=pa.int64())), value_set=pa.array(list(UNIT_SWAPS)))
    )
    observations = _set_rows(observations, "UNITS", rows, swapped)
    return {**tables, "observations": observations}, {"observations": _counts(len(eligible), len(rows))}


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

    generated = _generate_tables(patients, seed, sites, _Window.of(start, end), drift or DriftSpec())
    tables = generated
    injected = []
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

    def write(name: str) -> None:
        # Generated text is free of delimiters by construction (like Synthea's exporter, which
        # strips commas); only a table a defect injector replaced may need quoting.
        table = tables[name]
        _write_csv(out_dir / f"{name}.csv", table, may_need_quotes=table is not generated.get(name))

    # pyarrow formats CSV without the GIL: largest files first, two at a time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(write, sorted(tables, key=lambda name: -tables[name].nbytes)))
    if defects:
        (out_dir / DEFECTS_MANIFEST).write_text(json.dumps({"defects": injected}, indent=2) + "\n", encoding="utf-8")
    (out_dir / SUCCESS_MARKER).touch()
    return {name: table.num_rows for name, table in tables.items()}


# --------------------------------------------------------------------------------------------
# Array helpers
# --------------------------------------------------------------------------------------------

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_TWO_DIGITS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)
_UUID_HEX_POSITIONS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _strings(rows: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A string array straight from an (n, width) byte matrix: no per-value Python objects."""
    n, width = rows.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    bitmap, nulls = None, 0
    if valid is not None:
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(n - np.count_nonzero(valid))
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(rows)), bitmap, nulls
    )


def _digits(template: str, fields: Sequence[tuple[int, int, np.ndarray]], valid: np.ndarray | None = None) -> pa.Array:
    """Fill zero-padded integers into a fixed template, e.g. SSNs or timestamps, vectorised."""
    n = len(fields[0][2])
    rows = np.tile(np.frombuffer(template.encode(), dtype=np.uint8), (n, 1))
    for position, width, values in fields:
        values = np.asarray(values, dtype=np.int64)
        for k in range(width):
            rows[:, position + k] = 48 + values // 10 ** (width - 1 - k) % 10
    return _strings(rows, valid)


def _civil_date(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of days since 1970-01-01 (proleptic Gregorian, Hinnant's algorithm)."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SSZ`` strings. pyarrow's strftime is ~50x slower at millions of
    rows, so each distinct day is formatted once and times come from a two-digit table."""
    days, second_of_day = np.divmod(np.asarray(seconds, dtype=np.int64), DAY)
    rows = np.tile(np.frombuffer(b"0000-00-00T00:00:00Z", dtype=np.uint8), (len(days), 1))
    if len(days):
        first = days.min()
        calendar_days = np.arange(first, days.max() + 1)
        year, month, day = _civil_date(calendar_days)
        calendar = np.asarray(_digits("0000-00-00", ((0, 4, year), (5, 2, month), (8, 2, day))).buffers()[2]).reshape(
            -1, 10
        )
        rows[:, :10] = calendar[days - first]
        for position, value in ((11, second_of_day // HOUR), (14, second_of_day // 60 % 60), (17, second_of_day % 60)):
            rows[:, position : position + 2] = _TWO_DIGITS[value]
    return _strings(rows, valid)


def _dates(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Calendar dates (written as ``YYYY-MM-DD``) of epoch seconds."""
    days = (np.asarray(seconds, dtype=np.int64) // DAY).astype(np.int32)
    return pa.array(days, type=pa.date32(), mask=None if valid is None else ~valid)


def _uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random (version 4) UUID strings, reproducible from the generator's seed."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    rows = np.full((n, 36), ord("-"), dtype=np.uint8)
    rows[:, _UUID_HEX_POSITIONS] = np.stack([_HEX[raw >> 4], _HEX[raw & 0x0F]], axis=2).reshape(n, 32)
    return _strings(rows)


def _lookup(values: Sequence[str | None], index: np.ndarray) -> pa.Array:
    """Dictionary-encoded column: small vocabularies stay compact however many rows use them;
    a negative index is a null."""
    index = np.asarray(index, dtype=np.int32)
    indices = pa.array(index, mask=index < 0) if (index < 0).any() else pa.array(index)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), type=pa.string()))


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Plain strings of a possibly dictionary-encoded column."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of a non-negative weight matrix (rows need a positive weight)."""
    cumulative = np.cumsum(weights, axis=1)
    draw = rng.random(len(weights)) * cumulative[:, -1]
    return (cumulative <= draw[:, None]).sum(axis=1)


def _choice(rng: np.random.Generator, n: int, shares: Sequence[float]) -> np.ndarray:
    """Index of an option per row, drawn with the given shares."""
    return np.searchsorted(np.cumsum(shares) / np.sum(shares), rng.random(n), side="right")


def _patient_time(patient: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Sortable (patient, time) key, to find a patient's events around a time by binary
    search. Times are clipped into 1970-2106 (the extract window is validated to lie there)."""
    return (patient.astype(np.int64) << 32) | np.clip(seconds, 0, 2**32 - 1)


def _starts_run(values: np.ndarray) -> np.ndarray:
    """Where a sorted array starts a new run of equal values (e.g. a patient's first visit)."""
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = values[1:] != values[:-1]
    return starts


def _day_start(seconds: np.ndarray) -> np.ndarray:
    return seconds - seconds % DAY


def _table(file: str, n: int, columns: dict[str, pa.Array | np.ndarray]) -> pa.Table:
    """A file's table in exporter header order; columns not given are all null."""
    unknown = set(columns) - set(HEADERS[file])
    if unknown:
        raise KeyError(f"{file}: columns outside the Synthea 3.3 header: {sorted(unknown)}")
    arrays = [
        pa.nulls(n, pa.string())
        if name not in columns
        else pa.array(columns[name])
        if isinstance(columns[name], np.ndarray)
        else columns[name]
        for name in HEADERS[file]
    ]
    return pa.Table.from_arrays(arrays, names=list(HEADERS[file]))


class _Events:
    """Column-wise accumulator: each clinical rule adds one vectorised block of events."""

    def __init__(self, *fields: str) -> None:
        self._blocks: dict[str, list[np.ndarray]] = {field: [] for field in fields}

    def add(self, **columns: np.ndarray | float) -> None:
        n = len(columns["encounter"])
        for field, blocks in self._blocks.items():
            blocks.append(np.broadcast_to(columns[field], n))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self._blocks)

    def __getitem__(self, field: str) -> np.ndarray:
        return np.concatenate(self._blocks[field])


# --------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """The extract period in epoch seconds: [start_s, end_s) covers whole calendar days."""

    start_s: int
    end_s: int

    @classmethod
    def of(cls, start: date, end: date) -> _Window:
        def epoch(day: date) -> int:
            return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())

        return cls(epoch(start), epoch(end) + DAY)


@dataclass(frozen=True)
class _Cohort:
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

    def age_at(self, patient: np.ndarray, t: np.ndarray) -> np.ndarray:
        return (t - self.birth_s[patient]) / YEAR

    def has(self, condition: str, patient: np.ndarray, t: np.ndarray) -> np.ndarray:
        return self.onset_s[condition][patient] <= t

    def comorbidity_count(self, patient: np.ndarray, t: np.ndarray) -> np.ndarray:
        return sum(self.has(c, patient, t).astype(np.int64) for c in COMORBIDITIES)


def _make_cohort(rng: np.random.Generator, n: int, sites: int, window: _Window, drift: DriftSpec) -> _Cohort:
    """Adults weighted to older ages (the readmission population), with correlated chronic
    disease whose prevalence rises with age, obesity, smoking and hidden frailty."""
    age = np.clip(18 + 80 * rng.beta(2.0, 1.6, n) + drift.age_shift_years, 18, 105)
    birth_s = window.start_s - (age * YEAR).astype(np.int64) - rng.integers(0, DAY, n)
    male = rng.random(n) < 0.48
    frailty = rng.standard_normal(n)
    smoking = _choice(rng, n, (0.55, 0.28, 0.17))
    decades = (age - 60) / 10

    def prevalent(logit: np.ndarray) -> np.ndarray:
        p = np.minimum(_sigmoid(logit) * drift.comorbidity_multiplier, 0.95)
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
    dies = rng.random(n) < _sigmoid(-3.9 + 0.08 * (age - 65) + 0.2 * burden + 0.4 * frailty)
    death_s = np.where(dies, window.start_s + (rng.random(n) * span).astype(np.int64), NEVER)
    payer = np.where(age >= 65, np.where(rng.random(n) < 0.92, 0, 2), _choice(rng, n, UNDER_65_PAYER_SHARES))
    return _Cohort(
        birth_s=birth_s,
        death_s=death_s,
        active_end_s=np.minimum(death_s, window.end_s),
        male=male,
        race=_choice(rng, n, RACE_SHARES),
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


# --------------------------------------------------------------------------------------------
# Physiology: lab and vital-sign values at a point in time
# --------------------------------------------------------------------------------------------


def _lab_values(
    rng: np.random.Generator, cohort: _Cohort, patient: np.ndarray, t: np.ndarray, severity: np.ndarray
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


def _vital_values(
    rng: np.random.Generator, cohort: _Cohort, patient: np.ndarray, t: np.ndarray, severity: np.ndarray
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


# --------------------------------------------------------------------------------------------
# Encounters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stays:
    """Inpatient stays with the labs measured during each (they drive readmission)."""

    patient: np.ndarray
    start_s: np.ndarray
    stop_s: np.ndarray
    severity: np.ndarray
    labs: dict[str, np.ndarray]


def _readmission_logit(
    cohort: _Cohort,
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


def _inpatient_stays(rng: np.random.Generator, cohort: _Cohort, window: _Window) -> _Stays:
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
    crowded = ~_starts_run(patient)
    crowded[1:] &= np.diff(start_s) < 120 * DAY
    patient, start_s = patient[~crowded], start_s[~crowded]
    key = _patient_time(patient, start_s)
    prior_year = np.arange(len(key)) - np.searchsorted(key, _patient_time(patient, start_s - 365 * DAY))

    episode = np.arange(len(patient))
    severity = rng.standard_normal(len(patient))
    chain: list[tuple[np.ndarray, ...]] = []
    while True:
        length_of_stay = np.clip(np.round(rng.lognormal(np.log(3.2) + 0.15 * severity, 0.45)), 1, 10)
        stop_s = (
            _day_start(start_s)
            + length_of_stay.astype(np.int64) * DAY
            + rng.integers(9 * HOUR, 17 * HOUR, len(patient))
        )
        labs = _lab_values(rng, cohort, patient, start_s, severity)
        chain.append((patient, start_s, stop_s, severity, episode, labs))
        p = _sigmoid(
            _readmission_logit(cohort, patient, stop_s, labs, prior_year, severity, rng.standard_normal(len(patient)))
        )
        again = (rng.random(len(patient)) < p) & (stop_s < cohort.active_end_s[patient])
        if not again.any():
            break
        gap_days = 1 + np.floor(28 * rng.beta(1.0, 2.0, again.sum())).astype(np.int64)
        patient, episode, prior_year = patient[again], episode[again], prior_year[again] + 1
        start_s = _day_start(stop_s[again]) + gap_days * DAY + rng.integers(0, DAY, len(patient))
        severity = 0.5 * severity[again] + rng.normal(0, 0.87, len(patient))

    patient, start_s, stop_s, severity, episode = (np.concatenate([part[i] for part in chain]) for i in range(5))
    labs = {code: np.concatenate([part[5][code] for part in chain]) for code in LABS}
    episode_start = np.full(episode.max(initial=-1) + 1, NEVER)
    np.minimum.at(episode_start, episode, start_s)
    episode_end = np.zeros_like(episode_start)
    np.maximum.at(episode_end, episode, stop_s)
    episode_patient = np.zeros_like(episode_start)
    episode_patient[episode] = patient
    too_soon = ~_starts_run(episode_patient)
    too_soon[1:] &= episode_start[1:] < episode_end[:-1] + (READMISSION_WINDOW_DAYS + 1) * DAY
    keep = ~too_soon[episode] & (stop_s < cohort.active_end_s[patient])
    return _Stays(
        patient[keep],
        start_s[keep],
        stop_s[keep],
        severity[keep],
        {code: values[keep] for code, values in labs.items()},
    )


@dataclass(frozen=True)
class _Encounters:
    """All encounters sorted by patient then start; ``stay`` indexes ``_Stays`` (-1 if none)."""

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
        return _patient_time(self.patient, self.start_s)


def _clinic_visits(
    rng: np.random.Generator, cohort: _Cohort, window: _Window
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
    rng: np.random.Generator, cohort: _Cohort, patient: np.ndarray, t: np.ndarray, kind: np.ndarray
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
    return _categorical(rng, weights) - 1


def _make_encounters(
    rng: np.random.Generator, cohort: _Cohort, window: _Window, sites: int
) -> tuple[_Encounters, _Stays]:
    """Clinic, emergency and inpatient encounters at the patient's home site (mostly), never
    overlapping a hospital stay, all within the extract and before death."""
    stays = _inpatient_stays(rng, cohort, window)
    patient, start_s, kind = _clinic_visits(rng, cohort, window)
    clinic_hour = np.where(
        kind == EMERGENCY, rng.integers(0, 17 * HOUR, len(patient)), rng.integers(8 * HOUR, 17 * HOUR, len(patient))
    )
    start_s = _day_start(start_s) + clinic_hour
    minutes = np.select(
        [kind == WELLNESS, kind == EMERGENCY, kind == AMBULATORY],
        [rng.integers(15, 46, len(patient)), rng.integers(60, 361, len(patient)), rng.integers(15, 61, len(patient))],
        rng.integers(30, 121, len(patient)),
    )
    stop_s = start_s + minutes * 60
    latest_stay = (
        np.searchsorted(_patient_time(stays.patient, stays.start_s), _patient_time(patient, start_s), side="right") - 1
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
    return _Encounters(
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


# --------------------------------------------------------------------------------------------
# Clinical events
# --------------------------------------------------------------------------------------------


def _within(encounters: _Encounters, rows: np.ndarray, rng: np.random.Generator, latest_hours: float) -> np.ndarray:
    """A moment inside each encounter, at most ``latest_hours`` after it starts."""
    start = encounters.start_s[rows]
    latest = np.minimum(encounters.stop_s[rows], start + int(latest_hours * HOUR))
    return start + (rng.random(len(rows)) * (latest - start)).astype(np.int64)


def _diagnoses(
    rng: np.random.Generator, cohort: _Cohort, encounters: _Encounters, window: _Window
) -> tuple[_Events, dict[str, np.ndarray]]:
    """Condition rows, and per chronic condition the encounter that first recorded it per
    patient (-1 if never) so treatment can start there."""
    events = _Events("encounter", "start_s", "stop_s", "code")
    key = encounters.key()
    diagnosed_at: dict[str, np.ndarray] = {}
    for code in CHRONIC_CONDITIONS:
        patient = np.flatnonzero(cohort.onset_s[code] < NEVER)
        seen = np.maximum(cohort.onset_s[code][patient], window.start_s)
        visit = np.searchsorted(key, _patient_time(patient, seen))
        found = visit < len(encounters)
        found[found] = encounters.patient[visit[found]] == patient[found]
        diagnosed_at[code] = np.full(cohort.size, -1)
        diagnosed_at[code][patient[found]] = visit[found]
        visit = visit[found]
        events.add(encounter=visit, start_s=encounters.start_s[visit], stop_s=-1, code=CONDITION_CODES.index(code))

    # Employment is a social finding recorded at the first wellness visit of working-age adults.
    wellness = np.flatnonzero(encounters.kind == WELLNESS)
    first = wellness[_starts_run(encounters.patient[wellness])]
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


def _prescriptions(
    rng: np.random.Generator,
    cohort: _Cohort,
    encounters: _Encounters,
    diagnosed_at: dict[str, np.ndarray],
    window: _Window,
) -> _Events:
    """Long-term drugs started at diagnosis (stopped at death), enoxaparin during stays and
    short antibiotic / analgesic courses for acute respiratory infections."""
    events = _Events("encounter", "start_s", "stop_s", "code", "reason")
    for condition, rules in LONG_TERM_DRUGS.items():
        patient = np.flatnonzero(diagnosed_at[condition] >= 0)
        visit = diagnosed_at[condition][patient]
        for drugs, shares in rules:
            pick = _choice(rng, len(patient), (*shares, 1 - sum(shares)))
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


def _interventions(rng: np.random.Generator, cohort: _Cohort, encounters: _Encounters) -> _Events:
    """Procedures where they belong: examinations at wellness visits, imaging and coronary
    revascularisation around cardiac events, spirometry for obstructive bronchitis, and
    medication reconciliation just before every discharge."""
    events = _Events("encounter", "start_s", "stop_s", "code", "reason")
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


def _vaccinations(rng: np.random.Generator, cohort: _Cohort, encounters: _Encounters) -> _Events:
    """Seasonal influenza at about half of wellness visits; pneumococcal for some over-65s."""
    events = _Events("encounter", "date_s", "code")
    wellness = np.flatnonzero(encounters.kind == WELLNESS)
    senior = cohort.age_at(encounters.patient[wellness], encounters.start_s[wellness]) >= 65
    chance = rng.random((2, len(wellness)))
    for code, selected in (("140", chance[0] < 0.55), ("133", senior & (chance[1] < 0.08))):
        visit = wellness[selected]
        events.add(encounter=visit, date_s=encounters.start_s[visit], code=IMMUNIZATION_CODES.index(code))
    return events


def _measurements(
    rng: np.random.Generator, cohort: _Cohort, encounters: _Encounters, stays: _Stays, drift: DriftSpec
) -> _Events:
    """Vitals at every wellness, emergency and inpatient encounter; smoking status at wellness;
    lab panels where clinically plausible. Inpatient labs are the values the readmission
    model saw, so the signal in the extract is exactly the one that drove the outcome."""
    events = _Events("encounter", "date_s", "code", "value")
    kind, n = encounters.kind, len(encounters)

    vitals_at = np.flatnonzero(np.isin(kind, (WELLNESS, EMERGENCY, INPATIENT)))
    vitals = _vital_values(
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
    labs = _lab_values(rng, cohort, encounters.patient[tested], drawn_s, encounters.severity[tested])
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
                value=labs[code][rows] * (1 + drift.lab_shift),
            )
    return events


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Identifiers:
    patient: pa.Array
    encounter: pa.Array
    organization: pa.Array
    provider: pa.Array
    payer: pa.Array


def _money(values: np.ndarray) -> np.ndarray:
    return np.round(values, 2)


def _coverage(cohort: _Cohort, patient: np.ndarray) -> np.ndarray:
    """Share of a patient's costs their payer covers."""
    return np.array([p[2] for p in PAYERS])[cohort.payer[patient]]


def _patients_table(rng: np.random.Generator, cohort: _Cohort, ids: _Identifiers) -> pa.Table:
    """Demographics plus plausible fake direct identifiers (ingest must prove it drops them).
    Patients mostly live in their home site's town."""
    n = cohort.size
    male = cohort.male
    name_pool = pa.array(MALE_FIRST_NAMES + FEMALE_FIRST_NAMES)
    per_sex = len(MALE_FIRST_NAMES)

    def numbered(pool: pa.Array, index: np.ndarray) -> pa.Array:
        """Synthea-style obviously fake names: a common name plus three digits."""
        suffix = _digits("000", ((0, 3, rng.integers(100, 1000, n)),))
        return pc.binary_join_element_wise(pool.take(index), suffix, "")

    def some(values: pa.Array, present: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(present), values, pa.nulls(n, pa.string()))

    sex_offset = np.where(male, 0, per_sex)
    marital = _choice(rng, n, (0.5, 0.3, 0.12, 0.08))  # M, S, D, W
    married_woman = ~male & (marital != 1)
    city = np.where(rng.random(n) < 0.6, cohort.site % len(CITIES), rng.integers(0, len(CITIES), n))
    house = _digits("000", ((0, 3, rng.integers(1, 1000, n)),))
    street = pa.array(STREETS).take(rng.integers(0, len(STREETS), n))
    dead = cohort.death_s < NEVER
    return _table(
        "patients",
        n,
        {
            "Id": ids.patient,
            "BIRTHDATE": _dates(cohort.birth_s),
            "DEATHDATE": _dates(np.where(dead, cohort.death_s, 0), valid=dead),
            "SSN": _digits("999-00-0000", ((4, 2, rng.integers(10, 100, n)), (7, 4, rng.integers(0, 10_000, n)))),
            "DRIVERS": _digits("S99900000", ((4, 5, rng.integers(0, 100_000, n)),), valid=rng.random(n) < 0.9),
            "PASSPORT": _digits("X00000000X", ((1, 8, rng.integers(0, 10**8, n)),), valid=rng.random(n) < 0.7),
            "PREFIX": _lookup(("Mr.", "Mrs.", "Ms."), np.where(male, 0, np.where(married_woman, 1, 2))),
            "FIRST": numbered(name_pool, sex_offset + rng.integers(0, per_sex, n)),
            "MIDDLE": some(numbered(name_pool, sex_offset + rng.integers(0, per_sex, n)), rng.random(n) < 0.7),
            "LAST": numbered(pa.array(LAST_NAMES), rng.integers(0, len(LAST_NAMES), n)),
            "MAIDEN": some(numbered(pa.array(LAST_NAMES), rng.integers(0, len(LAST_NAMES), n)), married_woman),
            "MARITAL": _lookup(("M", "S", "D", "W"), marital),
            "RACE": _lookup(RACES, cohort.race),
            "ETHNICITY": _lookup(("nonhispanic", "hispanic"), cohort.hispanic),
            "GENDER": _lookup(("F", "M"), male),
            "BIRTHPLACE": _lookup([f"{c[0]}  {STATE}  US" for c in CITIES], rng.integers(0, len(CITIES), n)),
            "ADDRESS": pc.binary_join_element_wise(house, street, " "),
            "CITY": _lookup([c[0] for c in CITIES], city),
            "STATE": _lookup((STATE,), np.zeros(n)),
            "COUNTY": _lookup([c[1] for c in CITIES], city),
            "FIPS": _lookup([c[2] for c in CITIES], city),
            "ZIP": _lookup([c[3] for c in CITIES], city),
            "LAT": np.array([c[4] for c in CITIES])[city] + rng.normal(0, 0.05, n),
            "LON": np.array([c[5] for c in CITIES])[city] + rng.normal(0, 0.05, n),
            "HEALTHCARE_EXPENSES": _money(rng.lognormal(11.5, 0.8, n)),
            "HEALTHCARE_COVERAGE": _money(rng.lognormal(10.5, 1.0, n)),
            "INCOME": np.round(rng.lognormal(10.9, 0.6, n)).astype(np.int64),
        },
    )


def _encounter_costs(rng: np.random.Generator, encounters: _Encounters) -> np.ndarray:
    """Total claim cost: the class's base cost, per day for hospital stays, plus extras."""
    base = np.array([c[3] for c in ENCOUNTER_CLASSES])[encounters.kind]
    days = np.where(encounters.kind == INPATIENT, np.ceil((encounters.stop_s - encounters.start_s) / DAY), 1)
    return _money(base * days * rng.lognormal(0.3, 0.3, len(encounters)))


def _encounters_table(cohort: _Cohort, encounters: _Encounters, ids: _Identifiers, total_cost: np.ndarray) -> pa.Table:
    kind = encounters.kind
    return _table(
        "encounters",
        len(encounters),
        {
            "Id": ids.encounter,
            "START": _timestamps(encounters.start_s),
            "STOP": _timestamps(encounters.stop_s),
            "PATIENT": ids.patient.take(encounters.patient),
            "ORGANIZATION": ids.organization.take(encounters.organization),
            "PROVIDER": ids.provider.take(encounters.provider),
            "PAYER": ids.payer.take(cohort.payer[encounters.patient]),
            "ENCOUNTERCLASS": _lookup([c[0] for c in ENCOUNTER_CLASSES], kind),
            "CODE": _lookup([c[1] for c in ENCOUNTER_CLASSES], kind),
            "DESCRIPTION": _lookup([c[2] for c in ENCOUNTER_CLASSES], kind),
            "BASE_ENCOUNTER_COST": np.array([c[3] for c in ENCOUNTER_CLASSES])[kind],
            "TOTAL_CLAIM_COST": total_cost,
            "PAYER_COVERAGE": _money(total_cost * _coverage(cohort, encounters.patient)),
            "REASONCODE": _lookup(CONDITION_CODES, encounters.reason),
            "REASONDESCRIPTION": _lookup(list(CONDITIONS.values()), encounters.reason),
        },
    )


def _in_visit_order(events: _Events, encounters: _Encounters, moment: str) -> dict[str, np.ndarray]:
    """Event columns sorted by encounter (so by patient), time and code, as an exporter
    writes them. One packed integer key: a 3-key lexsort is 4x slower at this size."""
    visit = events["encounter"]
    offset = events[moment] - encounters.start_s[visit]  # < 2**20 s: stays last < 12 days
    order = np.argsort((visit << 26) | (offset << 6) | events["code"], kind="stable")
    return {field: events[field][order] for field in events.fields}


def _conditions_table(events: _Events, encounters: _Encounters, ids: _Identifiers) -> pa.Table:
    rows = _in_visit_order(events, encounters, "start_s")
    visit, code, stop_s = rows["encounter"], rows["code"], rows["stop_s"]
    return _table(
        "conditions",
        len(visit),
        {
            "START": _dates(rows["start_s"]),
            "STOP": _dates(np.maximum(stop_s, 0), valid=stop_s >= 0),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "SYSTEM": _lookup((SNOMED,), np.zeros(len(visit))),
            "CODE": _lookup(CONDITION_CODES, code),
            "DESCRIPTION": _lookup(list(CONDITIONS.values()), code),
        },
    )


def _medications_table(
    events: _Events, cohort: _Cohort, encounters: _Encounters, ids: _Identifiers, window: _Window
) -> pa.Table:
    rows = _in_visit_order(events, encounters, "start_s")
    visit, code, reason = rows["encounter"], rows["code"], rows["reason"]
    start_s, stop_s = rows["start_s"], rows["stop_s"]
    patient = encounters.patient[visit]
    covered_until = np.where(stop_s >= 0, stop_s, window.end_s)
    dispenses = np.maximum(np.ceil((covered_until - start_s) / (30.44 * DAY)), 1).astype(np.int64)
    base_cost = np.array([m[1] for m in MEDICATIONS.values()])[code]
    total = _money(base_cost * dispenses)
    return _table(
        "medications",
        len(visit),
        {
            "START": _timestamps(start_s),
            "STOP": _timestamps(np.maximum(stop_s, 0), valid=stop_s >= 0),
            "PATIENT": ids.patient.take(patient),
            "PAYER": ids.payer.take(cohort.payer[patient]),
            "ENCOUNTER": ids.encounter.take(visit),
            "CODE": _lookup(MEDICATION_CODES, code),
            "DESCRIPTION": _lookup([m[0] for m in MEDICATIONS.values()], code),
            "BASE_COST": base_cost,
            "PAYER_COVERAGE": _money(total * _coverage(cohort, patient)),
            "DISPENSES": dispenses,
            "TOTALCOST": total,
            "REASONCODE": _lookup(CONDITION_CODES, reason),
            "REASONDESCRIPTION": _lookup(list(CONDITIONS.values()), reason),
        },
    )


def _observations_table(events: _Events, encounters: _Encounters, ids: _Identifiers) -> pa.Table:
    rows = _in_visit_order(events, encounters, "date_s")
    visit, code, value = rows["encounter"], rows["code"], rows["value"]
    scale = 10.0 ** np.array([o[3] for o in OBSERVATIONS.values()])[code]
    text = code == OBSERVATION_CODES.index(SMOKING_STATUS)
    numeric = np.flatnonzero(~text)
    worded = np.flatnonzero(text)
    # Numbers and words are formatted apart, then put back in row order.
    values = pa.concat_arrays(
        [
            pc.cast(pa.array(np.round(value[numeric] * scale[numeric]) / scale[numeric]), pa.string()),
            pa.array(SMOKING_STATUSES).take(value[worded].astype(np.int64)),
        ]
    )
    row_order = np.empty(len(visit), dtype=np.int64)
    row_order[np.concatenate([numeric, worded])] = np.arange(len(visit))
    return _table(
        "observations",
        len(visit),
        {
            "DATE": _timestamps(rows["date_s"]),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "CATEGORY": _lookup([o[2] for o in OBSERVATIONS.values()], code),
            "CODE": _lookup(OBSERVATION_CODES, code),
            "DESCRIPTION": _lookup([o[0] for o in OBSERVATIONS.values()], code),
            "VALUE": values.take(row_order),
            "UNITS": _lookup([o[1] or None for o in OBSERVATIONS.values()], code),
            "TYPE": _lookup(("numeric", "text"), text),
        },
    )


def _procedures_table(events: _Events, encounters: _Encounters, ids: _Identifiers) -> pa.Table:
    rows = _in_visit_order(events, encounters, "start_s")
    visit, code, reason = rows["encounter"], rows["code"], rows["reason"]
    return _table(
        "procedures",
        len(visit),
        {
            "START": _timestamps(rows["start_s"]),
            "STOP": _timestamps(rows["stop_s"]),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "SYSTEM": _lookup((SNOMED,), np.zeros(len(visit))),
            "CODE": _lookup(PROCEDURE_CODES, code),
            "DESCRIPTION": _lookup([p[0] for p in PROCEDURES.values()], code),
            "BASE_COST": np.array([p[1] for p in PROCEDURES.values()])[code],
            "REASONCODE": _lookup(CONDITION_CODES, reason),
            "REASONDESCRIPTION": _lookup(list(CONDITIONS.values()), reason),
        },
    )


def _immunizations_table(events: _Events, encounters: _Encounters, ids: _Identifiers) -> pa.Table:
    rows = _in_visit_order(events, encounters, "date_s")
    visit, code = rows["encounter"], rows["code"]
    return _table(
        "immunizations",
        len(visit),
        {
            "DATE": _timestamps(rows["date_s"]),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "CODE": _lookup(IMMUNIZATION_CODES, code),
            "DESCRIPTION": _lookup([i[0] for i in IMMUNIZATIONS.values()], code),
            "BASE_COST": np.array([i[1] for i in IMMUNIZATIONS.values()])[code],
        },
    )


def _allergies_table(rng: np.random.Generator, encounters: _Encounters, ids: _Identifiers) -> pa.Table:
    """A few known allergies, recorded at the patient's first encounter of the extract."""
    first = np.flatnonzero(_starts_run(encounters.patient))
    visit = first[rng.random(len(first)) < 0.06]
    allergy = rng.integers(0, len(ALLERGIES), len(visit))

    def field(i: int) -> pa.Array:
        return _lookup([a[i] for a in ALLERGIES], allergy)

    return _table(
        "allergies",
        len(visit),
        {
            "START": _dates(encounters.start_s[visit]),
            "PATIENT": ids.patient.take(encounters.patient[visit]),
            "ENCOUNTER": ids.encounter.take(visit),
            "CODE": field(0),
            "SYSTEM": field(1),
            "DESCRIPTION": field(2),
            "TYPE": field(3),
            "CATEGORY": field(4),
            "REACTION1": field(5),
            "DESCRIPTION1": field(6),
            "SEVERITY1": field(7),
        },
    )


def _site_tables(
    rng: np.random.Generator,
    encounters: _Encounters,
    ids: _Identifiers,
    total_cost: np.ndarray,
    procedure_visits: np.ndarray,
) -> tuple[pa.Table, pa.Table]:
    """Organizations (the sites) and their providers, with utilisation counted from the data."""
    sites = len(ids.organization)
    site = np.arange(sites)
    city = site % len(CITIES)
    street = _digits("000", ((0, 3, rng.integers(1, 1000, sites)),))
    address = pc.binary_join_element_wise(street, pa.array(STREETS).take(rng.integers(0, len(STREETS), sites)), " ")
    lat = np.array([c[4] for c in CITIES])[city]
    lon = np.array([c[5] for c in CITIES])[city]
    organizations = _table(
        "organizations",
        sites,
        {
            "Id": ids.organization,
            "NAME": pa.array([f"{CITIES[s % len(CITIES)][0]} {SITE_KINDS[s // len(CITIES) % 3]}" for s in site]),
            "ADDRESS": address,
            "CITY": _lookup([c[0] for c in CITIES], city),
            "STATE": _lookup((STATE_CODE,), np.zeros(sites)),
            "ZIP": _lookup([c[3] for c in CITIES], city),
            "LAT": lat,
            "LON": lon,
            "PHONE": _digits(
                "617-000-0000", ((4, 3, rng.integers(200, 1000, sites)), (8, 4, rng.integers(0, 10_000, sites)))
            ),
            "REVENUE": _money(np.bincount(encounters.organization, total_cost, sites)),
            "UTILIZATION": np.bincount(encounters.organization, minlength=sites),
            "NPI": _digits("0000000000", ((0, 10, rng.integers(10**9, 10**10, sites)),)),
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
    providers = _table(
        "providers",
        count,
        {
            "Id": ids.provider,
            "ORGANIZATION": ids.organization.take(works_at),
            "NAME": pc.binary_join_element_wise(first, last, " "),
            "GENDER": _lookup(("F", "M"), male),
            "SPECIALITY": _lookup([b[0] for b in PROVIDER_BANDS], band),
            "ADDRESS": address.take(works_at),
            "CITY": _lookup([c[0] for c in CITIES], city[works_at]),
            "STATE": _lookup((STATE_CODE,), np.zeros(count)),
            "ZIP": _lookup([c[3] for c in CITIES], city[works_at]),
            "LAT": lat[works_at],
            "LON": lon[works_at],
            "ENCOUNTERS": np.bincount(encounters.provider, minlength=count),
            "PROCEDURES": np.bincount(encounters.provider[procedure_visits], minlength=count),
            "NPI": _digits("0000000000", ((0, 10, rng.integers(10**9, 10**10, count)),)),
        },
    )
    return organizations, providers


def _payer_tables(
    cohort: _Cohort,
    encounters: _Encounters,
    ids: _Identifiers,
    patients: pa.Table,
    window: _Window,
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
    coverage = _coverage(cohort, encounters.patient)
    member_months = np.bincount(
        cohort.payer, np.maximum(cohort.active_end_s - window.start_s, 0) / (30.44 * DAY), payers
    )
    counts = {}
    for kind, visits in {"ENCOUNTERS": np.arange(len(encounters)), **billed_visits}.items():
        counts[f"COVERED_{kind}"], counts[f"UNCOVERED_{kind}"] = split(visits)
    payer_table = _table(
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
            "AMOUNT_COVERED": _money(np.bincount(payer_of_visit, total_cost * coverage, payers)),
            "AMOUNT_UNCOVERED": _money(np.bincount(payer_of_visit, total_cost * (1 - coverage), payers)),
            "REVENUE": _money(member_months * 310.0 * covered),
            **counts,
            "UNIQUE_CUSTOMERS": np.bincount(cohort.payer, minlength=payers),
            "QOLS_AVG": np.full(payers, 0.85),
            "MEMBER_MONTHS": np.round(member_months).astype(np.int64),
        },
    )

    n = cohort.size
    transitions = _table(
        "payer_transitions",
        n,
        {
            "PATIENT": ids.patient,
            "MEMBERID": member_ids,
            "START_DATE": _timestamps(np.full(n, window.start_s)),
            "END_DATE": _timestamps(cohort.active_end_s - 1),
            "PAYER": ids.payer.take(cohort.payer),
            "PLAN_OWNERSHIP": _lookup(("Self",), np.zeros(n)),
            "OWNER_NAME": pc.binary_join_element_wise(patients["FIRST"], patients["LAST"], " ").combine_chunks(),
        },
    )
    return payer_table, transitions


def _generate_tables(n: int, seed: int, sites: int, window: _Window, drift: DriftSpec) -> Tables:
    """Every file of the extract as an in-memory table, in exporter column order.

    Independent random streams per stage keep identifiers stable when only the clinical
    model (e.g. drift) changes, and keep each stage reproducible on its own.
    """
    naming, population, utilisation, clinical, identity = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    cohort = _make_cohort(population, n, sites, window, drift)
    encounters, stays = _make_encounters(utilisation, cohort, window, sites)
    ids = _Identifiers(
        patient=_uuids(naming, n),
        encounter=_uuids(naming, len(encounters)),
        organization=_uuids(naming, sites),
        provider=_uuids(naming, sites * PROVIDERS_PER_SITE),
        payer=_uuids(naming, len(PAYERS)),
    )
    member_ids = _uuids(naming, n)

    diagnoses, diagnosed_at = _diagnoses(clinical, cohort, encounters, window)
    prescriptions = _prescriptions(clinical, cohort, encounters, diagnosed_at, window)
    interventions = _interventions(clinical, cohort, encounters)
    measurements = _measurements(clinical, cohort, encounters, stays, drift)
    vaccinations = _vaccinations(clinical, cohort, encounters)
    total_cost = _encounter_costs(clinical, encounters)

    tables: Tables = {
        "patients": _patients_table(identity, cohort, ids),
        "encounters": _encounters_table(cohort, encounters, ids, total_cost),
        "conditions": _conditions_table(diagnoses, encounters, ids),
        "medications": _medications_table(prescriptions, cohort, encounters, ids, window),
        "observations": _observations_table(measurements, encounters, ids),
        "procedures": _procedures_table(interventions, encounters, ids),
        "immunizations": _immunizations_table(vaccinations, encounters, ids),
        "allergies": _allergies_table(clinical, encounters, ids),
        # Synthea writes the file even when no device was implanted; the demo population has none.
        "devices": _table("devices", 0, {}),
    }
    tables["organizations"], tables["providers"] = _site_tables(
        identity, encounters, ids, total_cost, interventions["encounter"]
    )
    tables["payers"], tables["payer_transitions"] = _payer_tables(
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
    return tables


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

_CSV_STRUCTURAL = (b",", b'"', b"\n", b"\r")


def _needs_quotes(table: pa.Table) -> bool:
    """Whether any text value contains a delimiter, quote or line break."""
    for column in table.columns:
        for chunk in column.chunks:
            if pa.types.is_dictionary(chunk.type):
                chunk = chunk.dictionary
            text_type = pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)
            if text_type and chunk.buffers()[2] is not None:
                text = chunk.buffers()[2].to_pybytes()
                if any(char in text for char in _CSV_STRUCTURAL):
                    return True
    return False


def _write_csv(path: Path, table: pa.Table, may_need_quotes: bool) -> None:
    """RFC 4180 CSV with an unquoted header, empty fields for nulls and, like Synthea's own
    exporter, unquoted values; should a value need quoting (e.g. one injected by a defect),
    every text value of that file is quoted, which is equally valid."""
    quoting = "needed" if may_need_quotes and _needs_quotes(table) else "none"
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style=quoting))
