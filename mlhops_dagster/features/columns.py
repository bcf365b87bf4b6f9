"""The layout of a feature table: id columns, the label, and the feature columns that follow them."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mlhops_dagster.features.catalogue import FeatureSpec, default_catalogue
from mlhops_dagster.features.task import DEFAULT_TASK

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
