"""Bring your own CDM: a site's existing OMOP tables shown as external assets (read in place, never built here)."""

import dagster as dg

from assets.keys import cdm_key
from assets.quality import CHECKED_TABLES
from mlhops_dagster.warehouse import CdmSource


def build_cdm_source_specs(source: CdmSource) -> list[dg.AssetSpec]:
    """One external asset per CDM table the checks and features read, under the same keys dbt would give them.

    The keys stay ``omop/<table>`` whatever the site's schema is called, so the quality
    checks, features and lineage are the same graph as with our own mapping.
    """
    return [
        dg.AssetSpec(
            key=cdm_key(table),
            group_name="omop",
            kinds={source.backend},
            owners=["team:data-engineering"],
            description=(
                f"OMOP CDM table `{source.schema}.{table}` of the site's own CDM ({source.describe()}); "
                "read in place (MLHOPS_CDM_SOURCE), never written by this pipeline."
            ),
            metadata={"relation": f"{source.schema}.{table}", "cdm_source": source.describe()},
        )
        for table in CHECKED_TABLES
    ]
