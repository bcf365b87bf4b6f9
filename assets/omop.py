"""Stage 2 — omop: the dbt project maps raw tables to OMOP CDM v5.4; dbt tests become asset checks."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from resources import DUCKDB_POOL, omop_dbt_project


class OmopTranslator(DagsterDbtTranslator):
    """Puts every dbt node in the `omop` group, tagged with its dbt layer and owned by data engineering."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "omop"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:data-engineering"]

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        return dg.AutomationCondition.eager()


@dbt_assets(
    manifest=omop_dbt_project.manifest_path,
    project=omop_dbt_project,
    dagster_dbt_translator=OmopTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)),
    pool=DUCKDB_POOL,
)
def omop_cdm(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Seeds the vocabulary, builds staging → intermediate → CDM tables, runs dbt tests."""
    # No fetch_row_counts(): it opens an in-process dbt-duckdb connection that stays open and
    # locks the warehouse file against the other assets of an in-process run.
    yield from dbt.cli(["build"], context=context).stream()
