"""Cohorts, labels and point-in-time features built from the OMOP CDM."""

from mlhops_dagster.features.readmission import (
    DEFAULT_TASK,
    FEATURE_CATALOGUE,
    FEATURE_COLUMNS,
    ID_COLUMNS,
    LABEL_COLUMN,
    FeatureSpec,
    ReadmissionTask,
    build_readmission_features,
    build_readmission_sql,
    cohort_attrition,
    data_fingerprint,
    feature_columns,
    model_feature_columns,
    temporal_split,
)

__all__ = [
    "DEFAULT_TASK",
    "FEATURE_CATALOGUE",
    "FEATURE_COLUMNS",
    "ID_COLUMNS",
    "LABEL_COLUMN",
    "FeatureSpec",
    "ReadmissionTask",
    "build_readmission_features",
    "build_readmission_sql",
    "cohort_attrition",
    "data_fingerprint",
    "feature_columns",
    "model_feature_columns",
    "temporal_split",
]
