"""The data-quality resource: where the checks find the vocabulary and their thresholds, where reports go."""

from __future__ import annotations

import dagster as dg

from mlhops_dagster.quality.catalogue import load_threshold_overrides


class DataQualityResource(dg.ConfigurableResource):
    """Where the checks find the vocabulary, which thresholds they use, and where `dqa_report` writes its JSON.

    ``concept_relation``: ``vocab.concept`` (demo seeds), ``vocab_athena.concept`` (Athena) or
    ``<cdm schema>.concept`` (a site's CDM); empty picks the first that exists.
    ``thresholds_file``: JSON/YAML mapping check name (or glob) to threshold percent (the settings'
    ``dq_thresholds``, ``MLHOPS_DQ_THRESHOLDS``); empty keeps the catalogue's thresholds.
    """

    concept_relation: str = ""
    thresholds_file: str = ""
    report_dir: str = ""
    min_element_kept_pct: float = 95.0
    """`data_elements` warns when a lab or vital keeps less than this share of its recorded values."""

    def threshold_overrides(self) -> dict[str, float]:
        """Check name (or glob) -> threshold percent, read from ``thresholds_file`` at each run."""
        return load_threshold_overrides(self.thresholds_file or None)
