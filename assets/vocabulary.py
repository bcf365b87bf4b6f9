"""OHDSI Athena vocabulary (when ``MLHOPS_VOCAB_DIR`` names a download): loaded once, reused, read by dbt."""

from pathlib import Path

import dagster as dg

from mlhops_dagster.omop.vocabulary import ATHENA_SCHEMA, VocabularyError, load_athena_vocabulary, vocabulary_summary
from mlhops_dagster.warehouse.tables import table_exists
from resources import DUCKDB_POOL, WarehouseResource


def _in_warehouse(warehouse: WarehouseResource) -> bool:
    with warehouse.connect() as con:
        return table_exists(con, ATHENA_SCHEMA, "concept")


def build_athena_vocabulary_asset(vocab_dir: str) -> dg.AssetsDefinition:
    @dg.asset(
        name="athena_vocabulary",
        group_name="omop",
        kinds={"duckdb", "csv"},
        owners=["team:data-engineering"],
        pool=DUCKDB_POOL,
        description=(
            f"OHDSI Athena vocabulary from {vocab_dir} loaded into schema `{ATHENA_SCHEMA}` with DuckDB's CSV reader; "
            "re-read only when the files change. The OMOP models map codes through it instead of the demo seeds."
        ),
    )
    def athena_vocabulary(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        try:
            # On postgres the vocabulary is loaded in a kept scratch DuckDB (so an unchanged download
            # is not re-read) and copied into the warehouse when it changed.
            with warehouse.duckdb_engine(keep="athena_vocabulary") as con:
                load = load_athena_vocabulary(con, Path(vocab_dir))
                summary = vocabulary_summary(con)
                if not load.reused or not _in_warehouse(warehouse):
                    warehouse.publish(con, ATHENA_SCHEMA)
        except VocabularyError as err:
            raise dg.Failure(description=str(err)) from err
        warnings = []
        if not load.tables.get("concept_ancestor"):
            warnings.append(
                "CONCEPT_ANCESTOR is absent or empty: drug_era cannot roll drugs up to ingredients "
                "and will be empty; add it to the Athena download"
            )
        for warning in warnings:
            context.log.warning(warning)
        return dg.MaterializeResult(
            metadata={
                "warnings": "; ".join(warnings) or "none",
                "directory": load.directory,
                "reused": load.reused,
                "fingerprint": load.fingerprint,
                "vocabulary_version": str(summary.get("vocabulary_version")),
                "concepts": int(summary.get("concepts", 0)),
                "rows": dg.MetadataValue.json(load.tables),
                "concepts_by_vocabulary": dg.MetadataValue.json(summary.get("concepts_by_vocabulary", {})),
            }
        )

    return athena_vocabulary
