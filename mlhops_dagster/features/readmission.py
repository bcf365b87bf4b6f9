"""Cohort, outcome label and point-in-time features of a prediction task, computed in DuckDB SQL.

The module keeps its historical name (the default task is 30-day readmission); what it builds
is decided by a :class:`~mlhops_dagster.features.task.PredictionTask` (who is indexed when,
exclusions, time-at-risk, outcome, censoring) and a feature catalogue of
:class:`~mlhops_dagster.features.catalogue.FeatureSpec` rows. Everything runs in SQL inside
DuckDB; no Python row loops.

Cohort (one row per index event; :func:`cohort_attrition` counts each step)
--------------------------------------------------------------------------
1. Index events (visits of the task's visit concepts, or condition occurrences of its concept set).
2. A valid index date (for a discharge index: an end date on or after the start date).
3. The person exists and is ``min_age``..``max_age`` full years old at the index date (birth date
   from ``birth_datetime``, else ``year/month/day_of_birth``, a missing month/day taken as 1).
4. Alive at the index date (no ``death_date <= index_date``).
5. Prior observation (washout), when the task asks for it.
6. One step per exclusion: no record of its concepts in its window.
7. First qualifying event per person, when ``first_only``.
8. Censoring, when ``require_full_follow_up``: an event without an observed outcome is kept only
   when the observation period containing the index date reaches the end of the time-at-risk.
   Deaths after the index date are not a competing risk: such an event is kept (label 0) when
   the observation period still covers the time-at-risk, and censored otherwise.

The label column is always ``outcome`` (:data:`LABEL_COLUMN`): 1 when the task's outcome
starts in ``[index + time_at_risk.start_day, index + time_at_risk.end_day]``, else 0.

Features
--------
Point-in-time: every feature reads only records that started strictly before the index date.
The SQL makes one pass per source table (the table joined once to the cohort, materialised),
and derives every window from that pass by conditional aggregation: per (index event, concept
set) the smallest "days since last active" for flags, ``FILTER``-ed counts per window for
visits, and ``FILTER``-ed latest/min/max/count for labs. Sparse per-concept flags
(:class:`~mlhops_dagster.features.catalogue.SparseConcepts`) need one extra prevalence query
first, which decides their columns.

Splits: :func:`temporal_split` (the default: later index dates test) and :func:`person_split`
(persons shuffled with a fixed seed, stratified by whether the person ever had the outcome; a
person is never on both sides).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from mlhops_dagster.features.catalogue import (
    CHARLSON_CATEGORIES,
    DEFAULT_SPARSE,
    FeatureSpec,
    SparseConcepts,
    default_catalogue,
)
from mlhops_dagster.features.task import DEFAULT_TASK, PredictionTask
from mlhops_dagster.quality.elements import MEASUREMENT_COLUMNS, element_values_sql

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

CDM_INPUT_TABLES = (
    "person",
    "visit_occurrence",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
    "death",
    "observation_period",
)
"""The CDM tables the tasks and the catalogue read: a PostgreSQL snapshot copies these, their
data-quality checks gate the features, and a site's own CDM must provide them."""

ID_COLUMNS: list[str] = [
    "person_id",
    "visit_occurrence_id",
    "index_date",
    "care_site_id",
    "gender_concept_id",
    "race_concept_id",
]
LABEL_COLUMN: str = "outcome"
NON_FEATURE_COLUMNS: frozenset[str] = frozenset([*ID_COLUMNS, LABEL_COLUMN, "split"])

FEATURE_CATALOGUE: tuple[FeatureSpec, ...] = default_catalogue(DEFAULT_TASK)
"""The fixed feature definitions of the default task, in column order (sparse flags follow them)."""


def feature_columns(features: Sequence[FeatureSpec] = FEATURE_CATALOGUE) -> list[str]:
    """Column names of ``features``, in order."""
    return [f.id for f in features]


FEATURE_COLUMNS: list[str] = feature_columns()


def model_feature_columns(features: pd.DataFrame) -> list[str]:
    """The model input columns of a feature table, in its column order.

    Training, evaluation and monitoring read the columns from the table itself rather than
    from :data:`FEATURE_COLUMNS`, so a catalogue whose columns depend on the data (features
    kept by prevalence) travels with the snapshot it was computed on.
    """
    return [c for c in features.columns if c not in NON_FEATURE_COLUMNS]


# --------------------------------------------------------------------------------------
# Source tables
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    concept: str
    start: str
    end: str | None = None
    null_end_is_ongoing: bool = False
    end_optional: bool = False  # read the end date only where the table has it


_SOURCES: dict[str, _Source] = {
    "condition_occurrence": _Source(
        "condition_concept_id", "condition_start_date", "condition_end_date", null_end_is_ongoing=True
    ),
    "drug_exposure": _Source("drug_concept_id", "drug_exposure_start_date", "drug_exposure_end_date"),
    "procedure_occurrence": _Source("procedure_concept_id", "procedure_date", "procedure_end_date", end_optional=True),
    "observation": _Source("observation_concept_id", "observation_date"),
    "measurement": _Source("measurement_concept_id", "measurement_date"),
    "visit_occurrence": _Source("visit_concept_id", "visit_start_date", "visit_end_date"),
}
_DOMAIN_TABLE = {
    "condition": "condition_occurrence",
    "drug": "drug_exposure",
    "procedure": "procedure_occurrence",
    "observation": "observation",
    "visit": "visit_occurrence",
}
_ALIAS = {
    "condition_occurrence": "cond",
    "drug_exposure": "drug",
    "procedure_occurrence": "proc",
    "observation": "obs",
    "measurement": "meas",
    "visit_occurrence": "visit",
}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _ids(values: Sequence[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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


def _required_columns(
    features: Sequence[FeatureSpec], task: PredictionTask, sparse: SparseConcepts | None
) -> dict[str, set[str]]:
    required: dict[str, set[str]] = {"person": set(_PERSON_REQUIRED), "death": {"person_id", "death_date"}}

    def need(table: str, *cols: str) -> None:
        required.setdefault(table, set()).update(cols)

    def need_source(table: str, with_end: bool = True) -> None:
        src = _SOURCES[table]
        need(table, "person_id", src.concept, src.start)
        if with_end and src.end and not src.end_optional:
            need(table, src.end)

    if task.index.domain == "visit":
        need("visit_occurrence", "visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date")
        if task.index.date == "visit_end":
            need("visit_occurrence", "visit_end_date")
    else:
        need_source("condition_occurrence", with_end=False)
    need_source(_DOMAIN_TABLE[task.outcome.domain], with_end=False)
    if task.outcome.domain == "visit":
        need("visit_occurrence", "visit_occurrence_id")
    for exclusion in task.exclusions:
        need_source(_DOMAIN_TABLE[exclusion.domain], with_end=False)
    if task.require_full_follow_up or task.prior_observation_days:
        need("observation_period", "person_id", "observation_period_start_date", "observation_period_end_date")
    for spec in features:
        if spec.kind == "event_flag" or spec.kind == "charlson":
            need_source(spec.source)
        elif spec.kind == "visit_count":
            need("visit_occurrence", "visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date")
        elif spec.kind == "measurement":
            need("measurement", *MEASUREMENT_COLUMNS)
        elif spec.kind == "distinct_concepts":
            need_source(spec.source, with_end=False)
    for source in sparse.sources if sparse else ():
        need_source(source)
    return required


def _check_schema(available: dict[str, set[str]], required: dict[str, set[str]], schema: str) -> None:
    missing = [
        f"{schema}.{table}.{column}"
        for table, cols in sorted(required.items())
        for column in sorted(cols)
        if column not in available.get(table, set())
    ]
    if missing:
        raise ValueError(f"OMOP CDM tables/columns missing for the prediction task and features: {', '.join(missing)}")


# --------------------------------------------------------------------------------------
# Cohort SQL
# --------------------------------------------------------------------------------------


def _date(expr: str) -> str:
    return f"CAST({expr} AS DATE)"


def _cohort_ctes(task: PredictionTask, s: str, available: dict[str, set[str]]) -> str:
    """CTEs ``index_events``, ``flagged`` (one row per candidate event, with step flags) and ``cohort``."""
    person_cols = available.get("person", set())
    birth_parts = []
    if "birth_datetime" in person_cols:
        birth_parts.append("CAST(p.birth_datetime AS DATE)")
    month = "COALESCE(p.month_of_birth, 1)" if "month_of_birth" in person_cols else "1"
    day = "COALESCE(p.day_of_birth, 1)" if "day_of_birth" in person_cols else "1"
    # try(): an impossible month/day makes the birth date NULL (event excluded) instead of failing the query
    birth_parts.append(
        f"try(make_date(CAST(p.year_of_birth AS INTEGER), CAST({month} AS INTEGER), CAST({day} AS INTEGER)))"
    )
    birth_date = f"COALESCE({', '.join(birth_parts)})"

    if task.index.domain == "visit":
        care_site = "v.care_site_id" if "care_site_id" in available.get("visit_occurrence", set()) else "NULL"
        start = _date("v.visit_start_date")
        if task.index.date == "visit_end":
            index_date = _date("v.visit_end_date")
            dates_ok = f"({index_date} IS NOT NULL AND {start} IS NOT NULL AND {index_date} >= {start})"
        else:
            index_date, dates_ok = start, f"({start} IS NOT NULL)"
        events = f"""SELECT v.visit_occurrence_id, v.person_id, CAST({care_site} AS BIGINT) AS care_site_id,
           {start} AS visit_start_date, {index_date} AS index_date, {dates_ok} AS dates_ok
    FROM {s}.visit_occurrence v
    WHERE v.visit_concept_id IN ({_ids(task.index.concept_ids)})"""
    else:
        cols = available.get("condition_occurrence", set())
        visit = "x.visit_occurrence_id" if "visit_occurrence_id" in cols else "NULL"
        start = _date("x.condition_start_date")
        events = f"""SELECT CAST(MIN({visit}) AS BIGINT) AS visit_occurrence_id, x.person_id,
           CAST(NULL AS BIGINT) AS care_site_id, {start} AS visit_start_date, {start} AS index_date,
           {start} IS NOT NULL AS dates_ok
    FROM {s}.condition_occurrence x
    WHERE x.condition_concept_id IN ({_ids(task.index.concept_ids)})
    GROUP BY x.person_id, {start}"""

    tar = task.time_at_risk
    if task.outcome.domain == "visit":
        outcome_join = f"""JOIN {s}.visit_occurrence r
      ON r.person_id = i.person_id
     AND r.visit_occurrence_id IS DISTINCT FROM i.visit_occurrence_id
     AND r.visit_concept_id IN ({_ids(task.outcome.concept_ids)})
     AND {_date("r.visit_start_date")} BETWEEN i.index_date + {tar.start_day} AND i.index_date + {tar.end_day}"""
    else:
        outcome_join = f"""JOIN {s}.condition_occurrence r
      ON r.person_id = i.person_id
     AND r.condition_concept_id IN ({_ids(task.outcome.concept_ids)})
     AND {_date("r.condition_start_date")} BETWEEN i.index_date + {tar.start_day} AND i.index_date + {tar.end_day}"""

    if task.require_full_follow_up:
        follow_up = (
            f"(SELECT MAX({_date('op.observation_period_end_date')}) FROM {s}.observation_period op "
            "WHERE op.person_id = i.person_id "
            f"AND {_date('op.observation_period_start_date')} <= i.index_date "
            f"AND {_date('op.observation_period_end_date')} >= i.index_date)"
        )
        follow_up_ok = f"(o.row_id IS NOT NULL OR (i.follow_up_end IS NOT NULL AND i.follow_up_end >= i.index_date + {tar.end_day}))"
    else:
        follow_up, follow_up_ok = "CAST(NULL AS DATE)", "TRUE"
    if task.prior_observation_days:
        washout = (
            f"EXISTS (SELECT 1 FROM {s}.observation_period op WHERE op.person_id = i.person_id "
            f"AND {_date('op.observation_period_start_date')} <= i.index_date - {int(task.prior_observation_days)} "
            f"AND {_date('op.observation_period_end_date')} >= i.index_date)"
        )
    else:
        washout = "TRUE"
    exclusion_cols = []
    for exclusion in task.exclusions:
        src = _SOURCES[_DOMAIN_TABLE[exclusion.domain]]
        x_start = _date(f"x.{src.start}")
        lower = "" if exclusion.start_day is None else f" AND {x_start} >= i.index_date + {exclusion.start_day}"
        exclusion_cols.append(
            f"EXISTS (SELECT 1 FROM {s}.{_DOMAIN_TABLE[exclusion.domain]} x WHERE x.person_id = i.person_id "
            f"AND x.{src.concept} IN ({_ids(exclusion.concept_ids)}) AND {x_start} <= i.index_date + {exclusion.end_day}"
            f"{lower}) AS {_quote('excluded_' + exclusion.name)}"
        )
    exclusions = "".join(f",\n        {e}" for e in exclusion_cols)
    age_ok = f"has_person AND age_at_index >= {int(task.min_age)}"
    if task.max_age is not None:
        age_ok += f" AND age_at_index <= {int(task.max_age)}"
    eligible = " AND ".join(
        [
            "dates_ok",
            f"({age_ok})",
            "alive",
            "washout_ok",
            *(f"NOT {_quote('excluded_' + e.name)}" for e in task.exclusions),
        ]
    )
    first_rank = (
        f"CASE WHEN {eligible} THEN row_number() OVER (PARTITION BY person_id, ({eligible}) "
        "ORDER BY index_date, row_id) END"
        if task.first_only
        else "1"
    )
    return f"""
index_events AS (
    SELECT e.*, row_number() OVER (ORDER BY e.person_id, e.index_date, e.visit_occurrence_id) AS row_id
    FROM (
    {events}
    ) e
),
first_death AS (
    SELECT person_id, MIN({_date("death_date")}) AS death_date
    FROM {s}.death
    GROUP BY person_id
),
index_with_follow_up AS (
    SELECT i.*, {follow_up} AS follow_up_end
    FROM index_events i
),
outcome_events AS (
    SELECT i.row_id
    FROM index_events i
    {outcome_join}
    GROUP BY i.row_id
),
flagged_base AS (
    SELECT
        i.row_id,
        i.visit_occurrence_id,
        i.person_id,
        i.care_site_id,
        i.visit_start_date,
        i.index_date,
        i.dates_ok,
        p.person_id IS NOT NULL AS has_person,
        p.gender_concept_id,
        p.race_concept_id,
        p.ethnicity_concept_id,
        d.death_date IS NULL OR d.death_date > i.index_date AS alive,
        {washout} AS washout_ok,
        o.row_id IS NOT NULL AS outcome,
        {follow_up_ok} AS follow_up_ok,
        {birth_date} AS birth_date{exclusions}
    FROM index_with_follow_up i
    LEFT JOIN {s}.person p ON p.person_id = i.person_id
    LEFT JOIN first_death d ON d.person_id = i.person_id
    LEFT JOIN outcome_events o ON o.row_id = i.row_id
),
flagged_age AS (
    SELECT
        b.*,
        CAST(
            year(b.index_date) - year(b.birth_date)
            - CASE WHEN month(b.index_date) * 100 + day(b.index_date) < month(b.birth_date) * 100 + day(b.birth_date)
                   THEN 1 ELSE 0 END
            AS INTEGER
        ) AS age_at_index
    FROM flagged_base b
),
flagged AS (
    SELECT a.*, COALESCE({first_rank} = 1, FALSE) AS first_ok
    FROM flagged_age a
),
cohort AS (
    SELECT *
    FROM flagged
    WHERE {eligible} AND first_ok AND follow_up_ok
)"""


def _attrition_steps(task: PredictionTask) -> list[tuple[str, str]]:
    age = f"age_{task.min_age}_to_{task.max_age}" if task.max_age is not None else f"age_at_least_{task.min_age}"
    age_ok = f"has_person AND age_at_index >= {int(task.min_age)}"
    if task.max_age is not None:
        age_ok += f" AND age_at_index <= {int(task.max_age)}"
    steps = [("index_events", "TRUE"), ("valid_index_date", "dates_ok"), (age, age_ok), ("alive_at_index", "alive")]
    if task.prior_observation_days:
        steps.append((f"prior_observation_{task.prior_observation_days}d", "washout_ok"))
    steps += [(f"no_{e.name}", f"NOT {_quote('excluded_' + e.name)}") for e in task.exclusions]
    if task.first_only:
        steps.append(("first_per_person", "first_ok"))
    if task.require_full_follow_up:
        steps.append(("sufficient_follow_up", "follow_up_ok"))
    return steps


# --------------------------------------------------------------------------------------
# Feature SQL
# --------------------------------------------------------------------------------------


def _gap(expr: str) -> str:
    """Days from ``expr`` (a date) to the index date: positive = before index."""
    return f"date_diff('day', {expr}, c.index_date)"


def _horizon(start: str, horizon: int | None) -> str:
    """Records older than every window of the pass are not read (``horizon``: the longest window)."""
    return "" if horizon is None else f" AND {start} >= c.index_date - {int(horizon)}"


def _source_base(source: str, s: str, available: dict[str, set[str]], horizon: int | None = None) -> str:
    """One pass over ``source``: its records that started before each index date, with day gaps."""
    src = _SOURCES[source]
    cols = available.get(source, set())
    start = _date(f"x.{src.start}")
    if src.end and src.end in cols:
        open_end = "DATE '9999-12-31'" if src.null_end_is_ongoing else start
        active = f"COALESCE({_date(f'x.{src.end}')}, {open_end})"
    else:
        active = start
    extra, where = "", ""
    if source == "visit_occurrence":
        extra = ", x.visit_occurrence_id"
        where = f" AND x.visit_occurrence_id IS DISTINCT FROM c.visit_occurrence_id AND {start} < c.visit_start_date"
    return f"""SELECT c.row_id, x.{src.concept} AS concept_id, {_gap(start)} AS start_gap,
           {_gap(active)} AS active_gap{extra}
    FROM cohort c
    JOIN {s}.{source} x ON x.person_id = c.person_id
    WHERE {start} < c.index_date{_horizon(start, horizon)}{where}"""


def _measurement_base(s: str, available: dict[str, set[str]], horizon: int | None = None) -> str:
    cols = available.get("measurement", set())
    start = "CAST(x.measurement_date AS DATE)"
    key = [start]
    if "measurement_datetime" in cols:  # a missing time sorts first within its day (as midnight)
        key.append(f"COALESCE(CAST(x.measurement_datetime AS TIMESTAMP), CAST({start} AS TIMESTAMP))")
    if "measurement_id" in cols:
        key.append("COALESCE(x.measurement_id, -1)")
    key.append("x.value")  # last-resort deterministic tie-break
    return f"""SELECT c.row_id, x.measurement_concept_id AS concept_id, {_gap(start)} AS start_gap, x.value,
           ({", ".join(key)}) AS order_key
    FROM cohort c
    JOIN (SELECT *, CAST(value_as_number AS DOUBLE) AS value
          FROM ({element_values_sql(s, columns=cols)}) ev WHERE value_as_number IS NOT NULL) x
      ON x.person_id = c.person_id
    WHERE {start} < c.index_date{_horizon(start, horizon)}"""


def _win(window: int | None) -> str:
    return "all" if window is None else str(int(window))


def _within(window: int | None, gap: str = "start_gap") -> str:
    return "TRUE" if window is None else f"{gap} <= {int(window)}"


@dataclass
class _FeatureSql:
    ctes: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # feature id -> final SELECT expression


def _feature_sql(features: Sequence[FeatureSpec], s: str, available: dict[str, set[str]]) -> _FeatureSql:
    out = _FeatureSql()
    by_source: dict[str, list[FeatureSpec]] = {}
    for spec in features:
        if spec.kind != "demographic":
            by_source.setdefault(spec.source, []).append(spec)
    charlson = [c for c in CHARLSON_CATEGORIES if c.concept_ids]

    for source, specs in by_source.items():
        alias = _ALIAS[source]
        base, keyed, pivot, rowagg = f"b_{alias}", f"k_{alias}", f"p_{alias}", f"r_{alias}"
        if source == "measurement":
            values = [sp for sp in specs if sp.kind == "measurement"]
            horizon = None if any(sp.window is None for sp in values) else max((sp.window for sp in values), default=1)
            out.ctes.append(f"{base} AS MATERIALIZED (\n    {_measurement_base(s, available, horizon)}\n)")
            distinct = [sp for sp in specs if sp.kind == "distinct_concepts"]
            if distinct:  # distinct concepts count every measurement, not only the harmonised elements
                horizon = None if any(sp.window is None for sp in distinct) else max(sp.window for sp in distinct)
                out.ctes.append(f"b_mraw AS MATERIALIZED (\n    {_source_base(source, s, available, horizon)}\n)")
        else:
            # flags count records still active in the window, whatever their start: no horizon for them
            horizon = (
                None
                if any(sp.window is None or sp.kind in ("event_flag", "charlson") for sp in specs)
                else max(sp.window for sp in specs)
            )
            out.ctes.append(f"{base} AS MATERIALIZED (\n    {_source_base(source, s, available, horizon)}\n)")
        # concept sets of this source -> keys
        keys: dict[tuple[int, ...], str] = {}
        for spec in specs:
            if spec.kind in ("event_flag", "visit_count", "measurement"):
                keys.setdefault(tuple(spec.concept_ids), f"k{len(keys)}")
        if any(sp.kind == "charlson" for sp in specs):
            for cat in charlson:
                keys.setdefault(tuple(cat.concept_ids), f"k{len(keys)}")
        if keys:
            values = ", ".join(f"({_text(k)}, {int(c)})" for ids, k in keys.items() for c in ids)
            windows = sorted(
                {sp.window for sp in specs if sp.kind in ("visit_count", "measurement")},
                key=lambda w: -1 if w is None else w,
            )
            aggs = ["min(b.active_gap) AS active_gap"] if source != "measurement" else []
            if source == "visit_occurrence":
                aggs += [
                    f"count(DISTINCT b.visit_occurrence_id) FILTER (WHERE {_within(w, 'b.start_gap')}) AS n_{_win(w)}"
                    for w in windows
                ]
            if source == "measurement":
                for w in windows:
                    cond = _within(w, "b.start_gap")
                    aggs += [
                        f"arg_max(b.value, b.order_key) FILTER (WHERE {cond}) AS latest_{_win(w)}",
                        f"min(b.value) FILTER (WHERE {cond}) AS min_{_win(w)}",
                        f"max(b.value) FILTER (WHERE {cond}) AS max_{_win(w)}",
                        f"count(*) FILTER (WHERE {cond}) AS count_{_win(w)}",
                    ]
            out.ctes.append(f"""{keyed} AS (
    SELECT b.row_id, k.key, {", ".join(aggs)}
    FROM {base} b
    JOIN (VALUES {values}) AS k(key, concept_id) ON k.concept_id = b.concept_id
    GROUP BY b.row_id, k.key
)""")
            pivots = []
            for spec in specs:
                if spec.kind not in ("event_flag", "visit_count", "measurement"):
                    continue
                key = _text(keys[tuple(spec.concept_ids)])
                if spec.kind == "event_flag":
                    value = (
                        "1" if spec.window is None else f"CASE WHEN active_gap <= {int(spec.window)} THEN 1 ELSE 0 END"
                    )
                elif spec.kind == "visit_count":
                    value = f"n_{_win(spec.window)}"
                else:
                    value = f"{spec.stat}_{_win(spec.window)}"
                pivots.append(f"MAX(CASE WHEN key = {key} THEN {value} END) AS {_quote(spec.id)}")
            if any(sp.kind == "charlson" for sp in specs):
                pivots += [
                    f"MAX(CASE WHEN key = {_text(keys[tuple(cat.concept_ids)])} THEN 1 END) "
                    f"AS {_quote('charlson_' + cat.id)}"
                    for cat in charlson
                ]
            out.ctes.append(
                f"{pivot} AS (\n    SELECT row_id,\n        "
                + ",\n        ".join(pivots)
                + f"\n    FROM {keyed}\n    GROUP BY row_id\n)"
            )
            out.joins.append(f"LEFT JOIN {pivot} ON {pivot}.row_id = c.row_id")
        distinct = [sp for sp in specs if sp.kind == "distinct_concepts"]
        if distinct:
            rows_from = "b_mraw" if source == "measurement" else base
            counts = ", ".join(
                f"count(DISTINCT concept_id) FILTER (WHERE {_within(sp.window)}) AS {_quote(sp.id)}" for sp in distinct
            )
            out.ctes.append(f"{rowagg} AS (\n    SELECT row_id, {counts}\n    FROM {rows_from}\n    GROUP BY row_id\n)")
            out.joins.append(f"LEFT JOIN {rowagg} ON {rowagg}.row_id = c.row_id")
        for spec in specs:
            col = _quote(spec.id)
            if spec.kind in ("event_flag", "visit_count") or (spec.kind == "measurement" and spec.stat == "count"):
                out.columns[spec.id] = f"CAST(COALESCE({pivot}.{col}, 0) AS INTEGER)"
            elif spec.kind == "measurement":
                out.columns[spec.id] = f"CAST({pivot}.{col} AS DOUBLE)"
            elif spec.kind == "distinct_concepts":
                out.columns[spec.id] = f"CAST(COALESCE({rowagg}.{col}, 0) AS INTEGER)"
            elif spec.kind == "charlson":
                present = {cat.id: f"COALESCE({pivot}.{_quote('charlson_' + cat.id)}, 0)" for cat in charlson}
                superseded = {cat.supersedes for cat in charlson if cat.supersedes in present}
                terms = []
                for cat in charlson:
                    if cat.id in superseded:
                        continue
                    lighter = next((c for c in charlson if c.id == cat.supersedes), None)
                    if lighter is not None:
                        terms.append(
                            f"GREATEST({cat.weight} * {present[cat.id]}, {lighter.weight} * {present[lighter.id]})"
                        )
                    else:
                        terms.append(f"{cat.weight} * {present[cat.id]}")
                out.columns[spec.id] = f"CAST({' + '.join(terms) or '0'} AS INTEGER)"
    for spec in features:
        if spec.kind == "demographic":
            out.columns[spec.id] = f"CAST({spec.expression} AS INTEGER)"
    return out


def _check_inputs(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask,
    cdm_schema: str,
    features: Sequence[FeatureSpec],
    sparse: SparseConcepts | None = None,
):
    if not _IDENTIFIER.match(cdm_schema):
        raise ValueError(f"cdm_schema must be a plain SQL identifier, got {cdm_schema!r}")
    ids = [f.id for f in features]
    if len(ids) != len(set(ids)):
        raise ValueError("feature ids must be unique")
    clash = set(ids) & NON_FEATURE_COLUMNS
    if clash:
        raise ValueError(f"feature ids clash with id/label columns: {sorted(clash)}")
    available = _table_columns(con, cdm_schema)
    _check_schema(available, _required_columns(features, task, sparse), cdm_schema)
    return _quote(cdm_schema), available


def build_feature_sql(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    features: Sequence[FeatureSpec] | None = None,
) -> str:
    """The one SQL statement that builds cohort, label and ``features`` (for inspection and logging)."""
    features = default_catalogue(task) if features is None else features
    s, available = _check_inputs(con, task, cdm_schema, features)
    sql = _feature_sql(features, s, available)
    columns = [
        "c.person_id",
        "c.visit_occurrence_id",
        "c.index_date",
        "c.care_site_id",
        "c.gender_concept_id",
        "c.race_concept_id",
        f"CAST(c.outcome AS INTEGER) AS {_quote(LABEL_COLUMN)}",
        *(f"{sql.columns[f.id]} AS {_quote(f.id)}" for f in features),
    ]
    select = ",\n    ".join(columns)
    ctes = "".join(f",\n{cte}" for cte in sql.ctes)
    joins = "\n".join(sql.joins)
    # Row order: index_date, then every column but person_id and visit_occurrence_id (by
    # position), then visit_occurrence_id. The ids derive from the site's pseudonymisation
    # key, so ordering ties by them would hand a model (LightGBM subsamples rows by position)
    # and the bootstrap another row order under another key; rows that tie on every other
    # column are interchangeable for training and evaluation.
    order = ", ".join(str(position) for position in range(3, len(columns) + 1))
    return f"""WITH {_cohort_ctes(task, s, available)}{ctes}
SELECT
    {select}
FROM cohort c
{joins}
ORDER BY {order}, 2"""


def _concept_names(con: duckdb.DuckDBPyConnection, cdm_schema: str, concept_ids: set[int]) -> dict[int, str]:
    """Concept names from ``<cdm_schema>.concept`` or ``vocab.concept`` when either exists (else none)."""
    if not concept_ids:
        return {}
    for schema in (cdm_schema, "vocab"):
        has = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = 'concept' AND table_catalog = current_database()",
            [schema],
        ).fetchall()
        if has[0][0]:
            rows = con.execute(
                f"SELECT concept_id, concept_name FROM {_quote(schema)}.concept "
                f"WHERE concept_id IN ({_ids(sorted(concept_ids))})"
            ).fetchall()
            return {int(cid): str(name) for cid, name in rows}
    return {}


def sparse_concept_features(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    sparse: SparseConcepts = DEFAULT_SPARSE,
) -> tuple[list[FeatureSpec], pd.DataFrame]:
    """The per-concept flags whose prevalence among the cohort's index events reaches ``sparse.min_prevalence``.

    Returns the kept specs (by source, then concept id, then window) and every candidate's
    prevalence (columns source, concept_id, window, n_events, prevalence, kept).
    """
    s, available = _check_inputs(con, task, cdm_schema, (), sparse)
    bases = [f"b_{_ALIAS[src]} AS (\n    {_source_base(src, s, available)}\n)" for src in sparse.sources]
    counts = []
    for src in sparse.sources:
        for w in sparse.windows:
            counts.append(
                f"SELECT {_text(src)} AS source, concept_id, CAST({_win(w) if w else 'NULL'} AS INTEGER) AS window_days, "
                f"count(DISTINCT row_id) AS n_events FROM b_{_ALIAS[src]} "
                f"WHERE {_within(w, 'active_gap')} GROUP BY concept_id"
            )
    if not counts:
        return [], pd.DataFrame(columns=["source", "concept_id", "window", "n_events", "prevalence", "kept"])
    sql = (
        f"WITH {_cohort_ctes(task, s, available)},\n"
        + ",\n".join(bases)
        + "\nSELECT *, (SELECT count(*) FROM cohort) AS n_cohort FROM (\n"
        + "\nUNION ALL\n".join(counts)
        + ") t"
    )
    frame = con.execute(sql).df()
    n_cohort = int(frame["n_cohort"].iloc[0]) if len(frame) else 0
    frame = frame.drop(columns="n_cohort").rename(columns={"window_days": "window"})
    frame["window"] = pd.Series([None if pd.isna(w) else int(w) for w in frame["window"]], dtype=object)
    frame["prevalence"] = frame["n_events"] / n_cohort if n_cohort else 0.0
    frame["kept"] = frame["prevalence"] >= sparse.min_prevalence
    window_order = {w: i for i, w in enumerate(sparse.windows)}
    frame["_source_order"] = frame["source"].map({src: i for i, src in enumerate(sparse.sources)})
    frame["_window_order"] = [window_order[w] for w in frame["window"]]
    frame = (
        frame.sort_values(["_source_order", "concept_id", "_window_order"])
        .drop(columns=["_source_order", "_window_order"])
        .reset_index(drop=True)
    )
    kept = frame[frame["kept"]]
    names = _concept_names(con, cdm_schema, {int(c) for c in kept["concept_id"]})
    specs = [
        sparse.spec(r.source, int(r.concept_id), r.window, names.get(int(r.concept_id))) for r in kept.itertuples()
    ]
    return specs, frame


@dataclass(frozen=True)
class FeatureBuild:
    """A built feature table and what it was built from."""

    frame: pd.DataFrame
    task: PredictionTask
    features: tuple[FeatureSpec, ...]  # every column's spec, fixed catalogue then kept sparse flags
    sparse_kept: list[str]  # ids of the per-concept flags kept by prevalence
    sparse: pd.DataFrame  # every sparse candidate with its prevalence and whether it was kept


def build_features(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    features: Sequence[FeatureSpec] | None = None,
    sparse: SparseConcepts | None = DEFAULT_SPARSE,
) -> FeatureBuild:
    """Cohort, label and point-in-time features, one row per index event.

    ``features``: the fixed catalogue (default :func:`default_catalogue` of ``task``);
    ``sparse``: the per-concept flags added by prevalence (``None``: none). Columns:
    :data:`ID_COLUMNS`, :data:`LABEL_COLUMN`, then the features in order. Rows are sorted by
    ``index_date``, then by the values of every other column but the two ids, then by
    ``visit_occurrence_id``: an order that does not depend on the pseudonymisation key, so the
    same extract gives the same models and metrics at every site and in every fresh demo. Flags and counts are ``int32``, lab values
    ``float64`` (NaN when unmeasured), ``index_date`` is ``datetime64``.
    """
    specs = list(default_catalogue(task) if features is None else features)
    added: list[FeatureSpec] = []
    if sparse is not None:
        kept, candidates = sparse_concept_features(con, task, cdm_schema, sparse)
        taken = {f.id for f in specs}
        added = [f for f in kept if f.id not in taken]
    else:
        candidates = pd.DataFrame(columns=["source", "concept_id", "window", "n_events", "prevalence", "kept"])
    specs += added
    frame = con.execute(build_feature_sql(con, task, cdm_schema, specs)).df().reset_index(drop=True)
    return FeatureBuild(frame, task, tuple(specs), [f.id for f in added], candidates)


def build_readmission_features(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
    features: Sequence[FeatureSpec] | None = None,
    sparse: SparseConcepts | None = DEFAULT_SPARSE,
) -> pd.DataFrame:
    """The frame of :func:`build_features` (default task: 30-day readmission)."""
    return build_features(con, task, cdm_schema, features, sparse).frame


def cohort_attrition(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
) -> pd.DataFrame:
    """How many candidate index events (and persons) remain after each cohort step, in order."""
    s, available = _check_inputs(con, task, cdm_schema, ())
    selects = []
    condition = "TRUE"
    for order, (name, predicate) in enumerate(_attrition_steps(task)):
        condition = f"{condition} AND {predicate}"
        selects.append(
            f"SELECT {order} AS step_order, '{name}' AS step, "
            f"COUNT(*) FILTER (WHERE {condition}) AS n_events, "
            f"COUNT(DISTINCT person_id) FILTER (WHERE {condition}) AS n_persons FROM flagged"
        )
    sql = f"WITH {_cohort_ctes(task, s, available)}\n" + "\nUNION ALL\n".join(selects) + "\nORDER BY step_order"
    return con.execute(sql).df().drop(columns="step_order")


# --------------------------------------------------------------------------------------
# Split and lineage
# --------------------------------------------------------------------------------------

SplitMethod = Literal["temporal", "person"]


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


def person_split(
    features: pd.DataFrame,
    test_fraction: float = 0.25,
    seed: int = 42,
    label_column: str = LABEL_COLUMN,
    person_column: str = "person_id",
) -> pd.Series:
    """Label each row ``"train"`` or ``"test"`` by person: all rows of a person land on one side.

    Persons are split with scikit-learn's ``train_test_split`` (fixed ``seed``), stratified by
    whether the person ever had the outcome, so both sides keep the outcome rate; when a class
    has fewer than two persons the split is unstratified. Needs at least two persons. Returns a
    Series aligned with ``features.index``, named ``"split"``.
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if features.empty:
        return pd.Series([], index=features.index, dtype=object, name="split")
    persons = features.groupby(person_column, sort=True)[label_column].max()
    if len(persons) < 2:
        raise ValueError("person_split needs at least two persons")
    classes = persons.value_counts()
    stratify = persons.to_numpy() if len(classes) > 1 and classes.min() >= 2 else None
    n_test = min(max(1, round(test_fraction * len(persons))), len(persons) - 1)
    if stratify is not None:  # each class needs a place on both sides
        n_test = min(max(n_test, len(classes)), len(persons) - len(classes))
    _, test_persons = train_test_split(persons.index.to_numpy(), test_size=n_test, random_state=seed, stratify=stratify)
    split = np.where(features[person_column].isin(set(test_persons.tolist())), "test", "train")
    return pd.Series(split, index=features.index, dtype=object, name="split")


def split_features(
    features: pd.DataFrame, method: SplitMethod = "temporal", test_fraction: float = 0.25, seed: int = 42
) -> pd.Series:
    """The ``split`` column by ``method``: ``"temporal"`` (default) or ``"person"``."""
    if method == "temporal":
        return temporal_split(features, test_fraction)
    if method == "person":
        return person_split(features, test_fraction, seed)
    raise ValueError(f"unknown split method {method!r}: use 'temporal' or 'person'")


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
