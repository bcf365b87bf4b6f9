"""The integration tier builds Dagster definitions, which read the dbt manifest: prepare it once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlhops_dagster.settings import Settings
from resources.dbt_project import prepare_manifest
from tests.support.whole_graph import WholeGraph, materialise_whole_graph


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepare dbt_omop's manifest as a fresh clone would need it (partial parsing keeps it fast)."""
    return prepare_manifest(Settings(data_dir=tmp_path_factory.mktemp("dbt")))


@pytest.fixture(scope="session")
def whole_graph(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Iterator[WholeGraph]:
    """The loop materialised once per session; the modules that only read its results share it (one xdist group)."""
    with materialise_whole_graph(tmp_path_factory.mktemp("whole_graph")) as graph:
        yield graph
