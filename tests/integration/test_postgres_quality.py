"""The data-quality checks and data elements give the same outcomes on PostgreSQL as on DuckDB (tiny CDMs copied)."""

from __future__ import annotations

import pandas as pd
import pytest

from mlhops_dagster.quality.elements import summarise_measurement_elements
from tests.support.postgres_db import postgres_copy
from tests.support.quality_cdm import concept_cdm, concept_outcomes, dqd_cdm, element_cdm, element_rows, run_all

pytestmark = pytest.mark.postgres


@pytest.mark.postgres
def test_same_outcomes_on_postgresql() -> None:
    duck = dqd_cdm()
    expected = run_all(duck)
    with postgres_copy(duck, ("omop", "vocab"), "mlhops_dqd") as pg:
        got = run_all(pg)
    assert {k: v for k, v in got.items() if v[0] != "Error"} == {k: v for k, v in expected.items() if v[0] != "Error"}
    assert {k for k, v in got.items() if v[0] == "Error"} == {k for k, v in expected.items() if v[0] == "Error"}


@pytest.mark.postgres
def test_concept_level_checks_on_postgresql() -> None:
    with postgres_copy(concept_cdm(), ("omop", "vocab"), "mlhops_dqd") as pg:
        assert concept_outcomes(pg) == concept_outcomes(concept_cdm())


@pytest.mark.postgres
def test_same_rows_on_postgresql() -> None:
    duck = element_cdm()
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
