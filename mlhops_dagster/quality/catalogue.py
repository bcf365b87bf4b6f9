"""The check catalogue: every check instance for the CDM tables we build, with its threshold and severity.

The catalogue is data: :mod:`~mlhops_dagster.quality.dqd_catalogue` holds DQD v2's default rules
and thresholds, :mod:`~mlhops_dagster.quality.check_types` the check types; this module expands
them into :class:`QualityCheck` instances (one per check type x table x field / concept), adds the
project's value ranges for the vitals and labs the generator emits and the project's overrides of
DQD's defaults, and applies a site's threshold overrides (a JSON or YAML file).

Severity ``ERROR`` (DQD's "fatal" checks, plus a few the project elevates) blocks features and
training; status semantics are those of :mod:`~mlhops_dagster.quality.runner`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, Literal

from mlhops_dagster.quality import dqd_catalogue as dqd
from mlhops_dagster.quality.check_types import CHECK_TYPES, Severity
from mlhops_dagster.quality.plausibility import VALUE_RANGE_THRESHOLD, VALUE_RANGES

logger = logging.getLogger(__name__)

Status = Literal["Passed", "Failed", "Not Applicable", "Error"]

GENDER_CONCEPTS = {"Male": 8507, "Female": 8532}


@dataclass(frozen=True)
class QualityCheck:
    """One check instance: a check type applied to a table (and field / concept), with its threshold."""

    name: str
    table: str
    description: str
    kahn_category: Literal["Conformance", "Completeness", "Plausibility"]
    kahn_subcategory: str
    severity: Severity
    threshold_pct: float
    violation: str | None = None  # custom checks only: SQL predicate naming violating rows
    denominator: str = "TRUE"
    check_type: str = "custom"
    field: str | None = None
    context: str = "Verification"
    concept_id: int | None = None
    unit_concept_id: int | None = None
    group: str | None = None  # the Dagster check (spec) this instance reports under
    params: tuple = dc_field(default=())

    @property
    def spec_name(self) -> str:
        return self.group or self.check_type


@dataclass(frozen=True)
class CheckOutcome:
    check: QualityCheck
    status: Status
    num_violated: int
    num_denominator: int
    pct_violated: float
    sql: str
    error: str | None = None  # the SQL error (Error) or why the check does not apply (Not Applicable)

    @property
    def passed(self) -> bool:
        return self.status in ("Passed", "Not Applicable")


@dataclass(frozen=True)
class ProjectOverride:
    """The project's severity (and threshold) for one check instance, and the Dagster check it reports under."""

    severity: Severity
    threshold_pct: float | None  # None: DQD's threshold
    group: str


PROJECT_OVERRIDES: dict[str, ProjectOverride] = {
    # age features need a plausible birth year: fatal for us (DQD: characterization, 1 %)
    "plausibleValueLow_person_year_of_birth": ProjectOverride("ERROR", None, "person_year_of_birth_plausible"),
    "plausibleValueHigh_person_year_of_birth": ProjectOverride("ERROR", None, "person_year_of_birth_plausible"),
    # length of stay and the readmission label need visits that end after they start (DQD: 1 %)
    "plausibleStartBeforeEnd_visit_occurrence_visit_start_date": ProjectOverride(
        "ERROR", 0.0, "visit_end_not_before_start"
    ),
    # visit_occurrence repairs an encounter STOP before its START (the collapsed visit needs an
    # order); visit_detail keeps the STOP as delivered, so this is where such input is counted
    # (DQD: characterization, 1 %). Fatal: the encounter's recorded times cannot be trusted.
    "plausibleStartBeforeEnd_visit_detail_visit_detail_start_date": ProjectOverride(
        "ERROR", 0.0, "visit_detail_end_not_before_start"
    ),
}
"""Project overrides of DQD's defaults, by check instance name."""

DUPLICATE_RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "condition_occurrence": (
        "person_id",
        "condition_concept_id",
        "condition_start_datetime",
        "condition_end_datetime",
        "condition_source_value",
        "visit_detail_id",
    ),
    "drug_exposure": (
        "person_id",
        "drug_concept_id",
        "drug_exposure_start_datetime",
        "drug_exposure_end_datetime",
        "drug_source_value",
        "quantity",
        "visit_detail_id",
    ),
    "procedure_occurrence": (
        "person_id",
        "procedure_concept_id",
        "procedure_datetime",
        "procedure_source_value",
        "visit_detail_id",
    ),
    "device_exposure": (
        "person_id",
        "device_concept_id",
        "device_exposure_start_datetime",
        "device_source_value",
        "visit_detail_id",
    ),
    "measurement": (
        "person_id",
        "measurement_concept_id",
        "measurement_datetime",
        "value_as_number",
        "value_source_value",
        "unit_source_value",
        "visit_detail_id",
    ),
    "observation": (
        "person_id",
        "observation_concept_id",
        "observation_datetime",
        "value_as_number",
        "value_as_string",
        "value_source_value",
        "unit_source_value",
        "visit_detail_id",
    ),
}
"""measureDuplicateRecords: the columns that make two event records the same record (everything but the id)."""
DUPLICATE_RECORD_THRESHOLD = 1.0


def _instance(
    check_type: str,
    table: str,
    fld: str | None,
    threshold: float,
    *,
    ref: str = "",
    params: tuple = (),
    concept_id: int | None = None,
    unit: int | None = None,
    suffix: str = "",
    gender: str = "",
    group: str | None = None,
    severity: Severity | None = None,
) -> QualityCheck:
    """A check instance named ``<type>_<table>[_<field>][_<suffix>]``, with the project's override where one is set."""
    kind = CHECK_TYPES[check_type]
    name = "_".join(str(p) for p in (check_type, table, fld, suffix) if p not in (None, ""))
    override = PROJECT_OVERRIDES.get(name)
    if override is not None:
        severity, group = override.severity, override.group
        threshold = threshold if override.threshold_pct is None else override.threshold_pct
    return QualityCheck(
        name=name,
        table=table,
        description=kind.description.format(table=table, field=fld, ref=ref, gender=gender),
        kahn_category=kind.kahn_category,
        kahn_subcategory=kind.kahn_subcategory,
        severity=severity or kind.severity,
        threshold_pct=float(threshold),
        check_type=check_type,
        field=fld,
        context=kind.context,
        concept_id=concept_id,
        unit_concept_id=unit,
        group=group,
        params=params,
    )


def _resolve(value: Any, today: dt.date) -> Any:
    """DQD's relative bounds (``"today+1"``, ``"next_year"``) and ISO dates, as values."""
    if value == "today+1":
        return today + dt.timedelta(days=1)
    if value == "next_year":
        return today.year + 1
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _dqd_table_and_field_checks(today: dt.date) -> Iterable[QualityCheck]:
    """DQD's table- and field-level checks of :data:`~mlhops_dagster.quality.dqd_catalogue.TABLE_CHECKS`/``FIELD_CHECKS``."""
    for table, spec in dqd.TABLE_CHECKS.items():
        yield _instance("cdmTable", table, None, 0, severity=None if spec["required"] else "WARN")
        for check_type in (
            "measurePersonCompleteness",
            "measureConditionEraCompleteness",
            "measureObservationPeriodOverlap",
        ):
            if check_type in spec:
                yield _instance(check_type, table, None, spec[check_type])
        for fld, (_datatype, rules) in dqd.FIELD_CHECKS.get(table, {}).items():
            yield _instance("cdmField", table, fld, 0)
            for check_type, rule in rules.items():
                *params, threshold = rule if isinstance(rule, tuple) else (rule,)
                if check_type in ("plausibleValueLow", "plausibleValueHigh"):
                    params = [_resolve(params[0], today)]
                ref = ".".join(str(p) for p in params[:2])
                yield _instance(check_type, table, fld, threshold, ref=ref, params=tuple(params))


def _concept_checks() -> Iterable[QualityCheck]:
    """DQD's concept-level checks: conditions plausible for one gender only, measurements' plausible units."""
    for table, fld, concept_ids, name, gender, threshold in dqd.GENDER_CHECKS:
        yield _instance(
            "plausibleGenderUseDescendants",
            table,
            fld,
            threshold,
            ref=name,
            gender=gender,
            params=(tuple(concept_ids), GENDER_CONCEPTS[gender]),
            concept_id=concept_ids[0],
            suffix=str(concept_ids[0]),
        )
    for table, fld, concept_id, name, units, threshold in dqd.UNIT_CHECKS:
        yield _instance(
            "plausibleUnitConceptIds",
            table,
            fld,
            threshold,
            ref=f"{name} ({concept_id})",
            params=(tuple(units),),
            concept_id=concept_id,
            suffix=str(concept_id),
        )


def _duplicate_record_checks() -> Iterable[QualityCheck]:
    for table, keys in DUPLICATE_RECORD_KEYS.items():
        yield _instance(
            "measureDuplicateRecords",
            table,
            None,
            DUPLICATE_RECORD_THRESHOLD,
            ref="(" + ", ".join(keys) + ")",
            params=(keys,),
        )


def _value_range_checks() -> Iterable[QualityCheck]:
    """The project's plausible ranges of the labs and vitals, one Dagster check per lab or vital."""
    for r in VALUE_RANGES:
        suffix = f"{r.concept_id}" + (f"_{r.unit_concept_id}" if r.unit_concept_id is not None else "")
        for check_type, bound in (("plausibleValueLow", r.low), ("plausibleValueHigh", r.high)):
            check = _instance(
                check_type,
                "measurement",
                "value_as_number",
                VALUE_RANGE_THRESHOLD,
                ref=str(bound),
                params=(bound,),
                concept_id=r.concept_id,
                unit=r.unit_concept_id,
                suffix=suffix,
                group=f"plausible_value_{r.label}",
            )
            yield replace(
                check,
                description=f"{r.label.replace('_', ' ')} (concept {r.concept_id}) "
                f"{'>=' if check_type.endswith('Low') else '<='} {bound} "
                f"[{r.source}]",
            )


def default_catalogue(today: dt.date | None = None) -> tuple[QualityCheck, ...]:
    """Every check instance for the CDM tables we build: DQD v2 defaults plus the project's value ranges."""
    today = today or dt.date.today()
    checks = [
        *_dqd_table_and_field_checks(today),
        *_concept_checks(),
        *_duplicate_record_checks(),
        *_value_range_checks(),
    ]
    return tuple(_split_mixed_groups(checks))


def _split_mixed_groups(checks: list[QualityCheck]) -> list[QualityCheck]:
    """A Dagster check has one severity: WARN instances in a group that also has ERROR ones move to ``<group>_warn``."""
    error_groups = {(c.table, c.spec_name) for c in checks if c.severity == "ERROR"}
    return [
        replace(c, group=f"{c.spec_name}_warn")
        if c.severity == "WARN" and (c.table, c.spec_name) in error_groups
        else c
        for c in checks
    ]


def checks_by_table(catalogue: Iterable[QualityCheck]) -> dict[str, list[QualityCheck]]:
    tables: dict[str, list[QualityCheck]] = {}
    for check in catalogue:
        tables.setdefault(check.table, []).append(check)
    return tables


def spec_groups(checks: Iterable[QualityCheck]) -> dict[str, list[QualityCheck]]:
    """A table's checks by the Dagster check (spec) they report under, in catalogue order."""
    groups: dict[str, list[QualityCheck]] = {}
    for check in checks:
        groups.setdefault(check.spec_name, []).append(check)
    return groups


def load_threshold_overrides(path: str | Path | None) -> dict[str, float]:
    """Threshold overrides (percent) by check name or glob pattern, from a JSON or YAML file.

    The caller names the file (the settings' ``dq_thresholds``); no path means no overrides. Example::

        plausibleValueHigh_measurement_value_as_number_3027018_8541: 5
        "isStandardValidConcept_*": 10
    """
    if not path:
        return {}
    text = Path(path).read_text()
    if str(path).endswith(".json"):
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of check name (or glob) to threshold percent")
    logger.info("%d data-quality threshold overrides from %s", len(data), path)
    return {str(k): float(v) for k, v in data.items()}


def apply_thresholds(checks: Iterable[QualityCheck], overrides: dict[str, float]) -> list[QualityCheck]:
    """The checks with thresholds replaced where a name (exact, then glob pattern) is in ``overrides``."""
    if not overrides:
        return list(checks)
    out = []
    for check in checks:
        value = overrides.get(check.name)
        if value is None:
            value = next((v for pattern, v in overrides.items() if fnmatch.fnmatchcase(check.name, pattern)), None)
        out.append(check if value is None else replace(check, threshold_pct=value))
    return out
