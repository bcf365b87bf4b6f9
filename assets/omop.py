"""Stage 2 — omop: the dbt project maps raw tables to OMOP CDM v5.4; dbt tests become asset checks."""

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from assets.keys import MAPPING_RATE_KEY
from assets.metadata import table
from mlhops_dagster.quality.mapping_rate import overall_rate, rate_records, read_mapping_rates
from mlhops_dagster.warehouse.tables import row_count
from resources import DUCKDB_POOL, WarehouseResource

RATE_COLUMNS = ("source_table", "target_domain", "source_rows", "mapped_rows", "rate")
"""The mapping-rate table on the dbt model's materialisation (lowest rate first; the check flags the low ones)."""


class OmopTranslator(DagsterDbtTranslator):
    """Puts every dbt node in the `omop` group, owned by data engineering, materialised eagerly."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "omop"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:data-engineering"]

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        return dg.AutomationCondition.eager()


def build_omop_assets(project: DbtProject, var_args: Sequence[str] = ()) -> dg.AssetsDefinition:
    """The dbt models, seeds and tests of ``project`` as assets and checks (one definition per manifest)."""
    return _omop_assets(project, tuple(var_args))


@functools.cache
def _omop_assets(project: DbtProject, var_args: tuple[str, ...]) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=OmopTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
        ),
        pool=DUCKDB_POOL,
    )
    def omop_cdm(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """Seeds the vocabulary, builds staging → intermediate → CDM tables, runs dbt tests.

        Row counts are read once dbt has finished and released the file (dagster-dbt's
        ``fetch_row_counts`` would keep an in-process connection open and lock the warehouse).
        """
        invocation = dbt.cli(["build", *var_args], context=context, raise_on_error=False)
        events = list(invocation.stream())
        outputs = {
            e.output_name: context.assets_def.keys_by_output_name[e.output_name]
            for e in events
            if isinstance(e, dg.Output)
        }
        with warehouse.connect() as con:
            counts = {name: _row_count(con, key) for name, key in outputs.items()}
            rates = read_mapping_rates(con) if MAPPING_RATE_KEY in outputs.values() else []
        for event in events:
            if isinstance(event, dg.Output) and counts.get(event.output_name) is not None:
                extra: dict[str, Any] = {"dagster/row_count": counts[event.output_name]}
                if outputs[event.output_name] == MAPPING_RATE_KEY and rates:
                    extra |= {
                        "overall_mapping_rate": round(overall_rate(rates), 4),
                        "mapping_rates": table(rate_records(rates, min_rate=0.0), columns=RATE_COLUMNS),
                    }
                event = event.with_metadata({**event.metadata, **extra})
            yield event
        error = invocation.get_error()  # after the events: what dbt did build stays recorded
        if error is not None:
            raise error

    return omop_cdm


def _row_count(con, key: dg.AssetKey) -> int | None:
    """Rows of the relation behind an asset key (schema/table); None for a view-less or absent one."""
    if len(key.path) != 2:
        return None
    schema, table = key.path
    return row_count(con, schema, table)
