"""ML-DQA data elements: unit harmonisation, implausible values set to NULL and counted, on DuckDB and PostgreSQL."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from mlhops_dagster.quality.elements import (
    CONCEPT_SET_ELEMENTS,
    MEASUREMENT_ELEMENTS,
    concept_set_report,
    element,
    element_values_sql,
    measurement_report,
    persist_summary,
    summarise_concept_sets,
    summarise_measurement_elements,
)
from tests.support.quality_cdm import CASES, element_cdm, element_rows


def test_each_row_gets_its_rule_and_harmonised_value() -> None:
    got = element_rows(element_cdm())
    expected = {row[0]: want for row, want in CASES if want is not None}
    assert set(got) == set(expected)  # the unrelated concept is not an element row; no row is lost or doubled
    for measurement_id, (rule, value) in expected.items():
        assert got[measurement_id][0] == rule, measurement_id
        if value is None:
            assert got[measurement_id][1] is None, measurement_id
        else:
            assert got[measurement_id][1] == pytest.approx(value, rel=1e-6), measurement_id


def test_summary_counts_every_rule_and_person() -> None:
    con = element_cdm()
    summary = summarise_measurement_elements(con, "omop").set_index("element_id")
    glucose = summary.loc["glucose"]
    assert (
        glucose["rows"],
        glucose["rows_as_recorded"],
        glucose["rows_converted"],
        glucose["rows_unit_assumed"],
        glucose["rows_unit_unknown"],
        glucose["rows_implausible"],
        glucose["rows_no_value"],
    ) == (7, 2, 1, 1, 1, 1, 1)
    assert glucose["kept"] == 4 and glucose["kept_pct"] == pytest.approx(100 * 4 / 6, abs=1e-3)
    assert glucose["persons"] == 2  # persons with at least one usable value
    assert "mmol/l: 2" in glucose["units_seen"] and "(none): 1" in glucose["units_seen"]
    assert summary.loc["body_weight", "rows_implausible"] == 1 and summary.loc["body_weight", "persons"] == 1
    assert summary.loc["platelets", "rows"] == 0 and pd.isna(summary.loc["platelets", "kept_pct"])
    groups = summarise_concept_sets(con, "omop").set_index("element_id")
    assert tuple(groups.loc["hypertension", ["rows", "persons"]]) == (3, 2)
    assert groups.loc["hypertension", "persons_pct"] == 50.0
    assert tuple(groups.loc["statin", ["rows", "persons", "concepts_seen"]]) == (2, 2, 2)
    assert groups.loc["obesity", "rows"] == 0
    report = list(measurement_report(summarise_measurement_elements(con, "omop"))["element_id"])
    assert report.index("glucose") < report.index("creatinine")  # most values set to NULL first
    assert list(concept_set_report(groups.reset_index())["element_id"])[:2] == ["hypertension", "type2_diabetes"]


def test_summary_is_kept_for_every_run() -> None:
    con = element_cdm()
    measurements = summarise_measurement_elements(con, "omop")
    summary = pd.concat([measurements, summarise_concept_sets(con, "omop")], ignore_index=True)
    persist_summary(con, "run-1", summary)
    persist_summary(con, "run-2", summary)
    rows = con.execute(
        "SELECT run_id, count(*), sum(rows_implausible) FROM quality.data_elements GROUP BY run_id ORDER BY run_id"
    ).fetchall()
    assert rows == [("run-1", len(summary), 3), ("run-2", len(summary), 3)]  # glucose, weight, pain


def test_catalogue_is_consistent() -> None:
    concepts = [c for e in MEASUREMENT_ELEMENTS for c in e.concept_ids]
    assert len(concepts) == len(set(concepts))
    assert len({e.id for e in (*MEASUREMENT_ELEMENTS, *CONCEPT_SET_ELEMENTS)}) == len(MEASUREMENT_ELEMENTS) + len(
        CONCEPT_SET_ELEMENTS
    )
    assert element("glucose").unit == "mg/dL" and (element("glucose").low, element("glucose").high) == (10, 2000)
    with pytest.raises(KeyError, match="unknown data element"):
        element("nope")


def test_optional_columns_read_as_null() -> None:
    """A CDM whose measurement table lacks the unit columns still works: every value is 'unit_assumed'."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop")
    con.execute(
        "CREATE TABLE omop.measurement AS SELECT 1 AS person_id, 3000483 AS measurement_concept_id, "
        "DATE '2020-01-01' AS measurement_date, 100.0 AS value_as_number"
    )
    cols = {"person_id", "measurement_concept_id", "measurement_date", "value_as_number"}
    rows = con.execute(f"SELECT rule, value_as_number FROM ({element_values_sql('omop', columns=cols)}) v").fetchall()
    assert [(rule, float(v)) for rule, v in rows] == [("unit_assumed", 100.0)]
