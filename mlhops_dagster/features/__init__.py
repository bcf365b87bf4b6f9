"""Prediction tasks, cohorts, labels and point-in-time features built from the OMOP CDM.

Modules, one concern each: :mod:`.task` (a prediction task as configuration),
:mod:`.catalogue` (the feature definitions), :mod:`.schema` (what is read from the CDM),
:mod:`.cohort` (index events, outcomes, exclusions, censoring), :mod:`.attrition` (what each
cohort step removes), :mod:`.feature_sql` (point-in-time feature SQL), :mod:`.concepts` (sparse
per-concept flags kept by prevalence), :mod:`.build` (the builder), :mod:`.columns` (the
feature table's layout), :mod:`.split` (train/test splits) and :mod:`.fingerprint` (lineage).
"""

from mlhops_dagster.features.attrition import attrition_records, cohort_attrition
from mlhops_dagster.features.build import FeatureBuild, build_cohort_features, build_feature_sql, build_features
from mlhops_dagster.features.catalogue import (
    CHARLSON_CATEGORIES,
    DEFAULT_SPARSE,
    FeatureSpec,
    SparseConcepts,
    catalogue_records,
    default_catalogue,
)
from mlhops_dagster.features.columns import (
    FEATURE_CATALOGUE,
    FEATURE_COLUMNS,
    ID_COLUMNS,
    LABEL_COLUMN,
    feature_columns,
    model_feature_columns,
)
from mlhops_dagster.features.concepts import sparse_concept_features
from mlhops_dagster.features.fingerprint import data_fingerprint
from mlhops_dagster.features.schema import CDM_INPUT_TABLES
from mlhops_dagster.features.split import SplitMethod, person_split, split_features, temporal_split
from mlhops_dagster.features.task import DEFAULT_TASK, PredictionTask

__all__ = [
    "CDM_INPUT_TABLES",
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
    "SplitMethod",
    "attrition_records",
    "build_cohort_features",
    "build_feature_sql",
    "build_features",
    "catalogue_records",
    "cohort_attrition",
    "data_fingerprint",
    "default_catalogue",
    "feature_columns",
    "model_feature_columns",
    "person_split",
    "sparse_concept_features",
    "split_features",
    "temporal_split",
]
