"""Stage 1 — raw: one dynamic partition per extract folder under the landing directory."""

import dagster as dg

from assets.metadata import table
from mlhops_dagster.ehr.ingest import RAW_SCHEMA, ExtractContractError, ingest_extract
from resources import DUCKDB_POOL, ExtractLandingResource, WarehouseResource

extract_partitions = dg.DynamicPartitionsDefinition(name="extracts")


@dg.asset(
    partitions_def=extract_partitions,
    group_name="raw",
    kinds={"duckdb", "postgres", "csv"},
    owners=["team:data-engineering"],
    pool=DUCKDB_POOL,
    description=(
        "One Synthea-format extract folder loaded into the warehouse `raw` schema: schema-checked, "
        "typed, direct identifiers never read, patient/encounter ids replaced by keyed HMAC pseudonyms. "
        "Rows that cannot be loaded go to `raw.quarantine` with file, line and reason."
    ),
)
def raw_ehr_extract(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: ExtractLandingResource
) -> dg.MaterializeResult:
    extract_id = context.partition_key
    key, key_source = landing.key()
    if key_source != "MLHOPS_PSEUDONYM_KEY":
        context.log.warning(f"Pseudonymising with a {key_source}")
    try:
        with warehouse.duckdb_engine() as con:
            load = ingest_extract(con, landing.extract_folder(extract_id), extract_id, key)
            published = warehouse.publish(con, RAW_SCHEMA, where=("extract_id", extract_id))
    except ExtractContractError as err:
        raise dg.Failure(description=f"Extract {extract_id} breaks the raw-extract contract: {err}") from err
    context.log.info(
        f"extract {extract_id}: read {load.rows_read}, loaded {load.rows_loaded}, quarantined {load.rows_quarantined}"
    )
    return dg.MaterializeResult(
        metadata={
            "extract_id": extract_id,
            "rows_read": load.rows_read,
            "rows_loaded": load.rows_loaded,
            "rows_quarantined": load.rows_quarantined,
            "period_start": str(load.period_start),
            "period_end": str(load.period_end),
            "accounting": table(load.accounting()),
            "ignored_files": ", ".join(load.ignored_files) or "none",
            "pseudonym_key_source": key_source,
            "warehouse": warehouse.backend,
            **({"rows_copied_to_postgres": sum(published.values())} if published else {}),
            **{f"rows_loaded/{name}": f.rows_loaded for name, f in load.files.items() if f.present},
        }
    )
