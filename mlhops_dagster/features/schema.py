"""What the feature engine reads from an OMOP CDM, and the check that a CDM provides it.

A site's own CDM may lack optional columns (``birth_datetime``, ``care_site_id``,
``measurement_datetime`` ...); the SQL reads those only where :func:`table_columns` finds them.
The columns a task and a catalogue cannot do without are checked up front by
:func:`check_inputs`, so a missing one is named in one clear error rather than a DuckDB binder
error deep inside a generated query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from mlhops_dagster.features.catalogue import FeatureSpec, SparseConcepts
from mlhops_dagster.features.columns import NON_FEATURE_COLUMNS
from mlhops_dagster.features.sql import quote
from mlhops_dagster.features.task import PredictionTask
from mlhops_dagster.quality.elements import MEASUREMENT_COLUMNS

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


@dataclass(frozen=True)
class Source:
    """The concept and date columns of one event table."""

    concept: str
    start: str
    end: str | None = None
    null_end_is_ongoing: bool = False
    end_optional: bool = False  # read the end date only where the table has it


SOURCES: dict[str, Source] = {
    "condition_occurrence": Source(
        "condition_concept_id", "condition_start_date", "condition_end_date", null_end_is_ongoing=True
    ),
    "drug_exposure": Source("drug_concept_id", "drug_exposure_start_date", "drug_exposure_end_date"),
    "procedure_occurrence": Source("procedure_concept_id", "procedure_date", "procedure_end_date", end_optional=True),
    "observation": Source("observation_concept_id", "observation_date"),
    "measurement": Source("measurement_concept_id", "measurement_date"),
    "visit_occurrence": Source("visit_concept_id", "visit_start_date", "visit_end_date"),
}
DOMAIN_TABLE: dict[str, str] = {
    "condition": "condition_occurrence",
    "drug": "drug_exposure",
    "procedure": "procedure_occurrence",
    "observation": "observation",
    "visit": "visit_occurrence",
}
"""The CDM table of each task domain (index, outcome and exclusion ``domain`` fields)."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PERSON_REQUIRED = ("person_id", "gender_concept_id", "race_concept_id", "ethnicity_concept_id", "year_of_birth")


def table_columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, set[str]]:
    """The lower-cased column names of every table of ``schema`` in the current database."""
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_catalog = current_database()",
        [schema],
    ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table.lower(), set()).add(column.lower())
    return columns


def required_columns(
    features: Sequence[FeatureSpec], task: PredictionTask, sparse: SparseConcepts | None
) -> dict[str, set[str]]:
    """Per table, the columns the task's cohort and the features cannot be computed without."""
    required: dict[str, set[str]] = {"person": set(_PERSON_REQUIRED), "death": {"person_id", "death_date"}}

    def need(table: str, *cols: str) -> None:
        required.setdefault(table, set()).update(cols)

    def need_source(table: str, with_end: bool = True) -> None:
        src = SOURCES[table]
        need(table, "person_id", src.concept, src.start)
        if with_end and src.end and not src.end_optional:
            need(table, src.end)

    if task.index.domain == "visit":
        need("visit_occurrence", "visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date")
        if task.index.date == "visit_end":
            need("visit_occurrence", "visit_end_date")
    else:
        need_source("condition_occurrence", with_end=False)
    need_source(DOMAIN_TABLE[task.outcome.domain], with_end=False)
    if task.outcome.domain == "visit":
        need("visit_occurrence", "visit_occurrence_id")
    for exclusion in task.exclusions:
        need_source(DOMAIN_TABLE[exclusion.domain], with_end=False)
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


def check_schema(available: dict[str, set[str]], required: dict[str, set[str]], schema: str) -> None:
    """Raise one error naming every required ``schema.table.column`` that ``available`` lacks."""
    missing = [
        f"{schema}.{table}.{column}"
        for table, cols in sorted(required.items())
        for column in sorted(cols)
        if column not in available.get(table, set())
    ]
    if missing:
        raise ValueError(f"OMOP CDM tables/columns missing for the prediction task and features: {', '.join(missing)}")


def check_inputs(
    con: duckdb.DuckDBPyConnection,
    task: PredictionTask,
    cdm_schema: str,
    features: Sequence[FeatureSpec],
    sparse: SparseConcepts | None = None,
) -> tuple[str, dict[str, set[str]]]:
    """Validate the schema name, the feature ids and the CDM; return the quoted schema and its columns."""
    if not _IDENTIFIER.match(cdm_schema):
        raise ValueError(f"cdm_schema must be a plain SQL identifier, got {cdm_schema!r}")
    feature_ids = [f.id for f in features]
    if len(feature_ids) != len(set(feature_ids)):
        raise ValueError("feature ids must be unique")
    clash = set(feature_ids) & NON_FEATURE_COLUMNS
    if clash:
        raise ValueError(f"feature ids clash with id/label columns: {sorted(clash)}")
    available = table_columns(con, cdm_schema)
    check_schema(available, required_columns(features, task, sparse), cdm_schema)
    return quote(cdm_schema), available
