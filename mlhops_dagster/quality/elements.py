"""ML-DQA data elements: the model's inputs declared as elements, with the rules that make them usable.

Sendak et al.'s ML-DQA groups raw fields into *data elements* (a lab, a vital, a diagnosis
group, a medication group), assigns checks per element and applies rules-based
transformations before modelling. Here:

- a :class:`MeasurementElement` (a lab or vital) names the measurement concepts that feed
  it, its canonical UCUM unit, the unit conversions it accepts and its plausible range (in
  the canonical unit; the same range as the DQD plausibleValueLow/High check of
  :data:`mlhops_dagster.quality.plausibility.VALUE_RANGES`, so check and transformation agree);
- a :class:`ConceptSetElement` (a diagnosis or medication group) names its concepts.

:func:`element_values_sql` is the transformation, as one portable SQL statement (DuckDB and
PostgreSQL): each measurement row of an element gets its recorded unit (the UCUM code of
``unit_concept_id`` when known, else ``unit_source_value``), a harmonised value in the
canonical unit, and a rule: ``as_recorded`` (already canonical), ``converted``,
``unit_assumed`` (no unit recorded: taken as canonical), ``unit_unknown`` (a unit with no known
conversion: value set to NULL), ``implausible`` (outside the range
after harmonisation: NULL) or ``no_value``. The feature stage reads the harmonised values
through this statement, and :func:`summarise_measurement_elements` counts each rule, so the
report says how many values were converted or set to NULL and why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pandas as pd

from mlhops_dagster.quality.introspection import introspect_columns
from mlhops_dagster.quality.plausibility import VALUE_RANGES

logger = logging.getLogger(__name__)

RULES = ("as_recorded", "converted", "unit_assumed", "unit_unknown", "implausible", "no_value")
"""What happened to a measurement row of an element (a value survives only under the first three):
``unit_assumed`` = no unit recorded, the value is taken in the canonical unit (still range-checked)."""

UNIT_CODES: dict[int, str] = {
    8840: "mg/dL",
    8753: "mmol/L",
    8749: "umol/L",
    8713: "g/dL",
    8636: "g/L",
    8751: "mg/L",
    8554: "%",
    9579: "mmol/mol",
    9529: "kg",
    8739: "[lb_av]",
    8504: "g",
    8582: "cm",
    9327: "[in_i]",
    9330: "[in_us]",
    9546: "m",
    586323: "Cel",
    9289: "[degF]",
    8876: "mm[Hg]",
    9531: "kg/m2",
    8541: "/min",
    8483: "{counts}/min",
    8848: "10*3/uL",
    8961: "10*3/mm3",
    9444: "10*9/L",
    9557: "meq/L",
}
"""UCUM unit concepts (OMOP concept id -> UCUM code): a row's unit is the code of its unit_concept_id
when listed here, else its unit_source_value (how Synthea and most sources write units)."""


@dataclass(frozen=True)
class Conversion:
    """``canonical = recorded * factor + shift`` for values recorded in ``unit`` (a UCUM code)."""

    unit: str
    factor: float
    shift: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class MeasurementElement:
    """A lab or vital: its concepts, canonical unit, accepted conversions and plausible range."""

    id: str
    description: str
    concept_ids: tuple[int, ...]
    unit: str  # canonical UCUM code ("" for unitless scores)
    low: float
    high: float
    range_source: str
    conversions: tuple[Conversion, ...] = ()

    def accepted(self) -> tuple[Conversion, ...]:
        """The canonical unit (factor 1) and every conversion, each with its recorded unit."""
        return (Conversion(self.unit, 1.0), *self.conversions)


@dataclass(frozen=True)
class ConceptSetElement:
    """A diagnosis, medication or observation group: the concepts whose records make it present."""

    id: str
    description: str
    table: str  # condition_occurrence | drug_exposure | observation
    concept_ids: tuple[int, ...]
    chronic: bool = False


# Molar masses and conversion factors: Tietz Textbook of Laboratory Medicine, SI conversion tables.
_SI = "SI conversion (Tietz)"
_MG_DL_PER_MMOL_L = {
    "glucose": 18.016,
    "urea_nitrogen": 2.801,
    "calcium": 4.008,
    "cholesterol": 38.67,
    "triglycerides": 88.57,
}

# element id (= VALUE_RANGES label): (description, canonical UCUM unit, conversions)
_MEASUREMENTS: dict[str, tuple[str, str, tuple[Conversion, ...]]] = {
    "systolic_bp": ("systolic blood pressure", "mm[Hg]", ()),
    "diastolic_bp": ("diastolic blood pressure", "mm[Hg]", ()),
    "heart_rate": ("heart rate", "/min", (Conversion("{beats}/min", 1.0), Conversion("{counts}/min", 1.0))),
    "respiratory_rate": (
        "respiratory rate",
        "/min",
        (Conversion("{breaths}/min", 1.0), Conversion("{counts}/min", 1.0)),
    ),
    "body_weight": (
        "body weight",
        "kg",
        (Conversion("[lb_av]", 0.45359237, source="UCUM"), Conversion("g", 0.001, source="UCUM")),
    ),
    "body_height": (
        "body height",
        "cm",
        (
            Conversion("[in_i]", 2.54, source="UCUM"),
            Conversion("[in_us]", 2.540005, source="UCUM"),
            Conversion("m", 100.0, source="UCUM"),
        ),
    ),
    "bmi": ("body mass index", "kg/m2", ()),
    "body_temperature": ("body temperature", "Cel", (Conversion("[degF]", 5 / 9, -160 / 9, source="UCUM"),)),
    "pain_score": ("pain severity (0-10)", "{score}", ()),
    "sodium": ("sodium", "mmol/L", (Conversion("meq/L", 1.0, source=_SI + ": monovalent"),)),
    "potassium": ("potassium", "mmol/L", (Conversion("meq/L", 1.0, source=_SI + ": monovalent"),)),
    "chloride": ("chloride", "mmol/L", (Conversion("meq/L", 1.0, source=_SI + ": monovalent"),)),
    "carbon_dioxide": ("carbon dioxide, total", "mmol/L", (Conversion("meq/L", 1.0, source=_SI),)),
    "glucose": ("glucose", "mg/dL", (Conversion("mmol/L", _MG_DL_PER_MMOL_L["glucose"], source=_SI),)),
    "urea_nitrogen": (
        "urea nitrogen",
        "mg/dL",
        (Conversion("mmol/L", _MG_DL_PER_MMOL_L["urea_nitrogen"], source=_SI),),
    ),
    "creatinine": (
        "creatinine",
        "mg/dL",
        (Conversion("umol/L", 1 / 88.42, source=_SI), Conversion("mmol/L", 1000 / 88.42, source=_SI)),
    ),
    "calcium": ("calcium", "mg/dL", (Conversion("mmol/L", _MG_DL_PER_MMOL_L["calcium"], source=_SI),)),
    "hemoglobin": (
        "hemoglobin",
        "g/dL",
        (Conversion("g/L", 0.1, source="UCUM"), Conversion("mmol/L", 1.611, source=_SI + ": Hb monomer")),
    ),
    "hba1c": ("hemoglobin A1c", "%", (Conversion("mmol/mol", 0.09148, 2.152, source="IFCC-NGSP master equation"),)),
    "leukocytes": (
        "leukocytes",
        "10*3/uL",
        (Conversion("10*9/L", 1.0, source="UCUM"), Conversion("10*3/mm3", 1.0, source="UCUM")),
    ),
    "platelets": (
        "platelets",
        "10*3/uL",
        (Conversion("10*9/L", 1.0, source="UCUM"), Conversion("10*3/mm3", 1.0, source="UCUM")),
    ),
    "cholesterol_total": (
        "total cholesterol",
        "mg/dL",
        (Conversion("mmol/L", _MG_DL_PER_MMOL_L["cholesterol"], source=_SI),),
    ),
    "cholesterol_hdl": (
        "HDL cholesterol",
        "mg/dL",
        (Conversion("mmol/L", _MG_DL_PER_MMOL_L["cholesterol"], source=_SI),),
    ),
    "cholesterol_ldl": (
        "LDL cholesterol",
        "mg/dL",
        (Conversion("mmol/L", _MG_DL_PER_MMOL_L["cholesterol"], source=_SI),),
    ),
    "triglycerides": (
        "triglycerides",
        "mg/dL",
        (Conversion("mmol/L", _MG_DL_PER_MMOL_L["triglycerides"], source=_SI),),
    ),
}


def _measurement_elements() -> tuple[MeasurementElement, ...]:
    ranges = {r.label: r for r in VALUE_RANGES}
    if set(ranges) != set(_MEASUREMENTS):
        raise ValueError(f"elements and VALUE_RANGES disagree: {sorted(set(ranges) ^ set(_MEASUREMENTS))}")
    elements = []
    for element_id, (description, unit, conversions) in _MEASUREMENTS.items():
        r = ranges[element_id]
        if r.unit_concept_id is not None and UNIT_CODES.get(r.unit_concept_id) != unit:
            raise ValueError(f"element {element_id}: range unit {r.unit_concept_id} is not its canonical unit {unit}")
        elements.append(
            MeasurementElement(element_id, description, (r.concept_id,), unit, r.low, r.high, r.source, conversions)
        )
    return tuple(elements)


MEASUREMENT_ELEMENTS: tuple[MeasurementElement, ...] = _measurement_elements()

CONCEPT_SET_ELEMENTS: tuple[ConceptSetElement, ...] = (
    ConceptSetElement("hypertension", "essential hypertension", "condition_occurrence", (320128,), True),
    ConceptSetElement("type2_diabetes", "type 2 diabetes mellitus", "condition_occurrence", (201826,), True),
    ConceptSetElement(
        "prediabetes", "prediabetes / impaired glucose tolerance", "condition_occurrence", (4311629, 40316773), True
    ),
    ConceptSetElement("anemia", "anemia", "condition_occurrence", (439777,), True),
    ConceptSetElement("hyperlipidemia", "hyperlipidemia", "condition_occurrence", (432867,), True),
    ConceptSetElement("myocardial_infarction", "myocardial infarction", "condition_occurrence", (4329847,)),
    ConceptSetElement(
        "coronary_arteriosclerosis", "coronary arteriosclerosis", "condition_occurrence", (317576,), True
    ),
    ConceptSetElement("cardiac_arrest", "cardiac arrest", "condition_occurrence", (321042,)),
    ConceptSetElement("hypoxemia", "hypoxemia", "condition_occurrence", (437390,)),
    ConceptSetElement(
        "emphysematous_bronchitis", "emphysematous bronchitis (COPD)", "condition_occurrence", (258780,), True
    ),
    ConceptSetElement("chronic_pain", "chronic pain", "condition_occurrence", (436096,), True),
    ConceptSetElement("chronic_sinusitis", "chronic sinusitis", "condition_occurrence", (257012,), True),
    ConceptSetElement("obesity", "obesity (an observation-domain finding)", "observation", (4060985,), True),
    ConceptSetElement(
        "antihypertensive",
        "an antihypertensive (lisinopril, amlodipine, hydrochlorothiazide)",
        "drug_exposure",
        (19080128, 1332419, 19073094, 19078106),
    ),
    ConceptSetElement("statin", "a statin (atorvastatin, simvastatin)", "drug_exposure", (1545959, 1539411, 1539463)),
    ConceptSetElement("antiplatelet", "an antiplatelet (clopidogrel)", "drug_exposure", (19075601,)),
    ConceptSetElement("nitrate", "a nitrate (nitroglycerin)", "drug_exposure", (19126352,)),
    ConceptSetElement("anticoagulant", "an anticoagulant (enoxaparin)", "drug_exposure", (40160973,)),
    ConceptSetElement("bronchodilator", "a bronchodilator (albuterol)", "drug_exposure", (1511248,)),
    ConceptSetElement(
        "inhaled_corticosteroid", "an inhaled corticosteroid (fluticasone)", "drug_exposure", (40169216,)
    ),
    ConceptSetElement("iron", "oral iron (ferrous sulfate)", "drug_exposure", (19077344,)),
)
"""Diagnosis, observation and medication groups (RxNorm clinical drugs of each class)."""

_CONCEPT_COLUMN = {
    "condition_occurrence": "condition_concept_id",
    "drug_exposure": "drug_concept_id",
    "observation": "observation_concept_id",
}
MEASUREMENT_COLUMNS = ("person_id", "measurement_concept_id", "measurement_date", "value_as_number")
"""The measurement columns the transformation needs; the optional ones below read as NULL when absent."""
_OPTIONAL_COLUMNS = {
    "measurement_id": "BIGINT",
    "measurement_datetime": "TIMESTAMP",
    "visit_occurrence_id": "BIGINT",
    "unit_concept_id": "BIGINT",
    "unit_source_value": "VARCHAR",
}


def element(element_id: str) -> MeasurementElement | ConceptSetElement:
    elements: tuple[MeasurementElement | ConceptSetElement, ...] = (*MEASUREMENT_ELEMENTS, *CONCEPT_SET_ELEMENTS)
    for e in elements:
        if e.id == element_id:
            return e
    raise KeyError(f"unknown data element {element_id!r}")


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _num(value: float) -> str:
    return f"CAST({float(value)!r} AS DOUBLE PRECISION)"


def element_values_sql(
    schema: str, elements: Sequence[MeasurementElement] = MEASUREMENT_ELEMENTS, columns: Collection[str] | None = None
) -> str:
    """One row per measurement row of an element, with its recorded unit, harmonised value and rule.

    Columns: the measurement's person_id, measurement_id, measurement_concept_id, measurement_date,
    measurement_datetime and visit_occurrence_id; element_id; recorded_unit; recorded_value;
    value_as_number (harmonised to ``unit``, NULL unless the rule is as_recorded or converted); unit; rule.
    Portable SQL (DuckDB and PostgreSQL); units compare case-insensitively. ``columns``: the measurement
    table's columns when some optional ones may be absent (a hand-made or partial CDM).
    """
    concepts = [(e, c) for e in elements for c in e.concept_ids]
    if len({c for _, c in concepts}) != len(concepts):
        raise ValueError("a measurement concept may feed only one data element")
    element_rows = ", ".join(
        f"({_text(e.id)}, {int(c)}, {_text(e.unit)}, {_num(e.low)}, {_num(e.high)})" for e, c in concepts
    )
    unit_rows = ", ".join(f"({int(cid)}, {_text(code.lower())})" for cid, code in UNIT_CODES.items())
    conversion_rows = ", ".join(
        f"({_text(e.id)}, {_text(cv.unit.lower())}, {_num(cv.factor)}, {_num(cv.shift)})"
        for e in elements
        for cv in e.accepted()
    )

    def col(name: str) -> str:
        present = columns is None or name in columns
        return f"m.{name}" if present else f"CAST(NULL AS {_OPTIONAL_COLUMNS[name]})"

    conversion_rows += ", " + ", ".join(f"({_text(e.id)}, '', {_num(1)}, {_num(0)})" for e in elements)
    recorded_unit = f"lower(coalesce(uc.code, nullif(trim({col('unit_source_value')}), ''), ''))"
    return f"""SELECT r.person_id, r.measurement_id, r.measurement_concept_id, r.measurement_date, r.measurement_datetime,
       r.visit_occurrence_id, r.element_id, r.recorded_unit, r.recorded_value,
       CASE WHEN r.harmonised IS NOT NULL AND r.harmonised BETWEEN r.low AND r.high THEN r.harmonised END
           AS value_as_number,
       r.unit,
       CASE WHEN r.recorded_value IS NULL THEN 'no_value'
            WHEN r.factor IS NULL THEN 'unit_unknown'
            WHEN r.harmonised < r.low OR r.harmonised > r.high THEN 'implausible'
            WHEN r.recorded_unit = '' THEN 'unit_assumed'
            WHEN r.recorded_unit = lower(r.unit) THEN 'as_recorded'
            ELSE 'converted' END AS rule
FROM (
    SELECT u.*, cv.factor, cv.shift, u.recorded_value * cv.factor + cv.shift AS harmonised
    FROM (
        SELECT m.person_id, {col("measurement_id")} AS measurement_id, m.measurement_concept_id, m.measurement_date,
               {col("measurement_datetime")} AS measurement_datetime,
               {col("visit_occurrence_id")} AS visit_occurrence_id, m.value_as_number AS recorded_value,
               e.element_id, e.unit, e.low, e.high, {recorded_unit} AS recorded_unit
        FROM {schema}.measurement m
        JOIN (VALUES {element_rows}) AS e(element_id, concept_id, unit, low, high)
            ON e.concept_id = m.measurement_concept_id
        LEFT JOIN (VALUES {unit_rows}) AS uc(concept_id, code) ON uc.concept_id = {col("unit_concept_id")}
    ) u
    LEFT JOIN (VALUES {conversion_rows}) AS cv(element_id, unit, factor, shift)
        ON cv.element_id = u.element_id AND cv.unit = u.recorded_unit
) r"""


def summarise_measurement_elements(
    con,
    schema: str,
    elements: Sequence[MeasurementElement] = MEASUREMENT_ELEMENTS,
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    """Per element: rows by rule, persons with a usable value, units and concepts seen (two grouped scans).

    ``columns``: the measurement table's columns; read from the database when not given."""
    if columns is None:
        columns = set(introspect_columns(con, {schema}).get((schema, "measurement"), {}))
    values = element_values_sql(schema, elements, columns)
    rows = con.execute(
        f"SELECT element_id, measurement_concept_id, recorded_unit, rule, count(*) AS n FROM ({values}) v "
        f"GROUP BY element_id, measurement_concept_id, recorded_unit, rule"
    ).fetchall()
    persons = dict(
        con.execute(
            f"SELECT element_id, count(DISTINCT person_id) FROM ({values}) v "
            f"WHERE value_as_number IS NOT NULL GROUP BY element_id"
        ).fetchall()
    )
    detail = pd.DataFrame(rows, columns=["element_id", "concept_id", "recorded_unit", "rule", "n"])
    out = []
    for e in elements:
        mine = detail[detail["element_id"] == e.id]
        by_rule = {rule: int(mine.loc[mine["rule"] == rule, "n"].sum()) for rule in RULES}
        total = sum(by_rule.values())
        units = mine.groupby("recorded_unit")["n"].sum().sort_values(ascending=False)
        with_value = total - by_rule["no_value"]
        kept = by_rule["as_recorded"] + by_rule["converted"] + by_rule["unit_assumed"]
        out.append(
            {
                "element_id": e.id,
                "kind": "measurement",
                "cdm_table": "measurement",
                "description": e.description,
                "unit": e.unit,
                "plausible_range": f"{e.low:g}-{e.high:g}",
                "concepts_defined": len(e.concept_ids),
                "concepts_seen": int(mine["concept_id"].nunique()),
                "units_seen": ", ".join(f"{u or '(none)'}: {int(n)}" for u, n in units.items()),
                "rows": total,
                **{f"rows_{rule}": n for rule, n in by_rule.items()},
                "kept": kept,
                "kept_pct": round(100.0 * kept / with_value, 3) if with_value else None,
                "persons": int(persons.get(e.id, 0)),
            }
        )
    return pd.DataFrame(out)


def summarise_concept_sets(
    con, schema: str, elements: Sequence[ConceptSetElement] = CONCEPT_SET_ELEMENTS
) -> pd.DataFrame:
    """Per diagnosis / medication group: records, persons, and which of its concepts occur (one scan per table)."""
    n_persons = int(con.execute(f"SELECT count(*) FROM {schema}.person").fetchall()[0][0])
    out = []
    for table in sorted({e.table for e in elements}):
        mine = [e for e in elements if e.table == table]
        rows = ", ".join(f"({_text(e.id)}, {int(c)})" for e in mine for c in e.concept_ids)
        column = _CONCEPT_COLUMN[table]
        counts = {
            r[0]: r[1:]
            for r in con.execute(
                f"SELECT g.element_id, count(*), count(DISTINCT x.person_id), count(DISTINCT x.{column}) "
                f"FROM {schema}.{table} x JOIN (VALUES {rows}) AS g(element_id, concept_id) ON g.concept_id = x.{column} "
                f"GROUP BY g.element_id"
            ).fetchall()
        }
        for e in mine:
            records, persons, seen = counts.get(e.id, (0, 0, 0))
            out.append(
                {
                    "element_id": e.id,
                    "kind": "concept_set",
                    "cdm_table": table,
                    "description": e.description,
                    "concepts_defined": len(e.concept_ids),
                    "concepts_seen": int(seen),
                    "rows": int(records),
                    "persons": int(persons),
                    "persons_pct": round(100.0 * int(persons) / n_persons, 3) if n_persons else None,
                }
            )
    order = {e.id: i for i, e in enumerate(elements)}
    return pd.DataFrame(out).sort_values("element_id", key=lambda s: s.map(order)).reset_index(drop=True)


SUMMARY_COLUMNS = (
    ("run_id", "VARCHAR"),
    ("computed_at", "TIMESTAMP"),
    ("element_id", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("cdm_table", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("rows", "BIGINT"),
    ("rows_as_recorded", "BIGINT"),
    ("rows_converted", "BIGINT"),
    ("rows_unit_assumed", "BIGINT"),
    ("rows_unit_unknown", "BIGINT"),
    ("rows_implausible", "BIGINT"),
    ("rows_no_value", "BIGINT"),
    ("kept_pct", "DOUBLE PRECISION"),
    ("persons", "BIGINT"),
    ("persons_pct", "DOUBLE PRECISION"),
    ("concepts_defined", "BIGINT"),
    ("concepts_seen", "BIGINT"),
    ("units_seen", "VARCHAR"),
)


def persist_summary(con, run_id: str, summary: pd.DataFrame) -> None:
    """Append this run's element summary to ``quality.data_elements`` (portable DDL; every run is kept)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS quality")
    con.execute(
        "CREATE TABLE IF NOT EXISTS quality.data_elements ("
        + ", ".join(f"{name} {kind}" for name, kind in SUMMARY_COLUMNS)
        + ")"
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    names = [name for name, _ in SUMMARY_COLUMNS]
    records = []
    for row in summary.to_dict("records"):
        values = {"run_id": run_id, "computed_at": now, **row}
        records.append([None if pd.isna(values.get(n)) else values.get(n) for n in names])
    con.executemany(
        f"INSERT INTO quality.data_elements ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})", records
    )
    logger.info("kept the summary of %d data elements of run %s in quality.data_elements", len(records), run_id)


MEASUREMENT_REPORT_COLUMNS = (
    "element_id",
    "unit",
    "plausible_range",
    "rows",
    "kept_pct",
    "rows_converted",
    "rows_unit_assumed",
    "rows_unit_unknown",
    "rows_implausible",
    "rows_no_value",
    "persons",
    "units_seen",
)
CONCEPT_SET_REPORT_COLUMNS = (
    "element_id",
    "cdm_table",
    "rows",
    "persons",
    "persons_pct",
    "concepts_seen",
    "concepts_defined",
)


def measurement_report(measurements: pd.DataFrame) -> pd.DataFrame:
    """Labs and vitals, those with most values set to NULL (unit unknown or implausible) first."""
    nulled = measurements["rows_unit_unknown"] + measurements["rows_implausible"]
    ordered = measurements.assign(nulled=nulled).sort_values(["nulled", "element_id"], ascending=[False, True])
    return ordered[list(MEASUREMENT_REPORT_COLUMNS)].reset_index(drop=True)


def concept_set_report(concept_sets: pd.DataFrame) -> pd.DataFrame:
    """Diagnosis, observation and medication groups: records, persons, concepts seen of those defined."""
    return concept_sets[list(CONCEPT_SET_REPORT_COLUMNS)].reset_index(drop=True)
