"""Each cohort rule on its own, on the hand-made CDM: index events, outcomes, exclusions, censoring.

Each test runs one rule's CTE (or the flagged rows it feeds) rather than the whole feature query,
so a broken rule is named by its own test. The cases are the comments on the rows of
``tests.support.cdm``.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from mlhops_dagster.features.cohort import (
    attrition_steps,
    cohort_ctes,
    death_cte,
    follow_up_cte,
    index_events_cte,
    outcome_cte,
)
from mlhops_dagster.features.schema import check_inputs
from mlhops_dagster.features.task import DEFAULT_TASK
from tests.support.cdm import make_cdm


@pytest.fixture(scope="module")
def cdm() -> Iterator[tuple[duckdb.DuckDBPyConnection, str, dict[str, set[str]]]]:
    con = make_cdm()
    s, available = check_inputs(con, DEFAULT_TASK, "omop", ())
    yield con, s, available
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, ctes: list[str], sql: str) -> list[tuple]:
    return con.execute("WITH " + ",\n".join(ctes) + "\n" + sql).fetchall()


def test_index_events_are_the_task_visits_with_their_discharge_date_checked(cdm) -> None:
    con, s, available = cdm
    rows = _rows(
        con,
        [index_events_cte(DEFAULT_TASK, s, available)],
        "SELECT visit_occurrence_id, CAST(index_date AS VARCHAR), dates_ok FROM index_events ORDER BY row_id",
    )
    by_visit = {v: (d, ok) for v, d, ok in rows}
    assert by_visit[101] == ("2020-01-05", True)  # discharge index
    assert by_visit[701] == ("2020-07-08", False)  # discharge before admission
    assert 501 not in by_visit  # outpatient visits are not index events


def test_outcomes_are_other_stays_inside_the_time_at_risk(cdm) -> None:
    con, s, available = cdm
    ctes = [index_events_cte(DEFAULT_TASK, s, available), outcome_cte(DEFAULT_TASK, s)]
    rows = _rows(
        con, ctes, "SELECT i.visit_occurrence_id FROM outcome_events o JOIN index_events i ON i.row_id = o.row_id"
    )
    with_outcome = {v for (v,) in rows}
    assert {101, 201, 901} <= with_outcome  # day 10, exactly day 30, day 4
    assert not {102, 103, 801} & with_outcome  # day 40, none, day 31


def test_exclusion_and_censoring_flags_per_candidate_event(cdm) -> None:
    con, s, available = cdm
    rows = _rows(
        con,
        [cohort_ctes(DEFAULT_TASK, s, available).lstrip()],
        "SELECT visit_occurrence_id, age_at_index, alive, follow_up_ok FROM flagged",
    )
    flags = {v: (age, alive, follow_up) for v, age, alive, follow_up in rows}
    assert flags[301][0] < 18  # the child
    assert flags[401][1] is False and flags[411][1] is False  # died during the stay / on the discharge day
    assert flags[202][2] is False and flags[902][2] is False  # censored: observation ends too early
    assert flags[901][2] is True  # outcome observed before the observation ends


def test_the_death_and_follow_up_ctes_stand_alone(cdm) -> None:
    con, s, available = cdm
    ctes = [index_events_cte(DEFAULT_TASK, s, available), death_cte(s), follow_up_cte(DEFAULT_TASK, s)]
    deaths = dict(_rows(con, ctes, "SELECT person_id, CAST(death_date AS VARCHAR) FROM first_death"))
    assert set(deaths) == {4, 41}
    assert _rows(con, ctes, "SELECT count(*) FROM index_with_follow_up") == _rows(
        con, ctes, "SELECT count(*) FROM index_events"
    )


def test_attrition_steps_name_each_rule_in_order() -> None:
    names = [name for name, _ in attrition_steps(DEFAULT_TASK)]
    assert names[:4] == ["index_events", "valid_index_date", "age_at_least_18", "alive_at_index"]
    assert names[-1] == "sufficient_follow_up"
