"""The whole graph on a PostgreSQL warehouse (MLHOPS_WAREHOUSE=postgres): nothing is written to DuckDB.

Raw ingest runs in a scratch DuckDB and is copied in; dbt builds with its `postgres` target;
checks run in PostgreSQL; features are computed over a snapshot and written back; batch
scores and drift results land in PostgreSQL. Runs in CI against the local server.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
import psycopg2
import pytest

from mlhops_dagster.definitions import build_definitions
from mlhops_dagster.settings import Settings
from mlhops_dagster.synthetic import DRIFT_PRESETS, generate_extract
from mlhops_dagster.warehouse import PostgresDsn
from tests.support.postgres_db import PG, throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
FIRST, SECOND = "pg_2016_2021", "pg_2022_2023"


@pytest.fixture(scope="module")
def pg_pipeline(tmp_path_factory: pytest.TempPathFactory):
    with throwaway_database("mlhops_wh") as database:
        data_dir = tmp_path_factory.mktemp("pg_data")
        settings = Settings(
            data_dir=data_dir,
            pseudonym_key="pg-warehouse-key-0123456789",
            warehouse="postgres",
            postgres=PostgresDsn(host=PG["host"], port=PG["port"], user=PG["user"], dbname=database),
        )
        generate_extract(
            settings.landing_dir / FIRST,
            patients=300,
            seed=31,
            sites=2,
            start=dt.date(2016, 1, 1),
            end=dt.date(2021, 12, 31),
        )
        generate_extract(
            settings.landing_dir / SECOND,
            patients=200,
            seed=32,
            sites=2,
            start=dt.date(2022, 1, 1),
            end=dt.date(2023, 12, 31),
            drift=DRIFT_PRESETS["aging"],
        )
        defs = build_definitions(settings)
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("extracts", [FIRST, SECOND])
            for job, partition in (
                ("ingest_job", FIRST),
                ("ingest_job", SECOND),
                ("pipeline_job", None),
                ("monitoring_job", SECOND),
            ):
                result = defs.resolve_job_def(job).execute_in_process(
                    instance=instance, partition_key=partition, raise_on_error=False
                )
                assert result.success, f"{job}[{partition}] failed on the PostgreSQL warehouse"
            con = psycopg2.connect(dbname=database, **PG)
            try:
                yield settings, instance, con
            finally:
                con.close()


def _one(con, sql: str):
    with con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()[0][0]


def test_every_layer_lands_in_postgres_and_none_in_duckdb(pg_pipeline) -> None:
    settings, _, con = pg_pipeline
    assert not settings.warehouse_path.exists()
    patients = sum(
        len((settings.landing_dir / e / "patients.csv").read_text().splitlines()) - 1 for e in (FIRST, SECOND)
    )
    assert _one(con, "SELECT count(*) FROM raw.patients") == patients
    assert _one(con, "SELECT count(DISTINCT extract_id) FROM raw.extract_manifest") == 2
    assert _one(con, "SELECT count(*) FROM omop.person") == patients
    assert _one(con, "SELECT count(*) FROM omop.measurement") > 0
    assert _one(con, "SELECT count(*) FROM quality.check_results") > 0
    assert (
        _one(
            con, "SELECT count(*) FROM quality.check_results WHERE severity = 'ERROR' AND status IN ('Failed', 'Error')"
        )
        == 0
    )


def test_features_in_postgres_match_the_parquet_snapshot(pg_pipeline) -> None:
    settings, _, con = pg_pipeline
    parquet = pd.read_parquet(settings.data_dir / "features" / "cohort_features.parquet")
    assert _one(con, "SELECT count(*) FROM features.cohort") == len(parquet) > 0
    assert _one(con, "SELECT sum(outcome) FROM features.cohort") == int(parquet["outcome"].sum())


def test_reingest_replaces_one_extract_only(pg_pipeline) -> None:
    settings, instance, con = pg_pipeline
    before = _one(con, "SELECT count(*) FROM raw.encounters")
    defs = build_definitions(settings)
    assert defs.resolve_job_def("ingest_job").execute_in_process(instance=instance, partition_key=SECOND).success
    assert _one(con, "SELECT count(*) FROM raw.encounters") == before
    assert _one(con, f"SELECT count(*) FROM raw.encounters WHERE extract_id = '{FIRST}'") > 0


def test_new_extract_scored_and_drift_recorded_in_postgres(pg_pipeline) -> None:
    _, instance, con = pg_pipeline
    assert _one(con, f"SELECT count(*) FROM monitoring.batch_scores WHERE extract_id = '{SECOND}'") > 0
    assert _one(con, "SELECT count(*) FROM monitoring.batch_scores WHERE score < 0 OR score > 1") == 0
    drift = _one(con, f"SELECT share_drifted FROM monitoring.drift_results WHERE extract_id = '{SECOND}'")
    event = instance.get_latest_materialization_event(dg.AssetKey("drift_report"))
    assert drift == pytest.approx(event.asset_materialization.metadata["share_drifted"].value)


def test_athena_vocabulary_is_published_to_postgres_once(tmp_path) -> None:
    from assets.vocabulary import build_athena_vocabulary_asset
    from resources import WarehouseResource
    from tests.support.athena_download import write_athena_directory

    athena = write_athena_directory(tmp_path / "athena")
    concepts = len((athena / "CONCEPT.csv").read_text().splitlines()) - 1
    with throwaway_database("mlhops_vocab") as database:
        warehouse = WarehouseResource(
            backend="postgres",
            path=str(tmp_path / "data" / "warehouse.duckdb"),
            pg_host=PG["host"],
            pg_port=PG["port"],
            pg_user=PG["user"],
            pg_dbname=database,
        )
        asset = build_athena_vocabulary_asset(str(athena))
        first = dg.materialize([asset], resources={"warehouse": warehouse})
        second = dg.materialize([asset], resources={"warehouse": warehouse})
        con = psycopg2.connect(dbname=database, **PG)
        try:
            loaded = _one(con, "SELECT count(*) FROM vocab_athena.concept")
            maps_to = _one(
                con, "SELECT count(*) FROM vocab_athena.concept_relationship WHERE relationship_id = 'Maps to'"
            )
        finally:
            con.close()
    meta = [r.asset_materializations_for_node("athena_vocabulary")[0].metadata for r in (first, second)]
    assert loaded == concepts and maps_to > 0
    assert (meta[0]["reused"].value, meta[1]["reused"].value) == (False, True)
    assert "CONCEPT_ANCESTOR" in meta[0]["warnings"].value  # the tiny download has none: drug_era would be empty
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


ROUND_TRIP_TEXT = ["", None, 'a,b "quoted"\nline two \\ back\ttab', "Zoë ✓ 日本語", "NULL", "\\N", " "]


def test_write_frame_keeps_empty_strings_apart_from_nulls(tmp_path) -> None:
    """'' stays '' and None/NaN stay NULL on PostgreSQL (COPY CSV reads an unquoted empty field as NULL)."""
    import duckdb

    from mlhops_dagster.warehouse import write_frame

    n = len(ROUND_TRIP_TEXT)
    frame = pd.DataFrame(
        {
            "id": range(n),
            "text": ROUND_TRIP_TEXT,
            "nan_text": [float("nan") if v is None else v for v in ROUND_TRIP_TEXT],  # pandas' own missing marker
            "string": pd.array(ROUND_TRIP_TEXT, dtype="string"),
            "score": [0.5, None, 1.25, float("inf"), 0.0, -2.5, 3.0],
            "seen": pd.to_datetime(["2024-01-02 03:04:05.123456", None, *["2024-02-29"] * (n - 2)], format="ISO8601"),
            "seen_tz": pd.to_datetime(
                ["2024-01-02 03:04:05", None, *["2024-07-01"] * (n - 2)], format="ISO8601"
            ).tz_localize("Europe/Berlin"),
        }
    )
    expected_text = [(i, v, v, v) for i, v in enumerate(ROUND_TRIP_TEXT)]
    text_sql = "SELECT id, text, nan_text, string FROM results.frame ORDER BY id"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as duck:
        write_frame(duck, "results", "frame", frame)
        duck_text = duck.execute(text_sql).fetchall()
        duck_scores = duck.execute(
            "SELECT score, seen, seen_tz = TIMESTAMPTZ '2024-01-02 02:04:05+00' FROM results.frame ORDER BY id"
        ).fetchall()
    with throwaway_database("mlhops_frame") as database:
        pg = PostgresDsn(host=PG["host"], port=PG["port"], user=PG["user"], dbname=database).connect()
        try:
            write_frame(pg, "results", "frame", frame)
            assert pg.execute(text_sql).fetchall() == expected_text
            assert pg.execute("SELECT count(*) FROM results.frame WHERE text = ''").fetchall()[0][0] == 1
            assert (
                pg.execute(
                    "SELECT score, seen, seen_tz = TIMESTAMPTZ '2024-01-02 02:04:05+00' FROM results.frame ORDER BY id"
                ).fetchall()
                == duck_scores
            )
            # Replacing one slice of rows goes through the same writer.
            write_frame(
                pg,
                "results",
                "frame",
                frame.assign(id=frame["id"] + n, text=frame["text"].iloc[::-1].values),
                replace_where=("nan_text", ""),
            )
            text_by_id = dict(pg.execute("SELECT id, text FROM results.frame").fetchall())
        finally:
            pg.close()
    assert duck_text == expected_text  # both backends store the same values
    assert len(text_by_id) == 2 * n - 1  # the '' row was replaced, the NULL row was not
    assert [text_by_id[n + i] for i in range(n)] == ROUND_TRIP_TEXT[::-1]
    assert duck_scores[0] == (0.5, pd.Timestamp("2024-01-02 03:04:05.123456").to_pydatetime(), True)
    assert duck_scores[1] == (None, None, None) and duck_scores[3][0] == float("inf")
