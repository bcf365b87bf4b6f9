"""ML-DQA data-quality checks on the OMOP CDM (Kahn conformance / completeness / plausibility)."""
