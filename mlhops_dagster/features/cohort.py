"""The cohort of a prediction task as SQL: index events, outcomes, exclusions and censoring.

Each rule is a small function returning its CTE or its predicate; :func:`cohort_ctes` composes
them into the CTEs every feature query starts from. One row per index event (``row_id``), in
the steps :func:`attrition_steps` names (and :func:`~mlhops_dagster.features.attrition.cohort_attrition`
counts):

1. Index events (visits of the task's visit concepts, or condition occurrences of its concept set).
2. A valid index date (for a discharge index: an end date on or after the start date).
3. The person exists and is ``min_age``..``max_age`` full years old at the index date (birth date
   from ``birth_datetime``, else ``year/month/day_of_birth``, a missing month/day taken as 1).
4. Alive at the index date (no ``death_date <= index_date``).
5. Prior observation (washout), when the task asks for it.
6. One step per exclusion: no record of its concepts in its window.
7. First qualifying event per person, when ``first_only``.
8. Censoring, when ``require_full_follow_up``: an event without an observed outcome is kept only
   when the observation period containing the index date reaches the end of the time-at-risk.
   Deaths after the index date are not a competing risk: such an event is kept (label 0) when
   the observation period still covers the time-at-risk, and censored otherwise.

The label (``outcome``) is 1 when the task's outcome starts in
``[index + time_at_risk.start_day, index + time_at_risk.end_day]``, else 0.

CTEs, in order: ``index_events``, ``first_death``, ``index_with_follow_up``, ``outcome_events``,
``flagged_base``, ``flagged_age``, ``flagged`` (every candidate event with one boolean column per
step) and ``cohort`` (the events that pass them all). ``s`` is the quoted CDM schema and
``available`` its columns (:func:`~mlhops_dagster.features.schema.check_inputs`).
"""

from __future__ import annotations

from mlhops_dagster.features.schema import DOMAIN_TABLE, SOURCES
from mlhops_dagster.features.sql import date, ids, quote
from mlhops_dagster.features.task import Exclusion, PredictionTask

# --------------------------------------------------------------------------------------
# Index events
# --------------------------------------------------------------------------------------


def _visit_index_events(task: PredictionTask, s: str, available: dict[str, set[str]]) -> str:
    care_site = "v.care_site_id" if "care_site_id" in available.get("visit_occurrence", set()) else "NULL"
    start = date("v.visit_start_date")
    if task.index.date == "visit_end":
        index_date = date("v.visit_end_date")
        dates_ok = f"({index_date} IS NOT NULL AND {start} IS NOT NULL AND {index_date} >= {start})"
    else:
        index_date, dates_ok = start, f"({start} IS NOT NULL)"
    return f"""SELECT v.visit_occurrence_id, v.person_id, CAST({care_site} AS BIGINT) AS care_site_id,
           {start} AS visit_start_date, {index_date} AS index_date, {dates_ok} AS dates_ok
    FROM {s}.visit_occurrence v
    WHERE v.visit_concept_id IN ({ids(task.index.concept_ids)})"""


def _condition_index_events(task: PredictionTask, s: str, available: dict[str, set[str]]) -> str:
    """Several records of one person on one day are one index event (the smallest visit id, if any)."""
    cols = available.get("condition_occurrence", set())
    visit = "x.visit_occurrence_id" if "visit_occurrence_id" in cols else "NULL"
    start = date("x.condition_start_date")
    return f"""SELECT CAST(MIN({visit}) AS BIGINT) AS visit_occurrence_id, x.person_id,
           CAST(NULL AS BIGINT) AS care_site_id, {start} AS visit_start_date, {start} AS index_date,
           {start} IS NOT NULL AS dates_ok
    FROM {s}.condition_occurrence x
    WHERE x.condition_concept_id IN ({ids(task.index.concept_ids)})
    GROUP BY x.person_id, {start}"""


def index_events_cte(task: PredictionTask, s: str, available: dict[str, set[str]]) -> str:
    """CTE ``index_events``: every candidate index event with its index date, ``dates_ok`` and a ``row_id``."""
    if task.index.domain == "visit":
        events = _visit_index_events(task, s, available)
    else:
        events = _condition_index_events(task, s, available)
    return f"""index_events AS (
    SELECT e.*, row_number() OVER (ORDER BY e.person_id, e.index_date, e.visit_occurrence_id) AS row_id
    FROM (
    {events}
    ) e
)"""


# --------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------


def outcome_cte(task: PredictionTask, s: str) -> str:
    """CTE ``outcome_events``: the ``row_id`` of each index event whose outcome starts in the time-at-risk.

    A visit outcome is another visit than the index visit (a stay is not its own readmission).
    """
    tar = task.time_at_risk
    if task.outcome.domain == "visit":
        outcome_join = f"""JOIN {s}.visit_occurrence r
      ON r.person_id = i.person_id
     AND r.visit_occurrence_id IS DISTINCT FROM i.visit_occurrence_id
     AND r.visit_concept_id IN ({ids(task.outcome.concept_ids)})
     AND {date("r.visit_start_date")} BETWEEN i.index_date + {tar.start_day} AND i.index_date + {tar.end_day}"""
    else:
        outcome_join = f"""JOIN {s}.condition_occurrence r
      ON r.person_id = i.person_id
     AND r.condition_concept_id IN ({ids(task.outcome.concept_ids)})
     AND {date("r.condition_start_date")} BETWEEN i.index_date + {tar.start_day} AND i.index_date + {tar.end_day}"""
    return f"""outcome_events AS (
    SELECT i.row_id
    FROM index_events i
    {outcome_join}
    GROUP BY i.row_id
)"""


# --------------------------------------------------------------------------------------
# Exclusions: predicates over the index event ``i`` (and the person ``p``, the death ``d``)
# --------------------------------------------------------------------------------------


def birth_date(available: dict[str, set[str]]) -> str:
    """The person's birth date: ``birth_datetime``, else year/month/day of birth (missing month/day: 1)."""
    person_cols = available.get("person", set())
    parts = []
    if "birth_datetime" in person_cols:
        parts.append("CAST(p.birth_datetime AS DATE)")
    month = "COALESCE(p.month_of_birth, 1)" if "month_of_birth" in person_cols else "1"
    day = "COALESCE(p.day_of_birth, 1)" if "day_of_birth" in person_cols else "1"
    # try(): an impossible month/day makes the birth date NULL (event excluded) instead of failing the query
    parts.append(f"try(make_date(CAST(p.year_of_birth AS INTEGER), CAST({month} AS INTEGER), CAST({day} AS INTEGER)))")
    return f"COALESCE({', '.join(parts)})"


def age_rule(task: PredictionTask) -> str:
    """The person exists and ``age_at_index`` is within the task's age range (a row of ``flagged``)."""
    rule = f"has_person AND age_at_index >= {int(task.min_age)}"
    if task.max_age is not None:
        rule += f" AND age_at_index <= {int(task.max_age)}"
    return rule


def death_cte(s: str) -> str:
    """CTE ``first_death``: each person's earliest death date (a CDM may hold several rows)."""
    return f"""first_death AS (
    SELECT person_id, MIN({date("death_date")}) AS death_date
    FROM {s}.death
    GROUP BY person_id
)"""


ALIVE_RULE = "d.death_date IS NULL OR d.death_date > i.index_date"
"""Alive at the index date: no death (``d``, from ``first_death``) on or before it."""


def washout_rule(task: PredictionTask, s: str) -> str:
    """An observation period contains the index date and began ``prior_observation_days`` before it."""
    if not task.prior_observation_days:
        return "TRUE"
    return (
        f"EXISTS (SELECT 1 FROM {s}.observation_period op WHERE op.person_id = i.person_id "
        f"AND {date('op.observation_period_start_date')} <= i.index_date - {int(task.prior_observation_days)} "
        f"AND {date('op.observation_period_end_date')} >= i.index_date)"
    )


def exclusion_flag(exclusion: Exclusion) -> str:
    """The quoted ``flagged`` column that is true when ``exclusion`` removes the event."""
    return quote("excluded_" + exclusion.name)


def exclusion_columns(task: PredictionTask, s: str) -> list[str]:
    """One ``EXISTS (...) AS "excluded_<name>"`` column per exclusion: a record of its concepts in its window."""
    columns = []
    for exclusion in task.exclusions:
        table = DOMAIN_TABLE[exclusion.domain]
        src = SOURCES[table]
        x_start = date(f"x.{src.start}")
        lower = "" if exclusion.start_day is None else f" AND {x_start} >= i.index_date + {exclusion.start_day}"
        columns.append(
            f"EXISTS (SELECT 1 FROM {s}.{table} x WHERE x.person_id = i.person_id "
            f"AND x.{src.concept} IN ({ids(exclusion.concept_ids)}) AND {x_start} <= i.index_date + {exclusion.end_day}"
            f"{lower}) AS {exclusion_flag(exclusion)}"
        )
    return columns


def eligibility(task: PredictionTask) -> str:
    """Every inclusion and exclusion rule before first-only and censoring, over a row of ``flagged``."""
    rules = [
        "dates_ok",
        f"({age_rule(task)})",
        "alive",
        "washout_ok",
        *(f"NOT {exclusion_flag(e)}" for e in task.exclusions),
    ]
    return " AND ".join(rules)


def first_event_rank(task: PredictionTask) -> str:
    """Rank of an eligible event among its person's eligible events (``1`` for every event unless ``first_only``).

    Ranked before censoring, so which event is a person's first never depends on the future.
    """
    if not task.first_only:
        return "1"
    eligible = eligibility(task)
    return (
        f"CASE WHEN {eligible} THEN row_number() OVER (PARTITION BY person_id, ({eligible}) "
        "ORDER BY index_date, row_id) END"
    )


# --------------------------------------------------------------------------------------
# Censoring
# --------------------------------------------------------------------------------------


def follow_up_cte(task: PredictionTask, s: str) -> str:
    """CTE ``index_with_follow_up``: the index events with the end of the observation period holding the index."""
    if task.require_full_follow_up:
        follow_up = (
            f"(SELECT MAX({date('op.observation_period_end_date')}) FROM {s}.observation_period op "
            "WHERE op.person_id = i.person_id "
            f"AND {date('op.observation_period_start_date')} <= i.index_date "
            f"AND {date('op.observation_period_end_date')} >= i.index_date)"
        )
    else:
        follow_up = "CAST(NULL AS DATE)"
    return f"""index_with_follow_up AS (
    SELECT i.*, {follow_up} AS follow_up_end
    FROM index_events i
)"""


def follow_up_rule(task: PredictionTask) -> str:
    """Not censored: the outcome was observed (``o``), or follow-up (``i``) lasts the whole time-at-risk."""
    if not task.require_full_follow_up:
        return "TRUE"
    end_day = task.time_at_risk.end_day
    return f"(o.row_id IS NOT NULL OR (i.follow_up_end IS NOT NULL AND i.follow_up_end >= i.index_date + {end_day}))"


# --------------------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------------------


def _flagged_ctes(task: PredictionTask, s: str, available: dict[str, set[str]]) -> list[str]:
    """``flagged_base``, ``flagged_age`` and ``flagged``: every candidate event with one column per rule."""
    exclusions = "".join(f",\n        {e}" for e in exclusion_columns(task, s))
    base = f"""flagged_base AS (
    SELECT
        i.row_id,
        i.visit_occurrence_id,
        i.person_id,
        i.care_site_id,
        i.visit_start_date,
        i.index_date,
        i.dates_ok,
        p.person_id IS NOT NULL AS has_person,
        p.gender_concept_id,
        p.race_concept_id,
        p.ethnicity_concept_id,
        {ALIVE_RULE} AS alive,
        {washout_rule(task, s)} AS washout_ok,
        o.row_id IS NOT NULL AS outcome,
        {follow_up_rule(task)} AS follow_up_ok,
        {birth_date(available)} AS birth_date{exclusions}
    FROM index_with_follow_up i
    LEFT JOIN {s}.person p ON p.person_id = i.person_id
    LEFT JOIN first_death d ON d.person_id = i.person_id
    LEFT JOIN outcome_events o ON o.row_id = i.row_id
)"""
    age = """flagged_age AS (
    SELECT
        b.*,
        CAST(
            year(b.index_date) - year(b.birth_date)
            - CASE WHEN month(b.index_date) * 100 + day(b.index_date) < month(b.birth_date) * 100 + day(b.birth_date)
                   THEN 1 ELSE 0 END
            AS INTEGER
        ) AS age_at_index
    FROM flagged_base b
)"""
    flagged = f"""flagged AS (
    SELECT a.*, COALESCE({first_event_rank(task)} = 1, FALSE) AS first_ok
    FROM flagged_age a
)"""
    return [base, age, flagged]


def cohort_ctes(task: PredictionTask, s: str, available: dict[str, set[str]]) -> str:
    """The cohort CTEs (see the module docstring), ending in ``flagged`` and ``cohort``, for a ``WITH``."""
    cohort = f"""cohort AS (
    SELECT *
    FROM flagged
    WHERE {eligibility(task)} AND first_ok AND follow_up_ok
)"""
    ctes = [
        index_events_cte(task, s, available),
        death_cte(s),
        follow_up_cte(task, s),
        outcome_cte(task, s),
        *_flagged_ctes(task, s, available),
        cohort,
    ]
    return "\n" + ",\n".join(ctes)


def attrition_steps(task: PredictionTask) -> list[tuple[str, str]]:
    """The cohort steps in order, each a name and its predicate over a row of ``flagged``."""
    age = f"age_{task.min_age}_to_{task.max_age}" if task.max_age is not None else f"age_at_least_{task.min_age}"
    steps = [
        ("index_events", "TRUE"),
        ("valid_index_date", "dates_ok"),
        (age, age_rule(task)),
        ("alive_at_index", "alive"),
    ]
    if task.prior_observation_days:
        steps.append((f"prior_observation_{task.prior_observation_days}d", "washout_ok"))
    steps += [(f"no_{e.name}", f"NOT {exclusion_flag(e)}") for e in task.exclusions]
    if task.first_only:
        steps.append(("first_per_person", "first_ok"))
    if task.require_full_follow_up:
        steps.append(("sufficient_follow_up", "follow_up_ok"))
    return steps
