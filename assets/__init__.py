"""Dagster wiring, one module per stage. The logic lives in ``mlhops_dagster.<domain>``."""
