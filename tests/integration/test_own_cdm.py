"""Bring your own CDM (MLHOPS_CDM_SOURCE): quality, features, training and monitoring on a site's existing CDM.

The "site's CDM" here is a DuckDB file with the CDM tables in schema `cdm` and nothing else
(no raw layer, no dbt artefacts): the tables the session's whole-graph run built.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from mlhops_dagster.definitions import build_definitions
from mlhops_dagster.settings import Settings
from mlhops_dagster.warehouse import parse_cdm_source
from tests.support.whole_graph import RUN_CONFIG, WholeGraph

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("whole_graph")]
CDM_TABLES = (
    "person",
    "observation_period",
    "visit_occurrence",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "observation",
    "death",
    "procedure_occurrence",
)


@pytest.fixture(scope="module")
def site_cdm(tmp_path_factory: pytest.TempPathFactory, whole_graph: WholeGraph) -> Path:
    """A standalone CDM file (schema `cdm`), as a site that mapped its own data would have: the CDM tables
    the session's whole-graph run built, copied out without its raw layer or dbt artefacts."""
    cdm = tmp_path_factory.mktemp("site") / "site_cdm.duckdb"
    with duckdb.connect(str(cdm)) as con:
        con.execute(f"ATTACH '{whole_graph.settings.warehouse_path}' AS built (READ_ONLY)")
        con.execute("CREATE SCHEMA cdm")
        for table in CDM_TABLES:
            con.execute(f"CREATE TABLE cdm.{table} AS SELECT * FROM built.omop.{table}")
        con.execute("DETACH built")
    return cdm


def _settings(tmp: Path, cdm: Path) -> Settings:
    return Settings(
        data_dir=tmp / "data", cdm_source=parse_cdm_source(f"duckdb://{cdm}?schema=cdm"), monitoring_start="2016-01-01"
    )


def test_cdm_source_forms_and_errors(tmp_path: Path) -> None:
    cdm = tmp_path / "cdm.duckdb"
    duckdb.connect(str(cdm)).close()
    assert parse_cdm_source(str(cdm)).schema == "cdm"
    assert parse_cdm_source(f"duckdb://{cdm}?schema=main").path == cdm.resolve()
    pg = parse_cdm_source("postgresql://analyst@db.example:6543/ehr?schema=omop54")
    assert (pg.backend, pg.schema, pg.dsn.host, pg.dsn.port, pg.dsn.dbname) == (
        "postgres",
        "omop54",
        "db.example",
        6543,
        "ehr",
    )
    with pytest.raises(ValueError, match="does not exist"):
        parse_cdm_source(str(tmp_path / "missing.duckdb"))
    with pytest.raises(ValueError, match="MLHOPS_PG_PASSWORD"):
        parse_cdm_source("postgresql://analyst:secret@db.example/ehr")
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        parse_cdm_source(f"{cdm}?schema=cdm;drop")


def test_graph_on_own_cdm_has_no_ingest_or_mapping_and_cdm_tables_are_external(tmp_path: Path, site_cdm: Path) -> None:
    defs = build_definitions(_settings(tmp_path, site_cdm))
    dg.Definitions.validate_loadable(defs)
    schedule = defs.get_repository_def().get_schedule_def("monthly_monitoring_schedule")
    assert schedule.job_name == "monitoring_job"
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert "raw_ehr_extract" not in keys and "omop/visit_detail" not in keys
    person = graph.get(dg.AssetKey(["omop", "person"]))
    assert not person.is_executable
    assert "cdm.person" in person.metadata["relation"]
    assert graph.get(dg.AssetKey("cohort_features")).is_executable


def test_checks_features_training_and_monthly_monitoring_on_own_cdm(tmp_path: Path, site_cdm: Path) -> None:
    cdm = tmp_path / "cdm.duckdb"
    shutil.copy(site_cdm, cdm)
    settings = _settings(tmp_path, cdm)
    defs = build_definitions(settings)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("pipeline_job").execute_in_process(
            instance=instance, raise_on_error=False, run_config=RUN_CONFIG["pipeline_job"]
        )
        assert result.success
        checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        assert {e.event_specific_data.check_name for e in checks} >= {
            "person_year_of_birth_plausible",
            "plausible_value_heart_rate",
        }
        materialized = {
            e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
        }
        assert {"dqa_report", "cohort_features", "lightgbm_model", "model_registration"} <= materialized
        monitoring = defs.resolve_job_def("monitoring_job").execute_in_process(
            instance=instance, partition_key="2021-03-01", raise_on_error=False
        )
        assert monitoring.success
    with duckdb.connect(str(cdm), read_only=True) as con:
        # Results land beside the CDM (OHDSI's results-schema convention); the CDM tables are untouched.
        assert con.execute("SELECT count(*) FROM quality.check_results").fetchall()[0][0] >= len(checks)
        cohort = con.execute("SELECT count(*) FROM features.cohort").fetchall()[0][0]
        scored = con.execute(
            "SELECT count(*), min(index_date), max(index_date) FROM monitoring.batch_scores "
            "WHERE extract_id = '2021-03-01'"
        ).fetchall()[0]
        schemas = {r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()}
    assert cohort > 0
    assert scored[0] > 0 and str(scored[1])[:7] == str(scored[2])[:7] == "2021-03"
    assert "raw" not in schemas and "omop" not in schemas


def test_fatal_check_on_own_cdm_blocks_features(tmp_path: Path, site_cdm: Path) -> None:
    cdm = tmp_path / "cdm.duckdb"
    shutil.copy(site_cdm, cdm)
    with duckdb.connect(str(cdm)) as con:
        con.execute(
            "UPDATE cdm.cdm.person SET year_of_birth = 1800 WHERE person_id % 5 = 0"
        )  # file and schema both "cdm"
    defs = build_definitions(_settings(tmp_path, cdm))
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("pipeline_job").execute_in_process(instance=instance, raise_on_error=False)
    evaluations = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert not evaluations["person_year_of_birth_plausible"].passed
    materialized = {
        e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert not materialized & {"cohort_features", "lightgbm_model", "model_registration"}
