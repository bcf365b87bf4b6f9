"""The OMOP dbt project, alone in its module so the manifest can be prepared without loading Dagster defs.

``prepare_manifest()`` (called by the Makefile and the test suite) prepares the manifest (``dbt parse``) for fresh clones,
pytest and the ``dagster`` CLI; ``dagster dev`` prepares it itself.
"""

import json
import os

from dagster_dbt import DbtProject

from mlhops_dagster.settings import DBT_PROJECT_DIR, dbt_vars, load_settings

_settings = load_settings()
# dbt_omop/profiles.yml reads the warehouse path from here: the same value the DuckDB resource gets.
os.environ.setdefault("MLHOPS_WAREHOUSE_PATH", str(_settings.warehouse_path))

DBT_VARS = dbt_vars(_settings)
"""Vars every dbt invocation gets (parse and build alike, so the manifest matches the runs)."""
DBT_VAR_ARGS = ["--vars", json.dumps(DBT_VARS)] if DBT_VARS else []

omop_dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    prepare_project_cli_args=["parse", "--quiet", *DBT_VAR_ARGS],
)
omop_dbt_project.prepare_if_dev()


def prepare_manifest() -> None:
    """Parse the dbt project so ``target/manifest.json`` exists (partial parsing keeps re-runs fast)."""
    omop_dbt_project.preparer.prepare(omop_dbt_project)
