"""Raw EHR extracts: the Synthea CSV contract, the ingest logic and the synthetic generator."""
