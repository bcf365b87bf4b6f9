"""The production instance profile: Dagster storage in PostgreSQL (deploy/dagster-postgres.yaml).

Runs in CI, where PostgreSQL is on 127.0.0.1:5432; elsewhere it skips when no server answers.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import pytest

from mlhops_dagster.definitions import build_definitions
from mlhops_dagster.settings import PROJECT_ROOT, Settings
from mlhops_dagster.synthetic import generate_extract
from tests.support.postgres_db import PG, throwaway_database

pytestmark = pytest.mark.postgres


@pytest.fixture()
def postgres_database():
    with throwaway_database() as name:
        yield name


def test_ingest_on_a_postgres_backed_instance(
    tmp_path: Path, postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    for var, value in {
        "MLHOPS_PG_HOST": PG["host"],
        "MLHOPS_PG_PORT": str(PG["port"]),
        "MLHOPS_PG_USER": PG["user"],
        "MLHOPS_PG_PASSWORD": "",
        "MLHOPS_PG_DB": postgres_database,
    }.items():
        monkeypatch.setenv(var, value)
    settings = Settings(data_dir=tmp_path / "data", pseudonym_key="postgres-test-key-0123456789")
    generate_extract(
        settings.landing_dir / "pg_extract",
        patients=60,
        seed=5,
        sites=1,
        start=dt.date(2020, 1, 1),
        end=dt.date(2021, 12, 31),
    )
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        instance.add_dynamic_partitions("extracts", ["pg_extract"])
        result = defs.resolve_job_def("ingest_job").execute_in_process(instance=instance, partition_key="pg_extract")
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        event = instance.get_latest_materialization_event(dg.AssetKey("raw_ehr_extract"))
        assert event.run_id == result.run_id and event.asset_materialization.partition == "pg_extract"
        metadata = event.asset_materialization.metadata
        assert metadata["rows_read"].value == metadata["rows_loaded"].value + metadata["rows_quarantined"].value
        assert metadata["rows_loaded/patients"].value == 60
        assert instance.get_dynamic_partitions("extracts") == ["pg_extract"]
    finally:
        instance.dispose()
