"""A prediction task as configuration, in the spirit of OHDSI PatientLevelPrediction.

One :class:`PredictionTask` declares everything that decides *who* is predicted for, *when*
and *what* is predicted; the cohort and feature SQL (:mod:`mlhops_dagster.features.cohort`,
:mod:`mlhops_dagster.features.feature_sql`) read nothing else. A task is plain, validated data
(pydantic, frozen), so it loads from a YAML or JSON file (:meth:`PredictionTask.from_file`; the ``tasks/`` folder ships
``readmission_30d.yaml`` and ``t2d_incident_1y.yaml``) and travels as Dagster config of the
features asset (its ``task_file`` option).

Fields (days are relative to the index date; negative = before it):

``index``
    The index events. ``domain: visit`` — visits whose ``visit_concept_id`` is in
    ``concept_ids``, dated at the visit start (``date: visit_start``) or at discharge
    (``date: visit_end``; the visit must have an end date on or after its start).
    ``domain: condition`` — condition occurrences of ``concept_ids``, dated at their start
    (several records of one person on one day form one index event).
``min_age`` / ``max_age``
    Age in full years at the index date (inclusive bounds; ``max_age`` optional).
``prior_observation_days``
    Washout: an observation period must contain the index date and have started at least
    this many days before it (0: no requirement).
``first_only``
    Keep only each person's earliest index event that passes the criteria above and the
    exclusions (applied before censoring, so the choice never depends on the future).
``exclusions``
    Persons with any record of ``concept_ids`` in ``domain`` (condition, drug, procedure,
    observation) starting in ``[index + start_day, index + end_day]`` are excluded
    (``start_day: null`` = all history). ``end_day`` may not be after the index date. An
    *incident* outcome excludes prior occurrences of the outcome this way.
``time_at_risk``
    ``[index + start_day, index + end_day]``.
``outcome``
    ``domain: visit`` — a visit of ``concept_ids`` (other than the index visit) *starting* in
    the time-at-risk; ``domain: condition`` — a condition occurrence of ``concept_ids``
    starting in it.
``require_full_follow_up``
    Censoring: an index event without an observed outcome is kept only when the observation
    period containing the index date runs at least until ``index + time_at_risk.end_day``.

Every task also drops index events of persons who died on or before the index date and
persons absent from ``person``. The label column of the feature table is always ``outcome``;
the task's ``name`` goes into the asset metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"
"""The shipped task files (repository ``tasks/``)."""

ConceptIds = tuple[int, ...]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class IndexEvent(_Frozen):
    """What makes an index event, and which date is the index date."""

    domain: Literal["visit", "condition"] = "visit"
    concept_ids: ConceptIds = Field(min_length=1)
    date: Literal["visit_start", "visit_end"] = "visit_start"

    @model_validator(mode="after")
    def _condition_date(self) -> IndexEvent:
        if self.domain == "condition" and self.date != "visit_start":
            raise ValueError("a condition index is dated at the condition start; leave `date` out")
        return self


class Exclusion(_Frozen):
    """Drop index events of persons with a record of ``concept_ids`` in a window up to the index date."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    domain: Literal["condition", "drug", "procedure", "observation"]
    concept_ids: ConceptIds = Field(min_length=1)
    start_day: int | None = None
    end_day: int = Field(default=0, le=0)

    @model_validator(mode="after")
    def _window(self) -> Exclusion:
        if self.start_day is not None and self.start_day > self.end_day:
            raise ValueError(f"start_day {self.start_day} is after end_day {self.end_day}")
        return self


class TimeAtRisk(_Frozen):
    """Days after the index date in which the outcome counts (both ends inclusive)."""

    start_day: int = Field(default=1, ge=0)
    end_day: int = Field(gt=0)

    @model_validator(mode="after")
    def _window(self) -> TimeAtRisk:
        if self.start_day > self.end_day:
            raise ValueError(f"start_day {self.start_day} is after end_day {self.end_day}")
        return self


class Outcome(_Frozen):
    """What counts as the outcome when it starts in the time-at-risk."""

    domain: Literal["visit", "condition"]
    concept_ids: ConceptIds = Field(min_length=1)


class PredictionTask(_Frozen):
    """Target cohort, time-at-risk, outcome and censoring of one prediction problem (see module doc)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    index: IndexEvent
    min_age: int = Field(default=0, ge=0)
    max_age: int | None = Field(default=None, ge=0)
    prior_observation_days: int = Field(default=0, ge=0)
    first_only: bool = False
    exclusions: tuple[Exclusion, ...] = ()
    time_at_risk: TimeAtRisk
    outcome: Outcome
    require_full_follow_up: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PredictionTask:
        if self.max_age is not None and self.max_age < self.min_age:
            raise ValueError(f"max_age {self.max_age} is below min_age {self.min_age}")
        names = [e.name for e in self.exclusions]
        if len(names) != len(set(names)):
            raise ValueError(f"exclusion names must be unique, got {names}")
        return self

    @classmethod
    def from_dict(cls, data: Any, source: str = "task") -> PredictionTask:
        """Validate ``data``; errors name ``source`` and the offending field path."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors()
            )
            raise ValueError(f"{source}: invalid prediction task: {problems}") from err

    @classmethod
    def from_file(cls, path: str | Path) -> PredictionTask:
        """Load a task from a ``.yaml``/``.yml`` or ``.json`` file.

        A bare name (``readmission_30d``) or a relative path that does not exist is looked up
        in :data:`TASKS_DIR`.
        """
        file = Path(path)
        if not file.exists() and not file.is_absolute():
            for candidate in (TASKS_DIR / file, TASKS_DIR / f"{file}.yaml"):
                if candidate.exists():
                    file = candidate
                    break
        if not file.exists():
            raise ValueError(f"{path}: prediction task file not found (also looked in {TASKS_DIR})")
        text = file.read_text(encoding="utf-8")
        try:
            if file.suffix.lower() == ".json":
                data = json.loads(text)
            elif file.suffix.lower() in (".yaml", ".yml"):
                data = yaml.safe_load(text)
            else:
                raise ValueError(f"{file}: a prediction task file must end in .yaml, .yml or .json")
        except (json.JSONDecodeError, yaml.YAMLError) as err:
            raise ValueError(f"{file}: cannot parse: {err}") from err
        if not isinstance(data, dict):
            raise ValueError(f"{file}: a prediction task file must hold a mapping of fields")
        return cls.from_dict(data, source=str(file))

    def summary(self) -> str:
        """One line for asset metadata and logs."""
        index = f"{self.index.domain} {list(self.index.concept_ids)}"
        if self.index.domain == "visit":
            index += f" at {self.index.date}"
        age = f"age {self.min_age}-{self.max_age if self.max_age is not None else ''}"
        excl = ", ".join(e.name for e in self.exclusions) or "none"
        tar = self.time_at_risk
        return (
            f"{self.name}: index {index}, {age}, prior observation {self.prior_observation_days} d, "
            f"{'first event only' if self.first_only else 'all events'}, exclusions: {excl}; "
            f"outcome {self.outcome.domain} {list(self.outcome.concept_ids)} in days "
            f"[{tar.start_day}, {tar.end_day}]; full follow-up required: {self.require_full_follow_up}"
        )


INPATIENT_VISITS: ConceptIds = (9201, 262)
"""Inpatient visit and ER-then-inpatient visit."""

READMISSION_30D = PredictionTask(
    name="readmission_30d",
    description="30-day all-cause readmission after an adult inpatient stay",
    index=IndexEvent(domain="visit", concept_ids=INPATIENT_VISITS, date="visit_end"),
    min_age=18,
    time_at_risk=TimeAtRisk(start_day=1, end_day=30),
    outcome=Outcome(domain="visit", concept_ids=INPATIENT_VISITS),
    require_full_follow_up=True,
)
"""The built-in default task (``tasks/readmission_30d.yaml`` says the same)."""

DEFAULT_TASK = READMISSION_30D
