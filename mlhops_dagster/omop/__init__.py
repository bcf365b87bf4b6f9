"""OMOP CDM helpers (vocabulary loading for the DuckDB warehouse)."""

from mlhops_dagster.omop.vocabulary import (
    ATHENA_SCHEMA,
    REQUIRED_FILES,
    VocabularyError,
    VocabularyLoad,
    load_athena_vocabulary,
    vocabulary_summary,
)

__all__ = [
    "ATHENA_SCHEMA",
    "REQUIRED_FILES",
    "VocabularyError",
    "VocabularyLoad",
    "load_athena_vocabulary",
    "vocabulary_summary",
]
