"""The OMOP dbt project, alone in its module so the manifest can be prepared without loading Dagster defs.

``prepare_manifest()`` (called by the Makefile and the test suite) prepares the manifest (``dbt parse``) for fresh clones,
pytest and the ``dagster`` CLI; ``dagster dev`` prepares it itself.
"""

import os

from dagster_dbt import DbtProject

from mlhops_dagster.settings import DBT_PROJECT_DIR, load_settings

# dbt_omop/profiles.yml reads the warehouse path from here: the same value the DuckDB resource gets.
os.environ.setdefault("MLHOPS_WAREHOUSE_PATH", str(load_settings().warehouse_path))

omop_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
omop_dbt_project.prepare_if_dev()


def prepare_manifest() -> None:
    """Parse the dbt project so ``target/manifest.json`` exists (partial parsing keeps re-runs fast)."""
    omop_dbt_project.preparer.prepare(omop_dbt_project)
