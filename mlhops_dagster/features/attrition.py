"""Cohort attrition: how many candidate index events and persons each cohort step leaves.

The rules are :func:`~mlhops_dagster.features.cohort.attrition_steps`; this counts them on a CDM,
as a frame (:func:`cohort_attrition`) or as records for a metadata table (:func:`attrition_records`).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from mlhops_dagster.features.cohort import attrition_steps, cohort_ctes
from mlhops_dagster.features.schema import check_inputs
from mlhops_dagster.features.task import DEFAULT_TASK, PredictionTask


def cohort_attrition(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
) -> pd.DataFrame:
    """How many candidate index events (and persons) remain after each cohort step, in order.

    Columns ``step``, ``n_events``, ``n_persons``; each step applies on top of the ones before it.
    """
    s, available = check_inputs(con, task, cdm_schema, ())
    selects = []
    condition = "TRUE"
    for order, (name, predicate) in enumerate(attrition_steps(task)):
        condition = f"{condition} AND {predicate}"
        selects.append(
            f"SELECT {order} AS step_order, '{name}' AS step, "
            f"COUNT(*) FILTER (WHERE {condition}) AS n_events, "
            f"COUNT(DISTINCT person_id) FILTER (WHERE {condition}) AS n_persons FROM flagged"
        )
    sql = f"WITH {cohort_ctes(task, s, available)}\n" + "\nUNION ALL\n".join(selects) + "\nORDER BY step_order"
    return con.execute(sql).df().drop(columns="step_order")


def attrition_records(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask = DEFAULT_TASK,
    cdm_schema: str = "omop",
) -> list[dict[str, Any]]:
    """:func:`cohort_attrition` as plain records, with what each step removed, for a metadata table.

    Keys: ``step``, ``n_events``, ``n_persons`` (remaining after the step), ``removed_events``,
    ``removed_persons`` (by this step; 0 for the first).
    """
    frame = cohort_attrition(con, task, cdm_schema)
    events = [int(n) for n in frame["n_events"]]
    persons = [int(n) for n in frame["n_persons"]]
    return [
        {
            "step": str(step),
            "n_events": events[i],
            "n_persons": persons[i],
            "removed_events": events[i - 1] - events[i] if i else 0,
            "removed_persons": persons[i - 1] - persons[i] if i else 0,
        }
        for i, step in enumerate(frame["step"])
    ]
