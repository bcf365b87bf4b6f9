"""Table existence and row counts, as the assets' metadata reads them."""

from __future__ import annotations

import duckdb

from mlhops_dagster.ehr.ingest import create_raw_tables, loaded_extracts
from mlhops_dagster.warehouse.tables import row_count, table_exists


def test_row_count_of_a_table_a_view_and_an_absent_relation() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop")
    con.execute("CREATE TABLE omop.person AS SELECT * FROM range(7) t(person_id)")
    con.execute("CREATE VIEW omop.adults AS SELECT * FROM omop.person WHERE person_id > 2")
    assert (row_count(con, "omop", "person"), row_count(con, "omop", "adults")) == (7, 4)
    assert row_count(con, "omop", "death") is None and not table_exists(con, "nowhere", "person")


def test_loaded_extracts_read_the_manifest_in_order_and_none_without_one() -> None:
    con = duckdb.connect()
    assert loaded_extracts(con) == []  # a site's own CDM has no raw layer
    create_raw_tables(con)
    assert loaded_extracts(con) == []
    for extract_id in ("synthea_2022", "synthea_2016"):
        con.execute("INSERT INTO raw.extract_manifest (extract_id, loaded_at) VALUES (?, now())", [extract_id])
    assert loaded_extracts(con) == ["synthea_2016", "synthea_2022"]
