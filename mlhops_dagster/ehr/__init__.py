"""Raw EHR extracts: the Synthea CSV contract and the ingest logic (the synthetic generator is :mod:`mlhops_dagster.synthetic`)."""
