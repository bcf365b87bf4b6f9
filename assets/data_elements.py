"""Stage 3b — ML-DQA data elements: the model's labs, vitals, diagnosis and medication groups, as the features read them.

The harmonisation itself (units to one canonical unit, implausible values set to NULL) is
``mlhops_dagster.quality.elements``; the feature SQL applies the same statement. This asset
reports what it does to this CDM, per element, and keeps every run's summary in
``quality.data_elements``.
"""

import dagster as dg
import pandas as pd

from assets.keys import cdm_key
from assets.metadata import table
from assets.quality import AFTER_FATAL_CHECKS_PASSED, DQA_REPORT_KEY
from mlhops_dagster.quality.elements import (
    CONCEPT_SET_ELEMENTS,
    concept_set_report,
    measurement_report,
    persist_summary,
    summarise_concept_sets,
    summarise_measurement_elements,
)
from resources import DUCKDB_POOL, DataQualityResource, WarehouseResource

ELEMENT_TABLES = ("person", "measurement", *sorted({e.table for e in CONCEPT_SET_ELEMENTS}))
ELEMENTS_TABLE_COLUMNS = (
    "element_id",
    "unit",
    "rows",
    "kept_pct",
    "rows_converted",
    "rows_unit_unknown",
    "rows_implausible",
    "persons",
)


@dg.asset(
    group_name="quality",
    kinds={"sql"},
    owners=["team:data-quality"],
    pool=DUCKDB_POOL,
    deps=[DQA_REPORT_KEY, *(cdm_key(t) for t in ELEMENT_TABLES)],
    automation_condition=AFTER_FATAL_CHECKS_PASSED,
    check_specs=[
        dg.AssetCheckSpec(
            "element_values_usable",
            asset="data_elements",
            blocking=False,
            description="Every lab and vital keeps at least the configured share of its recorded values after unit "
            "harmonisation and plausibility rules (DataQualityResource.min_element_kept_pct).",
        )
    ],
    description=(
        "ML-DQA data elements (Sendak et al. 2022): each lab and vital the model reads, with the measurement "
        "concepts and units that feed it, the rules applied (units converted to one canonical UCUM unit, values "
        "in unknown units or outside the plausible range set to NULL and counted), and each diagnosis / "
        "medication group's records and persons. The features read the harmonised values. Every run's summary "
        "is kept in `quality.data_elements`."
    ),
)
def data_elements(context: dg.AssetExecutionContext, warehouse: WarehouseResource, dqa: DataQualityResource):
    with warehouse.connect() as con:
        schema = warehouse.cdm_schema
        measurements = summarise_measurement_elements(con, schema)
        concept_sets = summarise_concept_sets(con, schema)
        persist_summary(con, context.run.run_id, pd.concat([measurements, concept_sets], ignore_index=True))
    with_values = measurements[measurements["kept_pct"].notna()]
    low = with_values[with_values["kept_pct"] < dqa.min_element_kept_pct]
    nulled = int(measurements["rows_unit_unknown"].sum() + measurements["rows_implausible"].sum())
    yield dg.MaterializeResult(
        metadata={
            "elements": len(measurements) + len(concept_sets),
            "measurement_rows": int(measurements["rows"].sum()),
            "values_converted": int(measurements["rows_converted"].sum()),
            "values_set_to_null": nulled,
            "values_unit_assumed": int(measurements["rows_unit_assumed"].sum()),
            "labs_and_vitals": table(measurement_report(measurements)),
            "concept_groups": table(concept_set_report(concept_sets)),
            "elements_table": table(measurements, columns=ELEMENTS_TABLE_COLUMNS),
        }
    )
    yield dg.AssetCheckResult(
        check_name="element_values_usable",
        passed=low.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "min_kept_pct": dqa.min_element_kept_pct,
            "below": ", ".join(f"{r.element_id} {r.kept_pct:.1f}%" for r in low.itertuples()) or "none",
        },
    )
