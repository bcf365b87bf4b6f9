"""Row reconciliation: every loaded raw row of a generated extract reaches the OMOP CDM, and a
CDM row deleted after the build is reported as a lost row of its source table."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from mlhops_dagster.ehr.ingest import ingest_extract
from mlhops_dagster.omop.reconciliation import CLINICAL_SOURCES, EVENT_TABLES, reconcile
from mlhops_dagster.synthetic import generate_extract
from tests.support.dbt_build import dbt_build


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reconciliation")
    db = root / "warehouse.duckdb"
    extract = root / "extract"
    generate_extract(extract, patients=40, seed=5, sites=1, start=dt.date(2020, 1, 1), end=dt.date(2021, 12, 31))
    with duckdb.connect(str(db)) as con:
        ingest_extract(con, extract, "recon_test", "reconciliation-test-key-0123456789")
    dbt_build(root, {"MLHOPS_WAREHOUSE_PATH": str(db)})
    with duckdb.connect(str(db)) as con:
        con.execute("CHECKPOINT")  # fold the WAL into the file, so that a copy of the file is complete
    return db


def test_every_loaded_row_reaches_the_cdm(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        result = reconcile(con)
        raw = {
            t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchall()[0][0]
            for t in (*CLINICAL_SOURCES, "encounters", "patients")
        }
        cdm = {t: con.execute(f"SELECT count(*) FROM omop.{t}").fetchall()[0][0] for t in EVENT_TABLES}
    assert result.ok, result.problems()
    assert result.lost_rows == 0
    assert {name: s.raw_rows for name, s in result.sources.items()} == raw
    assert all(s.reached_rows == s.raw_rows for s in result.sources.values())
    for name in ("conditions", "medications", "observations", "encounters", "patients"):
        assert result.sources[name].raw_rows > 0, name
    # Every CDM event row is accounted to exactly one source table.
    for table, rows in cdm.items():
        assert sum(s.cdm_rows_by_table.get(table, 0) for s in result.sources.values()) == rows, table
    assert result.sources["encounters"].cdm_rows_by_table == {"visit_detail": raw["encounters"]}
    assert not any(result.orphan_cdm_rows.values())


def test_a_deleted_cdm_row_is_flagged(warehouse: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, damaged)
    with duckdb.connect(str(damaged)) as con:
        # A condition row with exactly one event, so deleting its CDM row loses the source row.
        extract_id, line, event_id = con.execute(
            "SELECT extract_id, source_line, min(event_id) FROM omop_int.int__events "
            "WHERE event_source = 'conditions' AND cdm_table = 'condition_occurrence' "
            "GROUP BY extract_id, source_line HAVING count(*) = 1 ORDER BY source_line LIMIT 1"
        ).fetchall()[0]
        con.execute("DELETE FROM omop.condition_occurrence WHERE condition_occurrence_id = ?", [event_id])
        result = reconcile(con)
    conditions = result.sources["conditions"]
    assert not result.ok
    assert (conditions.lost_rows, conditions.lost_events) == (1, 1)
    assert conditions.lost_examples == [(extract_id, line)]
    assert result.lost_rows == 1
    assert any(p.startswith("conditions: 1 of") for p in result.problems())
    assert all(s.ok for name, s in result.sources.items() if name != "conditions")


def test_a_cdm_row_without_source_is_an_orphan(warehouse: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, damaged)
    with duckdb.connect(str(damaged)) as con:
        con.execute(
            "INSERT INTO omop.device_exposure (device_exposure_id, person_id, device_concept_id, "
            "device_exposure_start_date, device_type_concept_id) VALUES (1, 1, 0, DATE '2020-01-01', 32817)"
        )
        result = reconcile(con)
    assert result.orphan_cdm_rows["device_exposure"] == 1
    assert not result.ok and result.lost_rows == 0
