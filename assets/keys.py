"""Asset keys the stages share, known without parsing the dbt project.

dagster-dbt keys a model by its schema and name (``omop/person``); the definitions snapshot
test checks that every key here is one the dbt assets carry.
"""

import dagster as dg

CDM_SCHEMA = "omop"
MAPPING_RATE_KEY = dg.AssetKey(["omop_int", "int__mapping_rate"])


def cdm_key(table: str) -> dg.AssetKey:
    """The asset of an OMOP CDM table: a dbt model, or an external asset on a site's own CDM."""
    return dg.AssetKey([CDM_SCHEMA, table])
