"""ML-DQA data elements: unit harmonisation, implausible values set to NULL and counted, on DuckDB and PostgreSQL."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from postgres_db import postgres_copy

from mlhops_dagster.quality.elements import (
    CONCEPT_SET_ELEMENTS,
    MEASUREMENT_ELEMENTS,
    element,
    element_values_sql,
    persist_summary,
    report_markdown,
    summarise_concept_sets,
    summarise_measurement_elements,
)

GLUCOSE, CREATININE, TEMPERATURE, WEIGHT, HBA1C, PAIN = 3000483, 3051825, 3020891, 3025315, 3004410, 43055141

# (measurement_id, person_id, concept, value, unit_concept_id, unit_source_value) -> (rule, harmonised value)
CASES: list[tuple[tuple, tuple[str, float | None]]] = [
    ((1, 1, GLUCOSE, 100.0, 8840, "mg/dL"), ("as_recorded", 100.0)),
    ((2, 1, GLUCOSE, 5.5, 8753, "mmol/L"), ("converted", 5.5 * 18.016)),
    ((3, 1, GLUCOSE, 250.0, 8753, "mmol/L"), ("implausible", None)),  # a mg/dL number labelled mmol/L: 4,504 mg/dL
    ((4, 2, GLUCOSE, 90.0, 0, "mg/dl"), ("as_recorded", 90.0)),  # unmapped unit: the source value, any case
    ((5, 2, GLUCOSE, 90.0, 0, "g/L"), ("unit_unknown", None)),  # no conversion known for g/L glucose
    ((6, 2, GLUCOSE, None, 8840, "mg/dL"), ("no_value", None)),
    ((7, 2, GLUCOSE, 95.0, 0, None), ("unit_assumed", 95.0)),  # no unit recorded: canonical, still range-checked
    ((8, 3, CREATININE, 88.42, 8749, "umol/L"), ("converted", 1.0)),
    ((9, 3, TEMPERATURE, 98.6, 9289, "[degF]"), ("converted", 37.0)),
    ((10, 3, TEMPERATURE, 37.2, 0, "Cel"), ("as_recorded", 37.2)),
    ((11, 3, WEIGHT, 154.0, 8739, "[lb_av]"), ("converted", 154.0 * 0.45359237)),
    ((12, 4, WEIGHT, 900.0, 9529, "kg"), ("implausible", None)),
    ((13, 4, HBA1C, 53.0, 9579, "mmol/mol"), ("converted", 0.09148 * 53 + 2.152)),
    ((14, 4, PAIN, 4.0, 0, "{score}"), ("as_recorded", 4.0)),
    ((15, 4, PAIN, 14.0, 0, "{score}"), ("implausible", None)),
    ((16, 4, 999, 1.0, 8840, "mg/dL"), None),  # a concept no element uses: not an element row
]


def tiny_cdm() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop")
    con.execute(
        "CREATE TABLE omop.measurement (measurement_id BIGINT, person_id BIGINT, measurement_concept_id INTEGER, "
        "measurement_date DATE, measurement_datetime TIMESTAMP, visit_occurrence_id BIGINT, "
        "value_as_number DOUBLE, unit_concept_id INTEGER, unit_source_value VARCHAR)"
    )
    con.executemany(
        "INSERT INTO omop.measurement VALUES (?, ?, ?, DATE '2020-01-01', NULL, NULL, ?, ?, ?)",
        [list(row) for row, _ in CASES],
    )
    con.execute("CREATE TABLE omop.person (person_id BIGINT)")
    con.execute("INSERT INTO omop.person VALUES (1), (2), (3), (4)")
    con.execute("CREATE TABLE omop.condition_occurrence (person_id BIGINT, condition_concept_id INTEGER)")
    con.execute("INSERT INTO omop.condition_occurrence VALUES (1, 320128), (1, 320128), (2, 320128), (3, 201826)")
    con.execute("CREATE TABLE omop.drug_exposure (person_id BIGINT, drug_concept_id INTEGER)")
    con.execute("INSERT INTO omop.drug_exposure VALUES (1, 1545959), (2, 1539411), (2, 19075601)")
    con.execute("CREATE TABLE omop.observation (person_id BIGINT, observation_concept_id INTEGER)")
    return con


def element_rows(con) -> dict[int, tuple[str, float | None]]:
    rows = con.execute(f"SELECT measurement_id, rule, value_as_number FROM ({element_values_sql('omop')}) v").fetchall()
    return {int(i): (rule, None if value is None else float(value)) for i, rule, value in rows}


def test_each_row_gets_its_rule_and_harmonised_value() -> None:
    got = element_rows(tiny_cdm())
    expected = {row[0]: want for row, want in CASES if want is not None}
    assert set(got) == set(expected)  # the unrelated concept is not an element row; no row is lost or doubled
    for measurement_id, (rule, value) in expected.items():
        assert got[measurement_id][0] == rule, measurement_id
        if value is None:
            assert got[measurement_id][1] is None, measurement_id
        else:
            assert got[measurement_id][1] == pytest.approx(value, rel=1e-6), measurement_id


def test_summary_counts_every_rule_and_person() -> None:
    con = tiny_cdm()
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
    markdown = report_markdown(summarise_measurement_elements(con, "omop"), groups.reset_index())
    assert markdown.index("| glucose |") < markdown.index("| creatinine |")  # most values set to NULL first


def test_summary_is_kept_for_every_run() -> None:
    con = tiny_cdm()
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


@pytest.mark.postgres
def test_same_rows_on_postgresql() -> None:
    duck = tiny_cdm()
    with postgres_copy(duck, ("omop",), "mlhops_elements") as pg:
        got = element_rows(pg)
        pg_summary = summarise_measurement_elements(pg, "omop")
    expected = element_rows(duck)
    assert got.keys() == expected.keys()
    for key, (rule, value) in expected.items():
        assert got[key][0] == rule and (got[key][1] is None) == (value is None), key
        if value is not None:
            assert got[key][1] == pytest.approx(value, rel=1e-9), key
    pd.testing.assert_frame_equal(pg_summary, summarise_measurement_elements(duck, "omop"), check_dtype=False)
