"""Every Synthea exporter version in the wild (2.7.0 to 3.3) loads with nothing lost and maps to OMOP."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from dbt_build import dbt_build
from synthea_versions import VERSIONS, to_exporter_version

from mlhops_dagster.ehr.generator import generate_extract
from mlhops_dagster.ehr.ingest import ingest_extract

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
    for name in ("patients", "encounters", "conditions", "observations", "procedures", "allergies", "payer_transitions"):
        assert load.files[name].present and load.files[name].rows_loaded > 0, (version, name)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_exporter_version_maps_to_omop(warehouse, version: str) -> None:
    db, loads = warehouse
    con = duckdb.connect(str(db))
    try:
        persons = con.execute(
            "SELECT count(*) FROM omop.person p JOIN raw.patients r ON r.id = p.person_source_value "
            "WHERE r.extract_id = ?", [f"synthea_{version}"]).fetchall()[0][0]
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
