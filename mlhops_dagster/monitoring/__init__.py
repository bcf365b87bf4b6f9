"""Monitoring of scored batches against the training reference: data drift (Evidently + PSI)."""

from mlhops_dagster.monitoring.drift import DriftResult, compute_drift, population_stability_index

__all__ = ["DriftResult", "compute_drift", "population_stability_index"]
