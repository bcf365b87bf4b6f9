"""The dbt project `dbt_omop` builds the same OMOP CDM on PostgreSQL as on DuckDB.

A small generated extract is ingested into a temporary DuckDB file (schema `raw`), every raw
table is copied into a throw-away PostgreSQL database, and `dbt build` (seeds, models, tests)
runs once per target: the default `duckdb` and `--target postgres`. Every CDM table must have
the same row count on both, and the id / concept columns of the main event tables must be
identical (surrogate ids are engine independent).

Runs in CI, where PostgreSQL is on 127.0.0.1:5432; elsewhere it skips when no server answers.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import duckdb
import pytest

from mlhops_dagster.ehr.ingest import ingest_extract
from mlhops_dagster.omop.reconciliation import reconcile
from mlhops_dagster.synthetic import generate_extract
from mlhops_dagster.warehouse import PostgresConnection, copy_duckdb_to_postgres
from tests.support.dbt_build import dbt_build
from tests.support.postgres_db import admin_connection

psycopg2 = pytest.importorskip("psycopg2")

pytestmark = pytest.mark.postgres

PG = {
    "host": os.environ.get("MLHOPS_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("MLHOPS_PG_PORT", "5432")),
    "user": os.environ.get("MLHOPS_PG_USER", "postgres"),
    "password": os.environ.get("MLHOPS_PG_PASSWORD", ""),
}

# Event tables whose id and concept columns must match row for row across engines.
COMPARED_TABLES = ("person", "visit_occurrence", "condition_occurrence", "measurement", "observation")


def _create_database(admin, name: str) -> None:
    """Create `name`, with a linguistic (ICU en-US) collation where the server has ICU.

    Under such a collation text sorts unlike DuckDB's byte order (case, punctuation), so
    the build proves that its text orderings do not depend on the database collation.
    """
    try:
        admin.cursor().execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
            "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
    except psycopg2.Error:
        admin.cursor().execute(f"CREATE DATABASE {name}")


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, object]]:
    """(DuckDB connection, PostgreSQL connection) to the two CDM builds of the same extract."""
    admin = admin_connection()
    tmp = tmp_path_factory.mktemp("dbt_pg")
    database = f"mlhops_dbt_{uuid.uuid4().hex[:10]}"

    extract = tmp / "landing" / "pg_extract"
    generate_extract(extract, patients=80, seed=5, sites=2, start=dt.date(2019, 1, 1), end=dt.date(2021, 12, 31))
    warehouse = tmp / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as duck:
        ingest_extract(duck, extract, "pg_test", "pg-test-key-0123456789abcdef")

    _create_database(admin, database)
    pg_con = None
    duck = None
    try:
        pg_con = psycopg2.connect(dbname=database, **PG)
        pg_con.autocommit = True
        copier = PostgresConnection(psycopg2.connect(dbname=database, **PG))
        with duckdb.connect(str(warehouse)) as raw:
            copy_duckdb_to_postgres(raw, copier, "raw")
        copier.close()

        pg_env = {
            "MLHOPS_WAREHOUSE_PATH": str(warehouse),
            "MLHOPS_PG_HOST": PG["host"],
            "MLHOPS_PG_PORT": str(PG["port"]),
            "MLHOPS_PG_USER": PG["user"],
            "MLHOPS_PG_PASSWORD": PG["password"],
            "MLHOPS_PG_DB": database,
        }
        dbt_build(tmp / "pg", pg_env, target="postgres")
        dbt_build(tmp / "duck", {"MLHOPS_WAREHOUSE_PATH": str(warehouse)})

        duck = duckdb.connect(str(warehouse))
        yield duck, pg_con
    finally:
        if duck is not None:
            duck.close()
        if pg_con is not None:
            pg_con.close()
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.close()


def _pg_rows(pg_con, sql: str) -> list[tuple]:
    with pg_con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def _cdm_tables(duck: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in duck.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'omop' ORDER BY 1"
        ).fetchall()
    ]


def test_same_cdm_tables_and_row_counts(warehouses):
    duck, pg_con = warehouses
    duck_tables = _cdm_tables(duck)
    pg_tables = [
        r[0]
        for r in _pg_rows(
            pg_con, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'omop' ORDER BY 1"
        )
    ]
    assert duck_tables == pg_tables
    assert {"person", "visit_occurrence", "condition_occurrence", "measurement", "drug_era"} <= set(duck_tables)
    counts_duck = {t: duck.execute(f"SELECT count(*) FROM omop.{t}").fetchall()[0][0] for t in duck_tables}
    counts_pg = {t: _pg_rows(pg_con, f"SELECT count(*) FROM omop.{t}")[0][0] for t in pg_tables}
    assert counts_duck == counts_pg
    assert counts_duck["person"] > 0 and counts_duck["measurement"] > 0


@pytest.mark.parametrize("table", COMPARED_TABLES)
def test_same_ids_and_concepts(warehouses, table):
    duck, pg_con = warehouses
    columns = [
        r[0]
        for r in duck.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'omop' AND table_name = ? AND column_name LIKE '%\\_id' ESCAPE '\\' "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]
    assert columns[0] == f"{table}_id" and any(c.endswith("concept_id") for c in columns)
    select = ", ".join(columns)
    order = ", ".join(f"{c} NULLS FIRST" for c in columns)
    sql = f"SELECT {select} FROM omop.{table} ORDER BY {order}"
    duck_rows = duck.execute(sql).fetchall()
    pg_rows = _pg_rows(pg_con, sql)
    assert len(duck_rows) > 0
    assert duck_rows == pg_rows


def test_every_cdm_table_has_identical_contents(warehouses):
    """Stronger than ids: every column of every CDM table (dates, values, source values) matches."""
    duck, pg_con = warehouses
    different = []
    for table in _cdm_tables(duck):
        columns = [
            r[0]
            for r in duck.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'omop' AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
        sql = f"SELECT {', '.join(columns)} FROM omop.{table}"
        # Sorted here, not in SQL: text ordering would depend on the database collation.
        if sorted(map(repr, duck.execute(sql).fetchall())) != sorted(map(repr, _pg_rows(pg_con, sql))):
            different.append(table)
    assert different == []


def test_reconciliation_on_postgres_matches_duckdb(warehouses):
    """Every loaded raw row reaches the PostgreSQL CDM too, with the same per-source accounting as on DuckDB."""
    duck, pg_con = warehouses
    on_pg = reconcile(PostgresConnection(pg_con))
    assert on_pg.ok, on_pg.problems()
    assert on_pg.lost_rows == 0 and not any(on_pg.orphan_cdm_rows.values())
    assert on_pg.sources["conditions"].raw_rows > 0 and on_pg.sources["patients"].reached_rows > 0
    assert on_pg.as_rows() == reconcile(duck).as_rows()
    assert _pg_rows(pg_con, "SELECT count(*) FROM pg_tables WHERE tablename LIKE '\\_recon\\_%'") == [(0,)]


def test_reconciliation_on_postgres_flags_a_deleted_cdm_row(warehouses):
    _, pg_con = warehouses
    pg = PostgresConnection(pg_con)
    pg.execute("BEGIN")  # the deletion is rolled back: the other tests compare the full CDM
    try:
        # A condition row with exactly one event, so deleting its CDM row loses the source row.
        extract_id, line, event_id = pg.execute(
            "SELECT extract_id, source_line, min(event_id) FROM omop_int.int__events "
            "WHERE event_source = 'conditions' AND cdm_table = 'condition_occurrence' "
            "GROUP BY extract_id, source_line HAVING count(*) = 1 ORDER BY source_line LIMIT 1"
        ).fetchall()[0]
        pg.execute("DELETE FROM omop.condition_occurrence WHERE condition_occurrence_id = ?", [event_id])
        pg.execute("DELETE FROM omop.person WHERE person_id = (SELECT min(person_id) FROM omop.person)")
        result = reconcile(pg)
    finally:
        pg.execute("ROLLBACK")
    conditions, patients = result.sources["conditions"], result.sources["patients"]
    assert not result.ok and result.lost_rows == 1 + patients.lost_rows
    assert (conditions.lost_rows, conditions.lost_events, conditions.lost_examples) == (1, 1, [(extract_id, line)])
    assert patients.lost_rows >= 1  # the person id recomputed from raw.patients no longer finds its row
    assert all(s.ok for name, s in result.sources.items() if name not in ("conditions", "patients"))
    assert _pg_rows(
        pg_con, f"SELECT count(*) FROM omop.condition_occurrence WHERE condition_occurrence_id = {int(event_id)}"
    ) == [(1,)]
