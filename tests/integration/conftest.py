"""The integration tier builds Dagster definitions, which read the dbt manifest: prepare it once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlhops_dagster.settings import Settings
from resources.dbt_project import prepare_manifest


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepare dbt_omop's manifest as a fresh clone would need it (partial parsing keeps it fast)."""
    return prepare_manifest(Settings(data_dir=tmp_path_factory.mktemp("dbt")))
