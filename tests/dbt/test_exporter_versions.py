"""Every Synthea exporter version in the wild (2.7.0 to 3.3) loads with nothing lost and maps to OMOP."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from mlhops_dagster.ehr.ingest import ingest_extract
from mlhops_dagster.settings import Settings
from mlhops_dagster.synthetic import generate_extract
from mlhops_dagster.warehouse import PostgresDsn, copy_duckdb_to_postgres
from resources.dbt_project import dbt_profile_env
from tests.support.dbt_build import dbt_build
from tests.support.postgres_db import PG, throwaway_database
from tests.support.synthea_versions import VERSIONS, to_exporter_version

KEY = "exporter-version-key-0123456789"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("versions")
    db = root / "warehouse.duckdb"
    loads = {}
    con = duckdb.connect(str(db))
    for seed, version in enumerate(VERSIONS, start=31):
        folder = root / f"synthea_{version}"
        generate_extract(folder, patients=60, seed=seed, sites=1, start=dt.date(2019, 1, 1), end=dt.date(2021, 12, 31))
        to_exporter_version(folder, version)
        loads[version] = ingest_extract(con, folder, f"synthea_{version}", KEY)
    con.close()
    dbt_build(root, {"MLHOPS_WAREHOUSE_PATH": str(db)})
    return db, loads


@pytest.mark.parametrize("version", VERSIONS)
def test_each_exporter_version_loads_without_loss(warehouse, version: str) -> None:
    _, loads = warehouse
    load = loads[version]
    assert load.rows_quarantined == 0, load.files
    for name in (
        "patients",
        "encounters",
        "conditions",
        "observations",
        "procedures",
        "allergies",
        "payer_transitions",
    ):
        assert load.files[name].present and load.files[name].rows_loaded > 0, (version, name)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_exporter_version_maps_to_omop(warehouse, version: str) -> None:
    db, loads = warehouse
    con = duckdb.connect(str(db))
    try:
        persons = con.execute(
            "SELECT count(*) FROM omop.person p JOIN raw.patients r ON r.id = p.person_source_value "
            "WHERE r.extract_id = ?",
            [f"synthea_{version}"],
        ).fetchall()[0][0]
        procedures_start = con.execute(
            "SELECT count(*) FROM raw.procedures WHERE extract_id = ? AND start IS NULL", [f"synthea_{version}"]
        ).fetchall()[0][0]
        transitions = con.execute(
            "SELECT min(start_date), count(*) FROM raw.payer_transitions WHERE extract_id = ?", [f"synthea_{version}"]
        ).fetchall()[0]
    finally:
        con.close()
    assert persons == loads[version].files["patients"].rows_loaded
    assert procedures_start == 0
    assert transitions[1] > 0 and transitions[0] is not None


@pytest.mark.postgres
def test_every_cdm_table_builds_on_postgres_from_every_exporter_version(warehouse, tmp_path: Path) -> None:
    """The same raw tables (all four exporter shapes) built with the dbt `postgres` target give the same CDM."""
    db, _ = warehouse
    with throwaway_database("mlhops_versions") as database:
        dsn = PostgresDsn(host=PG["host"], port=PG["port"], user=PG["user"], dbname=database)
        pg = dsn.connect()
        try:
            with duckdb.connect(str(db)) as duck:  # the in-process dbt run still holds it (read-write)
                copy_duckdb_to_postgres(duck, pg, "raw")
                tables = [
                    r[0]
                    for r in duck.execute(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'omop' ORDER BY 1"
                    ).fetchall()
                ]
                duck_counts = {t: duck.execute(f"SELECT count(*) FROM omop.{t}").fetchall()[0][0] for t in tables}
            settings = Settings(data_dir=db.parent, warehouse="postgres", postgres=dsn)
            dbt_build(tmp_path, dbt_profile_env(settings), target="postgres")
            pg_counts = {t: pg.execute(f"SELECT count(*) FROM omop.{t}").fetchall()[0][0] for t in tables}
        finally:
            pg.close()
    assert len(tables) >= 18
    assert pg_counts == duck_counts
    assert all(
        duck_counts[t] > 0
        for t in (
            "person",
            "visit_occurrence",
            "condition_occurrence",
            "drug_exposure",
            "measurement",
            "observation",
            "procedure_occurrence",
            "payer_plan_period",
        )
    )
