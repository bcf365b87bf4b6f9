"""The integration tier builds Dagster definitions, which read the dbt manifest: prepare it once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepare dbt_omop's manifest as a fresh clone would need it (partial parsing keeps it fast)."""
    # The file name is the DuckDB catalog name baked into the manifest: keep it the one Settings uses.
    os.environ["MLHOPS_WAREHOUSE_PATH"] = str(tmp_path_factory.mktemp("dbt") / "warehouse.duckdb")
    from resources.dbt_project import omop_dbt_project, prepare_manifest

    prepare_manifest()
    return Path(omop_dbt_project.manifest_path)
