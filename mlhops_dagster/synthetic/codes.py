"""Demo vocabulary: the only condition, drug, observation, procedure and encounter codes emitted.

Outside defect injection the generator draws from these tables only, so the demo's OMOP mapping
is complete; descriptions are the real ones. Indices into the ``*_CODES`` tuples are what the
event builders carry until the tables are written.
"""

from __future__ import annotations

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
