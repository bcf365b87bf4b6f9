"""Prediction tasks, cohorts, labels and point-in-time features built from the OMOP CDM."""

from mlhops_dagster.features.catalogue import (
    CHARLSON_CATEGORIES,
    DEFAULT_SPARSE,
    FeatureSpec,
    SparseConcepts,
    catalogue_markdown,
    default_catalogue,
)
from mlhops_dagster.features.readmission import (
    FEATURE_CATALOGUE,
    FEATURE_COLUMNS,
    ID_COLUMNS,
    LABEL_COLUMN,
    FeatureBuild,
    build_feature_sql,
    build_features,
    build_readmission_features,
    cohort_attrition,
    data_fingerprint,
    feature_columns,
    model_feature_columns,
    person_split,
    split_features,
    temporal_split,
)
from mlhops_dagster.features.task import DEFAULT_TASK, PredictionTask

__all__ = [
    "CHARLSON_CATEGORIES",
    "DEFAULT_SPARSE",
    "DEFAULT_TASK",
    "FEATURE_CATALOGUE",
    "FEATURE_COLUMNS",
    "ID_COLUMNS",
    "LABEL_COLUMN",
    "FeatureBuild",
    "FeatureSpec",
    "PredictionTask",
    "SparseConcepts",
    "build_feature_sql",
    "build_features",
    "build_readmission_features",
    "catalogue_markdown",
    "cohort_attrition",
    "data_fingerprint",
    "default_catalogue",
    "feature_columns",
    "model_feature_columns",
    "person_split",
    "split_features",
    "temporal_split",
]
