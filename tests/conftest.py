"""Shared fixtures: every test gets its own data dir; the dbt manifest is prepared once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
# dagster-dbt runs the `dbt` executable: make the one beside this interpreter findable.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepare dbt_omop's manifest as a fresh clone would need it (partial parsing keeps it fast)."""
    # The file name is the DuckDB catalog name baked into the manifest: keep it the one Settings uses.
    os.environ["MLHOPS_WAREHOUSE_PATH"] = str(tmp_path_factory.mktemp("dbt") / "warehouse.duckdb")
    from resources.dbt_project import omop_dbt_project, prepare_manifest

    prepare_manifest()
    return Path(omop_dbt_project.manifest_path)
