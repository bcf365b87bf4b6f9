"""30-day readmission task: point-in-time correct cohort, label and features from OMOP CDM.

Everything is computed in SQL inside DuckDB (no Python row loops). The task (who is
indexed, when, how long the time-at-risk is, what counts as the outcome) lives in the
frozen :class:`ReadmissionTask`; the features live in a declarative catalogue of
:class:`FeatureSpec` rows (:data:`FEATURE_CATALOGUE`). Both are plain data so that a later
change can load them from configuration.

Cohort (one row per index stay)
-------------------------------
1. Visits with ``visit_concept_id`` in ``task.index_visit_concept_ids`` (inpatient 9201,
   ER+inpatient 262).
2. ``visit_end_date`` (discharge) present and ``>= visit_start_date``.
3. The person exists in ``person`` and is ``>= task.min_age`` full years old at discharge
   (birth date from ``birth_datetime``, else ``year/month/day_of_birth`` with missing
   month/day taken as 1).
4. Alive at discharge: no ``death_date <= visit_end_date`` (this also drops deaths during
   the stay).
5. Enough follow-up (censoring, when ``task.require_full_follow_up``): a stay with no
   observed readmission is kept only if the observation period containing the discharge
   date runs until at least ``index_date + time_at_risk_days``. Stays whose discharge lies
   in no observation period count as having no follow-up. A readmission that *was*
   observed is always kept. Deaths after discharge are not handled as a competing risk:
   such a stay is kept (label 0) if the observation period still covers the window, and
   censored otherwise.

:func:`cohort_attrition` reports how many stays survive each step.

Index date and label
--------------------
``index_date`` is the discharge date. The label (``task.label_column``, by default
``readmitted_30d``) is 1 when another visit of the same person with a concept in
``task.outcome_visit_concept_ids`` *starts* in ``(index_date, index_date + time_at_risk]``
(a same-day readmission/transfer is not counted), else 0. Every qualifying stay is an index
stay, including stays that are themselves readmissions.

Point-in-time correctness
-------------------------
Every feature uses only records dated strictly before ``index_date``; records from the
index stay itself dated before the discharge day are allowed. Prior-visit counts only count
visits that started before the index stay started (so the index stay is never "prior").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from mlhops_dagster.quality.elements import CONCEPT_SET_ELEMENTS, MEASUREMENT_COLUMNS, element, element_values_sql

FeatureKind = Literal["demographic", "event_flag", "visit_count", "latest_value", "chronic_count"]
Window = int | Literal["lookback", "history", "index"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FEATURE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


# --------------------------------------------------------------------------------------
# Task definition
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadmissionTask:
    """Parameters of the readmission prediction task (cohort, index date, time-at-risk, outcome).

    Parameters
    ----------
    time_at_risk_days
        Days after discharge in which a new outcome visit counts as a readmission.
    lookback_days
        Length of the ``"lookback"`` feature window ``[index_date - lookback_days, index_date)``.
    min_age
        Minimum age in full years at discharge.
    index_visit_concept_ids
        ``visit_concept_id`` values of the stays that form the cohort.
    outcome_visit_concept_ids
        ``visit_concept_id`` values of the visits that count as a readmission.
    require_full_follow_up
        Drop non-readmitted stays whose observation period ends before the time-at-risk does.
    """

    time_at_risk_days: int = 30
    lookback_days: int = 365
    min_age: int = 18
    index_visit_concept_ids: tuple[int, ...] = (9201, 262)
    outcome_visit_concept_ids: tuple[int, ...] = (9201, 262)
    require_full_follow_up: bool = True

    def __post_init__(self) -> None:
        for name in ("time_at_risk_days", "lookback_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"ReadmissionTask.{name} must be a positive integer, got {value!r}")
        if not isinstance(self.min_age, int) or isinstance(self.min_age, bool) or self.min_age < 0:
            raise ValueError(f"ReadmissionTask.min_age must be a non-negative integer, got {self.min_age!r}")
        for name in ("index_visit_concept_ids", "outcome_visit_concept_ids"):
            ids = getattr(self, name)
            if not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
                raise ValueError(f"ReadmissionTask.{name} must be a non-empty tuple of integers, got {ids!r}")

    @property
    def label_column(self) -> str:
        """Name of the label column, e.g. ``readmitted_30d``."""
        return f"readmitted_{self.time_at_risk_days}d"


DEFAULT_TASK = ReadmissionTask()


# --------------------------------------------------------------------------------------
# Feature catalogue
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSpec:
    """One model input column, declared as data.

    Kinds and their meaning (all windows end strictly before ``index_date``):

    ``demographic``
        ``expression`` is a SQL expression over the cohort row ``c`` (columns
        ``age_at_index``, ``gender_concept_id``, ``race_concept_id``,
        ``ethnicity_concept_id``, ``visit_start_date``, ``index_date``). ``window="index"``.
    ``event_flag``
        1 if the person has a ``source`` record with a concept in ``concept_ids`` that
        started before ``index_date`` and was still active in the window (its end date, or
        its start date when the table has no end date, is on or after the window start; a
        missing condition end date means "ongoing"), else 0.
    ``visit_count``
        Number of ``visit_occurrence`` rows with a concept in ``concept_ids`` that started
        in the window and before the index stay started.
    ``latest_value``
        ``value_as_number`` of the most recent record (by date, then datetime, then id)
        with a concept in ``concept_ids`` dated in the window; NaN when there is none.
    ``chronic_count``
        Number of ``event_flag`` features with ``chronic=True`` that are set. ``window="index"``.

    ``window`` is a number of days before ``index_date``, ``"lookback"`` (the task's
    ``lookback_days``), ``"history"`` (all prior history) or ``"index"`` (the index stay
    itself; demographic and chronic_count features only). A missing datetime counts as
    midnight of its date when ordering ``latest_value`` records.

    Example: a 30-day creatinine feature is one more row in the catalogue::

        FeatureSpec("lab_creatinine_30d", "Latest creatinine in 30 days", "latest_value",
                    "measurement", (3051825,), window=30)
    """

    id: str
    description: str
    kind: FeatureKind
    source: str
    concept_ids: tuple[int, ...] = ()
    window: Window = "lookback"
    chronic: bool = False
    expression: str | None = None

    def __post_init__(self) -> None:
        if not _FEATURE_ID.match(self.id):
            raise ValueError(f"feature id {self.id!r} must be lower-case snake_case")
        if self.kind == "demographic" and not self.expression:
            raise ValueError(f"demographic feature {self.id!r} needs an expression")
        if self.kind in ("event_flag", "visit_count", "latest_value"):
            if self.source not in _EVENT_TABLES:
                raise ValueError(f"feature {self.id!r}: unknown source table {self.source!r}")
            if not self.concept_ids:
                raise ValueError(f"feature {self.id!r} needs concept_ids")
        if (self.window == "index") != (self.kind in ("demographic", "chronic_count")):
            raise ValueError(
                f"feature {self.id!r}: window 'index' is for (only) demographic and chronic_count features"
            )
        if isinstance(self.window, int) and (isinstance(self.window, bool) or self.window <= 0):
            raise ValueError(f"feature {self.id!r}: window must be a positive number of days")

    def window_days(self, task: ReadmissionTask) -> int | None:
        """The window length in days for ``task`` (``None``: unbounded history)."""
        if self.window == "lookback":
            return task.lookback_days
        if self.window in ("history", "index"):
            return None
        return int(self.window)


@dataclass(frozen=True)
class _EventTable:
    concept: str
    start: str
    end: str | None = None
    null_end_is_ongoing: bool = False
    value: str | None = None
    datetime: str | None = None
    record_id: str | None = None
    relation: str | None = None  # a CTE the rows come from, instead of the CDM table of that name
    cdm_table: str | None = None  # the CDM table whose columns the rows need (default: the source name)


_EVENT_TABLES: dict[str, _EventTable] = {
    "condition_occurrence": _EventTable(
        "condition_concept_id", "condition_start_date", "condition_end_date", null_end_is_ongoing=True
    ),
    "drug_exposure": _EventTable("drug_concept_id", "drug_exposure_start_date", "drug_exposure_end_date"),
    "procedure_occurrence": _EventTable("procedure_concept_id", "procedure_date", "procedure_end_date"),
    "observation": _EventTable(
        "observation_concept_id",
        "observation_date",
        value="value_as_number",
        datetime="observation_datetime",
        record_id="observation_id",
    ),
    "measurement": _EventTable(
        "measurement_concept_id",
        "measurement_date",
        value="value_as_number",
        datetime="measurement_datetime",
        record_id="measurement_id",
    ),
    "visit_occurrence": _EventTable("visit_concept_id", "visit_start_date", "visit_end_date"),
    # measurement rows of the ML-DQA data elements: units harmonised, implausible values NULL
    "data_element": _EventTable(
        "measurement_concept_id",
        "measurement_date",
        value="value_as_number",
        datetime="measurement_datetime",
        record_id="measurement_id",
        relation="element_values",
        cdm_table="measurement",
    ),
}

CDM_INPUT_TABLES = ("person", "visit_occurrence", "condition_occurrence", "drug_exposure", "measurement",
                    "observation", "death", "observation_period")
"""The CDM tables the default task and catalogue read: a PostgreSQL snapshot copies these, their
data-quality checks gate the features, and a site's own CDM must provide them."""

_KNOWN_RACES = (8527, 8516, 8515)


def _demographics() -> list[FeatureSpec]:
    def demo(id_: str, description: str, expression: str) -> FeatureSpec:
        return FeatureSpec(id_, description, "demographic", "person", window="index", expression=expression)

    known = ", ".join(str(r) for r in _KNOWN_RACES)
    return [
        demo("age_at_index", "Age in full years at discharge", "c.age_at_index"),
        demo(
            "sex_male",
            "1 if gender_concept_id is 8507 (male)",
            "CASE WHEN c.gender_concept_id = 8507 THEN 1 ELSE 0 END",
        ),
        demo(
            "race_white", "1 if race_concept_id is 8527 (White)", "CASE WHEN c.race_concept_id = 8527 THEN 1 ELSE 0 END"
        ),
        demo(
            "race_black", "1 if race_concept_id is 8516 (Black)", "CASE WHEN c.race_concept_id = 8516 THEN 1 ELSE 0 END"
        ),
        demo(
            "race_asian", "1 if race_concept_id is 8515 (Asian)", "CASE WHEN c.race_concept_id = 8515 THEN 1 ELSE 0 END"
        ),
        demo(
            "race_other",
            "1 if race is none of White/Black/Asian (incl. 0 = unknown)",
            f"CASE WHEN c.race_concept_id IN ({known}) THEN 0 ELSE 1 END",
        ),
        demo(
            "ethnicity_hispanic",
            "1 if ethnicity_concept_id is 38003563 (Hispanic or Latino)",
            "CASE WHEN c.ethnicity_concept_id = 38003563 THEN 1 ELSE 0 END",
        ),
        demo(
            "length_of_stay_days",
            "Index stay length in days (discharge date - admission date)",
            "date_diff('day', c.visit_start_date, c.index_date)",
        ),
    ]


# The model's labs and vitals (ML-DQA measurement elements, by element id; feature ids keep their names)
_LAB_FEATURES: tuple[tuple[str, str], ...] = (
    ("systolic_bp", "systolic_bp"),
    ("diastolic_bp", "diastolic_bp"),
    ("heart_rate", "heart_rate"),
    ("respiratory_rate", "respiratory_rate"),
    ("body_weight", "body_weight"),
    ("bmi", "bmi"),
    ("body_temperature", "body_temperature"),
    ("creatinine", "creatinine"),
    ("glucose", "glucose"),
    ("hba1c", "hba1c"),
    ("sodium", "sodium"),
    ("potassium", "potassium"),
    ("urea_nitrogen", "urea_nitrogen"),
    ("hemoglobin", "hemoglobin"),
    ("leukocytes", "leukocytes"),
    ("platelets", "platelets"),
    ("cholesterol", "cholesterol_total"),
    ("ldl", "cholesterol_ldl"),
)


def _default_catalogue() -> tuple[FeatureSpec, ...]:
    specs = _demographics()
    for group in CONCEPT_SET_ELEMENTS:
        if group.table == "condition_occurrence":
            specs.append(FeatureSpec(f"cond_{group.id}", f"{group.description.capitalize()} active in the lookback "
                                     "window", "event_flag", group.table, group.concept_ids, chronic=group.chronic))
    for group in CONCEPT_SET_ELEMENTS:
        if group.table == "observation":  # observations have no end date: any time before index
            specs.append(FeatureSpec(f"cond_{group.id}", f"{group.description.capitalize()} recorded any time "
                                     "before index", "event_flag", group.table, group.concept_ids, window="history",
                                     chronic=group.chronic))
    specs.append(
        FeatureSpec(
            "n_chronic_conditions",
            "Number of chronic condition flags set (cond_* with chronic=True)",
            "chronic_count",
            "condition_occurrence",
            window="index",
        )
    )
    specs += [
        FeatureSpec(
            "prior_inpatient_visits",
            "Inpatient stays (9201, 262) started in the lookback window before the index stay",
            "visit_count",
            "visit_occurrence",
            (9201, 262),
        ),
        FeatureSpec(
            "prior_er_visits",
            "ER visits (9203, 262) started in the lookback window before the index stay",
            "visit_count",
            "visit_occurrence",
            (9203, 262),
        ),
        FeatureSpec(
            "prior_outpatient_visits",
            "Outpatient visits (9202) started in the lookback window before the index stay",
            "visit_count",
            "visit_occurrence",
            (9202,),
        ),
    ]
    for group in CONCEPT_SET_ELEMENTS:
        if group.table == "drug_exposure":
            specs.append(FeatureSpec(f"drug_{group.id}", f"Exposure to {group.description} overlapping the lookback "
                                     "window", "event_flag", group.table, group.concept_ids))
    for name, element_id in _LAB_FEATURES:
        lab = element(element_id)
        specs.append(
            FeatureSpec(
                f"lab_{name}_latest",
                f"Latest plausible {lab.description} in {lab.unit or 'its scale'} before index (data element "
                f"{element_id}: units harmonised, implausible values dropped); NaN if never measured",
                "latest_value",
                "data_element",
                lab.concept_ids,
                window="history",
            )
        )
    ids = [s.id for s in specs]
    assert len(ids) == len(set(ids)), "duplicate feature ids"
    return tuple(specs)


FEATURE_CATALOGUE: tuple[FeatureSpec, ...] = _default_catalogue()
"""The default feature definitions, in model-input column order."""


def feature_columns(features: Sequence[FeatureSpec] = FEATURE_CATALOGUE) -> list[str]:
    """Model input column names, in a fixed order."""
    return [f.id for f in features]


FEATURE_COLUMNS: list[str] = feature_columns()
ID_COLUMNS: list[str] = [
    "person_id",
    "visit_occurrence_id",
    "index_date",
    "care_site_id",
    "gender_concept_id",
    "race_concept_id",
]
LABEL_COLUMN: str = DEFAULT_TASK.label_column
NON_FEATURE_COLUMNS: frozenset[str] = frozenset([*ID_COLUMNS, LABEL_COLUMN, "split"])


def model_feature_columns(features: pd.DataFrame) -> list[str]:
    """The model input columns of a feature table, in its column order.

    Training, evaluation and monitoring read the columns from the table itself rather than
    from :data:`FEATURE_COLUMNS`, so a catalogue whose columns depend on the data (features
    kept by prevalence) travels with the snapshot it was computed on.
    """
    return [c for c in features.columns if c not in NON_FEATURE_COLUMNS]


# --------------------------------------------------------------------------------------
# SQL generation
# --------------------------------------------------------------------------------------


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _ids(values: Sequence[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


def _sql_int(value: int | None) -> str:
    return "CAST(NULL AS INTEGER)" if value is None else f"CAST({int(value)} AS INTEGER)"


def _table_columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, set[str]]:
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_catalog = current_database()",
        [schema],
    ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table.lower(), set()).add(column.lower())
    return columns


_PERSON_REQUIRED = ("person_id", "gender_concept_id", "race_concept_id", "ethnicity_concept_id", "year_of_birth")
_VISIT_REQUIRED = ("visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date", "visit_end_date")


def _required_columns(features: Sequence[FeatureSpec], task: ReadmissionTask) -> dict[str, set[str]]:
    required: dict[str, set[str]] = {
        "person": set(_PERSON_REQUIRED),
        "visit_occurrence": set(_VISIT_REQUIRED),
        "death": {"person_id", "death_date"},
    }
    if task.require_full_follow_up:
        required["observation_period"] = {
            "person_id",
            "observation_period_start_date",
            "observation_period_end_date",
        }
    for spec in features:
        if spec.kind not in ("event_flag", "visit_count", "latest_value"):
            continue
        table = _EVENT_TABLES[spec.source]
        cols = required.setdefault(table.cdm_table or spec.source, set())
        if table.relation == "element_values":
            cols |= set(MEASUREMENT_COLUMNS)
        cols |= {"person_id", table.concept, table.start}
        if spec.kind == "event_flag" and table.end:
            cols.add(table.end)
        if spec.kind == "visit_count":
            cols.add("visit_occurrence_id")
        if spec.kind == "latest_value":
            if table.value is None:
                raise ValueError(f"feature {spec.id!r}: table {spec.source!r} has no numeric value column")
            cols.add(table.value)
    return required


def _check_schema(available: dict[str, set[str]], required: dict[str, set[str]], schema: str) -> None:
    missing = [
        f"{schema}.{table}.{column}"
        for table, cols in sorted(required.items())
        for column in sorted(cols)
        if column not in available.get(table, set())
    ]
    if missing:
        raise ValueError(f"OMOP CDM tables/columns missing for the readmission features: {', '.join(missing)}")


def _cohort_ctes(task: ReadmissionTask, s: str, available: dict[str, set[str]]) -> str:
    """CTEs ``index_candidates``, ``flagged`` (one row per candidate stay, with step flags) and ``cohort``."""
    person_cols = available.get("person", set())
    birth_parts = []
    if "birth_datetime" in person_cols:
        birth_parts.append("CAST(p.birth_datetime AS DATE)")
    month = "COALESCE(p.month_of_birth, 1)" if "month_of_birth" in person_cols else "1"
    day = "COALESCE(p.day_of_birth, 1)" if "day_of_birth" in person_cols else "1"
    # try(): an impossible month/day makes the birth date NULL (stay excluded) instead of failing the query
    birth_parts.append(
        f"try(make_date(CAST(p.year_of_birth AS INTEGER), CAST({month} AS INTEGER), CAST({day} AS INTEGER)))"
    )
    birth_date = f"COALESCE({', '.join(birth_parts)})"
    care_site = (
        "v.care_site_id" if "care_site_id" in available.get("visit_occurrence", set()) else "CAST(NULL AS BIGINT)"
    )
    tar = int(task.time_at_risk_days)
    if task.require_full_follow_up:
        follow_up = (
            f"(SELECT MAX(CAST(op.observation_period_end_date AS DATE)) FROM {s}.observation_period op "
            "WHERE op.person_id = i.person_id "
            "AND CAST(op.observation_period_start_date AS DATE) <= i.index_date "
            "AND CAST(op.observation_period_end_date AS DATE) >= i.index_date)"
        )
        follow_up_ok = f"(o.visit_occurrence_id IS NOT NULL OR (i.follow_up_end IS NOT NULL AND i.follow_up_end >= i.index_date + {tar}))"
    else:
        follow_up = "CAST(NULL AS DATE)"
        follow_up_ok = "TRUE"
    return f"""
index_candidates AS (
    SELECT
        v.visit_occurrence_id,
        v.person_id,
        {care_site} AS care_site_id,
        CAST(v.visit_start_date AS DATE) AS visit_start_date,
        CAST(v.visit_end_date AS DATE) AS index_date
    FROM {s}.visit_occurrence v
    WHERE v.visit_concept_id IN ({_ids(task.index_visit_concept_ids)})
),
first_death AS (
    SELECT person_id, MIN(CAST(death_date AS DATE)) AS death_date
    FROM {s}.death
    GROUP BY person_id
),
index_with_follow_up AS (
    SELECT i.*, {follow_up} AS follow_up_end
    FROM index_candidates i
),
outcome AS (
    SELECT i.visit_occurrence_id
    FROM index_candidates i
    JOIN {s}.visit_occurrence r
      ON r.person_id = i.person_id
     AND r.visit_occurrence_id <> i.visit_occurrence_id
     AND r.visit_concept_id IN ({_ids(task.outcome_visit_concept_ids)})
     AND CAST(r.visit_start_date AS DATE) > i.index_date
     AND CAST(r.visit_start_date AS DATE) <= i.index_date + {tar}
    GROUP BY i.visit_occurrence_id
),
flagged_base AS (
    SELECT
        i.visit_occurrence_id,
        i.person_id,
        i.care_site_id,
        i.visit_start_date,
        i.index_date,
        i.follow_up_end,
        p.person_id IS NOT NULL AS has_person,
        p.gender_concept_id,
        p.race_concept_id,
        p.ethnicity_concept_id,
        d.death_date,
        o.visit_occurrence_id IS NOT NULL AS readmitted,
        {follow_up_ok} AS follow_up_ok,
        {birth_date} AS birth_date
    FROM index_with_follow_up i
    LEFT JOIN {s}.person p ON p.person_id = i.person_id
    LEFT JOIN first_death d ON d.person_id = i.person_id
    LEFT JOIN outcome o ON o.visit_occurrence_id = i.visit_occurrence_id
),
flagged AS (
    SELECT
        b.*,
        CAST(
            year(b.index_date) - year(b.birth_date)
            - CASE WHEN month(b.index_date) * 100 + day(b.index_date) < month(b.birth_date) * 100 + day(b.birth_date)
                   THEN 1 ELSE 0 END
            AS INTEGER
        ) AS age_at_index,
        (b.index_date IS NOT NULL AND b.visit_start_date IS NOT NULL AND b.index_date >= b.visit_start_date)
            AS dates_ok
    FROM flagged_base b
),
cohort AS (
    SELECT *
    FROM flagged
    WHERE dates_ok
      AND has_person
      AND age_at_index >= {int(task.min_age)}
      AND (death_date IS NULL OR death_date > index_date)
      AND follow_up_ok
)"""


def _event_blocks(
    features: Sequence[FeatureSpec], task: ReadmissionTask, s: str, available: dict[str, set[str]]
) -> list[str]:
    """SELECTs yielding ``(visit_occurrence_id, feature_id, value DOUBLE)`` rows, one per (kind, source)."""
    groups: dict[tuple[str, str], list[FeatureSpec]] = {}
    for spec in features:
        if spec.kind in ("event_flag", "visit_count", "latest_value"):
            groups.setdefault((spec.kind, spec.source), []).append(spec)

    blocks = []
    for (kind, source), specs in groups.items():
        table = _EVENT_TABLES[source]
        spec_rows = ", ".join(
            f"('{spec.id}', {int(concept)}, {_sql_int(spec.window_days(task))})"
            for spec in specs
            for concept in spec.concept_ids
        )
        spec_values = f"(VALUES {spec_rows}) AS sp(feature_id, concept_id, window_days)"
        start = f"CAST(x.{table.start} AS DATE)"
        relation = table.relation or f"{s}.{source}"
        join = (
            f"FROM cohort c\n"
            f"    JOIN {relation} x ON x.person_id = c.person_id\n"
            f"    JOIN {spec_values} ON sp.concept_id = x.{table.concept}"
        )
        if kind == "event_flag":
            if table.end:
                end = f"CAST(x.{table.end} AS DATE)"
                open_end = "DATE '9999-12-31'" if table.null_end_is_ongoing else start
                active = f"COALESCE({end}, {open_end})"
            else:
                active = start
            blocks.append(
                f"""SELECT c.visit_occurrence_id, sp.feature_id, 1.0 AS value
    {join}
    WHERE {start} < c.index_date
      AND (sp.window_days IS NULL OR {active} >= c.index_date - sp.window_days)
    GROUP BY c.visit_occurrence_id, sp.feature_id"""
            )
        elif kind == "visit_count":
            blocks.append(
                f"""SELECT c.visit_occurrence_id, sp.feature_id, CAST(COUNT(DISTINCT x.visit_occurrence_id) AS DOUBLE) AS value
    {join}
    WHERE x.visit_occurrence_id <> c.visit_occurrence_id
      AND {start} < c.visit_start_date
      AND {start} < c.index_date
      AND (sp.window_days IS NULL OR {start} >= c.index_date - sp.window_days)
    GROUP BY c.visit_occurrence_id, sp.feature_id"""
            )
        else:  # latest_value: arg_max over a (date, datetime, id, value) key; faster than a window
            cols = available.get(table.cdm_table or source, set())
            key = [start]
            if table.datetime and table.datetime in cols:
                # a missing time sorts first within its day (as midnight)
                key.append(f"COALESCE(CAST(x.{table.datetime} AS TIMESTAMP), CAST({start} AS TIMESTAMP))")
            if table.record_id and table.record_id in cols:
                key.append(f"COALESCE(x.{table.record_id}, -1)")
            key.append(f"CAST(x.{table.value} AS DOUBLE)")  # last-resort deterministic tie-break
            blocks.append(
                f"""SELECT c.visit_occurrence_id, sp.feature_id,
           arg_max(CAST(x.{table.value} AS DOUBLE), ({", ".join(key)})) AS value
    {join}
    WHERE x.{table.value} IS NOT NULL
      AND {start} < c.index_date
      AND (sp.window_days IS NULL OR {start} >= c.index_date - sp.window_days)
    GROUP BY c.visit_occurrence_id, sp.feature_id"""
            )
    return blocks


def _feature_select(features: Sequence[FeatureSpec]) -> list[str]:
    chronic_flags = [f.id for f in features if f.kind == "event_flag" and f.chronic]
    exprs = []
    for spec in features:
        col = _quote(spec.id)
        if spec.kind == "demographic":
            exprs.append(f"CAST({spec.expression} AS INTEGER) AS {col}")
        elif spec.kind in ("event_flag", "visit_count"):
            exprs.append(f"CAST(COALESCE(pv.{col}, 0) AS INTEGER) AS {col}")
        elif spec.kind == "latest_value":
            exprs.append(f"CAST(pv.{col} AS DOUBLE) AS {col}")
        elif spec.kind == "chronic_count":
            total = " + ".join(f"COALESCE(pv.{_quote(f)}, 0)" for f in chronic_flags) or "0"
            exprs.append(f"CAST({total} AS INTEGER) AS {col}")
        else:  # pragma: no cover - guarded by FeatureKind
            raise ValueError(f"unknown feature kind {spec.kind!r}")
    return exprs


def _check_inputs(
    con: duckdb.DuckDBPyConnection, task: ReadmissionTask, cdm_schema: str, features: Sequence[FeatureSpec]
):
    if not _IDENTIFIER.match(cdm_schema):
        raise ValueError(f"cdm_schema must be a plain SQL identifier, got {cdm_schema!r}")
    ids = [f.id for f in features]
    if len(ids) != len(set(ids)):
        raise ValueError("feature ids must be unique")
    clash = set(ids) & {*ID_COLUMNS, task.label_column}
    if clash:
        raise ValueError(f"feature ids clash with id/label columns: {sorted(clash)}")
    available = _table_columns(con, cdm_schema)
    _check_schema(available, _required_columns(features, task), cdm_schema)
    return _quote(cdm_schema), available


def build_readmission_sql(
    con: duckdb.DuckDBPyConnection,
    task: ReadmissionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    features: Sequence[FeatureSpec] = FEATURE_CATALOGUE,
) -> str:
    """The SQL statement :func:`build_readmission_features` runs (for inspection and logging)."""
    s, available = _check_inputs(con, task, cdm_schema, features)
    blocks = _event_blocks(features, task, s, available)
    pivot_ids = [f.id for f in features if f.kind in ("event_flag", "visit_count", "latest_value")]
    if blocks:
        union = "\n    UNION ALL\n    ".join(blocks)
        pivot_cols = ",\n        ".join(
            f"MAX(value) FILTER (WHERE feature_id = '{fid}') AS {_quote(fid)}" for fid in pivot_ids
        )
        pivot = f""",
feature_values AS (
    {union}
),
feature_pivot AS (
    SELECT
        visit_occurrence_id,
        {pivot_cols}
    FROM feature_values
    GROUP BY visit_occurrence_id
)"""
        pivot_join = "LEFT JOIN feature_pivot pv ON pv.visit_occurrence_id = c.visit_occurrence_id"
    else:
        pivot, pivot_join = "", ""
    select = ",\n    ".join(
        [
            "c.person_id",
            "c.visit_occurrence_id",
            "c.index_date",
            "c.care_site_id",
            "c.gender_concept_id",
            "c.race_concept_id",
            f"CAST(c.readmitted AS INTEGER) AS {_quote(task.label_column)}",
            *_feature_select(features),
        ]
    )
    elements = ""
    if any(_EVENT_TABLES[f.source].relation == "element_values" for f in features
           if f.kind in ("event_flag", "visit_count", "latest_value")):
        elements = f""",
element_values AS (
    SELECT * FROM ({element_values_sql(s, columns=available.get("measurement"))}) ev WHERE value_as_number IS NOT NULL
)"""
    return f"""WITH {_cohort_ctes(task, s, available)}{elements}{pivot}
SELECT
    {select}
FROM cohort c
{pivot_join}
ORDER BY c.index_date, c.visit_occurrence_id"""


def build_readmission_features(
    con: duckdb.DuckDBPyConnection,
    task: ReadmissionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    features: Sequence[FeatureSpec] = FEATURE_CATALOGUE,
) -> pd.DataFrame:
    """Cohort, label and point-in-time features, one row per index stay.

    Columns: :data:`ID_COLUMNS`, then ``task.label_column``, then the feature ids in
    ``features`` order (by default :data:`FEATURE_COLUMNS`). Rows are sorted by
    ``(index_date, visit_occurrence_id)``. Flags and counts are ``int32``, latest values
    ``float64`` (NaN when unmeasured), ``index_date`` is ``datetime64``.
    """
    sql = build_readmission_sql(con, task, cdm_schema, features)
    frame = con.execute(sql).df()
    return frame.reset_index(drop=True)


def cohort_attrition(
    con: duckdb.DuckDBPyConnection,
    task: ReadmissionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
) -> pd.DataFrame:
    """How many candidate stays (and persons) remain after each cohort step, in order."""
    s, available = _check_inputs(con, task, cdm_schema, ())
    steps = [
        ("inpatient_stays", "TRUE"),
        ("valid_discharge_date", "dates_ok"),
        (f"age_at_least_{task.min_age}", f"has_person AND age_at_index >= {int(task.min_age)}"),
        ("alive_at_discharge", "(death_date IS NULL OR death_date > index_date)"),
        ("sufficient_follow_up", "follow_up_ok"),
    ]
    selects = []
    condition = "TRUE"
    for order, (name, predicate) in enumerate(steps):
        condition = f"{condition} AND {predicate}"
        selects.append(
            f"SELECT {order} AS step_order, '{name}' AS step, "
            f"COUNT(*) FILTER (WHERE {condition}) AS n_stays, "
            f"COUNT(DISTINCT person_id) FILTER (WHERE {condition}) AS n_persons FROM flagged"
        )
    sql = f"WITH {_cohort_ctes(task, s, available)}\n" + "\nUNION ALL\n".join(selects) + "\nORDER BY step_order"
    return con.execute(sql).df().drop(columns="step_order")


# --------------------------------------------------------------------------------------
# Split and lineage
# --------------------------------------------------------------------------------------


def temporal_split(features: pd.DataFrame, test_fraction: float = 0.25, date_column: str = "index_date") -> pd.Series:
    """Label each row ``"train"`` or ``"test"`` by time: the latest index dates form the test set.

    The cut is made on a date (every row of a date lands on the same side), choosing the
    cut whose test share is closest to ``test_fraction`` while keeping both sides
    non-empty. Needs at least two distinct dates. Returns a Series aligned with
    ``features.index``, named ``"split"``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if features.empty:
        return pd.Series([], index=features.index, dtype=object, name="split")
    dates = pd.to_datetime(features[date_column])
    if dates.isna().any():
        raise ValueError(f"{date_column} has missing values; cannot split by time")
    counts = dates.value_counts().sort_index()
    if len(counts) < 2:
        raise ValueError(f"temporal_split needs at least two distinct {date_column} values")
    n = len(dates)
    rows_from_date = n - (counts.cumsum() - counts)  # rows on or after each date
    test_share = (rows_from_date / n).iloc[1:]  # the first date always stays in train
    distance = (test_share - test_fraction).abs().to_numpy()
    cutoff = test_share.index[int(np.argmin(distance))]  # first minimum: larger test on ties
    split = np.where(dates >= cutoff, "test", "train")
    return pd.Series(split, index=features.index, dtype=object, name="split")


def data_fingerprint(df: pd.DataFrame) -> str:
    """Stable sha256 of a frame's content: column names, dtypes and values, in order.

    The index is ignored; row order and column order matter. Stable across processes and
    machines (pandas' fixed-key value hashing), so it can tag MLflow runs for lineage.
    """
    digest = hashlib.sha256()
    digest.update(b"mlhops-data-fingerprint-v1\x00")
    digest.update(f"{df.shape[0]}x{df.shape[1]}\x00".encode())
    for position in range(df.shape[1]):
        column = df.iloc[:, position]
        digest.update(f"{df.columns[position]!s}\x00{column.dtype!s}\x00".encode())
        values = pd.util.hash_pandas_object(column, index=False).to_numpy()
        digest.update(values.astype("<u8", copy=False).tobytes())
    return digest.hexdigest()
