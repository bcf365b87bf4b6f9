"""The OMOP build maps through an Athena-format vocabulary directory instead of the demo seeds.

The test writes a tiny Athena download (tests/athena_download.py: tab-delimited, upper-case file
names, YYYYMMDD dates, the demo vocabulary plus one extra code), loads it with the loader the
`athena_vocabulary` asset uses, and builds with ``--vars {vocabulary: athena}``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from mlhops_dagster.ehr.ingest import ingest_extract
from mlhops_dagster.omop.vocabulary import load_athena_vocabulary
from mlhops_dagster.synthetic import UNMAPPED_CONDITION, DefectSpec, generate_extract
from tests.support.athena_download import PNEUMONIA_CONCEPT, write_athena_directory
from tests.support.dbt_build import dbt_build


@pytest.fixture(scope="module")
def athena_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("athena")
    db = root / "warehouse.duckdb"
    extract = root / "extract"
    generate_extract(
        extract,
        patients=80,
        seed=41,
        sites=1,
        start=dt.date(2019, 1, 1),
        end=dt.date(2021, 12, 31),
        defects=[DefectSpec("unmapped_codes", 0.1)],
    )
    con = duckdb.connect(str(db))
    ingest_extract(con, extract, "athena_test", "athena-test-key-0123456789")
    load = load_athena_vocabulary(con, write_athena_directory(root / "athena"))
    assert not load.reused and load.tables["concept"] > 90
    con.close()
    dbt_build(root, {"MLHOPS_WAREHOUSE_PATH": str(db)}, dbt_vars={"vocabulary": "athena"})
    return db


def test_codes_map_through_the_athena_tables(athena_build: Path) -> None:
    con = duckdb.connect(str(athena_build))
    try:
        pneumonia = con.execute(
            "SELECT count(*) FROM omop.condition_occurrence WHERE condition_concept_id = ?", [PNEUMONIA_CONCEPT]
        ).fetchall()[0][0]
        raw_pneumonia = con.execute(
            "SELECT count(*) FROM raw.conditions WHERE code = ?", [UNMAPPED_CONDITION[0]]
        ).fetchall()[0][0]
        prediabetes = con.execute(
            "SELECT count(*) FROM omop.condition_occurrence WHERE condition_source_value = '15777000' "
            "AND condition_concept_id <> 4311629"
        ).fetchall()[0][0]
        unmapped = con.execute(
            "SELECT count(*) FROM omop.condition_occurrence WHERE condition_concept_id = 0"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert raw_pneumonia > 0 and pneumonia == raw_pneumonia  # the demo seeds would leave these at concept 0
    assert prediabetes == 0  # 'Maps to' followed through CONCEPT_RELATIONSHIP.csv
    assert unmapped == 0
