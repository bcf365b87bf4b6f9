"""The data-quality check catalogue (OHDSI DataQualityDashboard's check types) and the SQL runner.

The catalogue is data: ``dqd_catalogue`` holds DQD v2's default rules and thresholds for
the CDM tables we build; this module expands them into :class:`QualityCheck` instances
(one per check type x table x field / concept), adds the project's value ranges for the
vitals and labs the generator emits, and compiles each table's checks into at most five
SQL statements that run on DuckDB and PostgreSQL alike:

- one scan of the table with a ``count(*) FILTER (WHERE ...)`` aggregate per row-level
  check (isRequired, cdmDatatype, isPrimaryKey, completeness, plausible values without a
  concept, start before end);
- one grouped statement for the concept-specific checks (plausibleValueLow/High of a
  concept and unit, plausibleUnitConceptIds): the table joined to a VALUES list of
  (concept, unit, low, high) and counted per (list row, unit), attributed in Python;
- one statement over each concept field's distinct values (GROUPING SETS) joined to the
  vocabulary ``concept`` table (concept isForeignKey, fkDomain, fkClass,
  isStandardValidConcept), counts weighted by the rows each value stands for;
- one scan with LEFT JOINs to the referenced tables, person (birth), death and
  visit_occurrence (isForeignKey, withinVisitDates, plausibleAfterBirth,
  plausibleBeforeDeath, plausibleGenderUseDescendants);
- one statement of scalar subqueries for the table-level checks (person completeness,
  condition era completeness, observation period overlap).

Each outcome keeps the statement that produced it; when a statement fails, its checks run
one by one, so that only the ones that cannot run are Errors.

Status semantics follow DQD: Not Applicable when the table (or field, or a relation the
check needs) is absent or empty, Error when the SQL failed (message kept), Failed when the
violating percentage exceeds the threshold, else Passed. Severity ``ERROR`` (DQD's
"fatal" checks, plus a few the project elevates) blocks features and training.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from pathlib import Path
from typing import Literal

import duckdb
import psycopg2

from mlhops_dagster.quality import dqd_catalogue as dqd
from mlhops_dagster.quality.plausibility import VALUE_RANGE_THRESHOLD, VALUE_RANGES

Severity = Literal["ERROR", "WARN"]
Status = Literal["Passed", "Failed", "Not Applicable", "Error"]

# check type: (level, context, Kahn category, subcategory, DQD severity, description) — DQD Check_Descriptions
CHECK_TYPES: dict[str, tuple[str, str, str, str, str, str]] = {
    "cdmTable": ("TABLE", "Verification", "Conformance", "Relational", "fatal", "the {table} table is present"),
    "measurePersonCompleteness": (
        "TABLE",
        "Validation",
        "Completeness",
        "",
        "convention",
        "persons with no record in {table}",
    ),
    "measureConditionEraCompleteness": (
        "TABLE",
        "Validation",
        "Completeness",
        "",
        "convention",
        "persons with conditions but no condition_era",
    ),
    "measureObservationPeriodOverlap": (
        "TABLE",
        "Verification",
        "Plausibility",
        "Temporal",
        "fatal",
        "observation periods overlapping another of the same person",
    ),
    # project check (DQD v2 has none): a copied source row reaches the CDM with a new id, so isPrimaryKey misses it
    "measureDuplicateRecords": (
        "TABLE",
        "Verification",
        "Plausibility",
        "Uniqueness",
        "characterization",
        "{table} records repeating another's {ref}",
    ),
    "cdmField": ("FIELD", "Verification", "Conformance", "Relational", "fatal", "{table}.{field} is present"),
    "isRequired": ("FIELD", "Validation", "Conformance", "Relational", "fatal", "{table}.{field} is not null"),
    "cdmDatatype": ("FIELD", "Verification", "Conformance", "Value", "fatal", "{table}.{field} holds integers"),
    "isPrimaryKey": (
        "FIELD",
        "Verification",
        "Conformance",
        "Relational",
        "fatal",
        "{table}.{field} values are unique",
    ),
    "isForeignKey": (
        "FIELD",
        "Verification",
        "Conformance",
        "Relational",
        "fatal",
        "{table}.{field} values exist in {ref}",
    ),
    "fkDomain": (
        "FIELD",
        "Verification",
        "Conformance",
        "Value",
        "convention",
        "{table}.{field} concepts are in domain {ref}",
    ),
    "fkClass": (
        "FIELD",
        "Verification",
        "Conformance",
        "Computational",
        "convention",
        "{table}.{field} concepts are of class {ref}",
    ),
    "isStandardValidConcept": (
        "FIELD",
        "Verification",
        "Conformance",
        "Value",
        "convention",
        "{table}.{field} concepts are standard and valid",
    ),
    "measureValueCompleteness": (
        "FIELD",
        "Verification",
        "Completeness",
        "",
        "characterization",
        "{table}.{field} is populated",
    ),
    "standardConceptRecordCompleteness": (
        "FIELD",
        "Verification",
        "Completeness",
        "",
        "convention",
        "{table}.{field} is mapped (not concept 0)",
    ),
    "sourceConceptRecordCompleteness": (
        "FIELD",
        "Verification",
        "Completeness",
        "",
        "convention",
        "{table}.{field} is mapped (not concept 0)",
    ),
    "sourceValueCompleteness": (
        "FIELD",
        "Verification",
        "Completeness",
        "",
        "convention",
        "distinct {table}.{field} values mapped to a standard concept ({ref})",
    ),
    "plausibleValueLow": (
        "FIELD",
        "Verification",
        "Plausibility",
        "Atemporal",
        "characterization",
        "{table}.{field} >= {ref}",
    ),
    "plausibleValueHigh": (
        "FIELD",
        "Verification",
        "Plausibility",
        "Atemporal",
        "characterization",
        "{table}.{field} <= {ref}",
    ),
    "withinVisitDates": (
        "FIELD",
        "Verification",
        "Plausibility",
        "Temporal",
        "characterization",
        "{table}.{field} within its visit's dates +/- 7 days",
    ),
    "plausibleAfterBirth": (
        "FIELD",
        "Verification",
        "Plausibility",
        "Temporal",
        "characterization",
        "{table}.{field} not before the person's birth",
    ),
    "plausibleBeforeDeath": (
        "FIELD",
        "Verification",
        "Plausibility",
        "Temporal",
        "characterization",
        "{table}.{field} not more than 60 days after the person's death",
    ),
    "plausibleStartBeforeEnd": (
        "FIELD",
        "Verification",
        "Plausibility",
        "Temporal",
        "characterization",
        "{table}.{field} not after {ref}",
    ),
    "plausibleGenderUseDescendants": (
        "CONCEPT",
        "Validation",
        "Plausibility",
        "Atemporal",
        "characterization",
        "{ref} recorded only for {gender} persons",
    ),
    "plausibleUnitConceptIds": (
        "CONCEPT",
        "Verification",
        "Plausibility",
        "Atemporal",
        "characterization",
        "{ref} recorded with a plausible unit",
    ),
}
SEVERITY_OF = {"fatal": "ERROR", "convention": "WARN", "characterization": "WARN"}
GENDER_CONCEPTS = {"Male": 8507, "Female": 8532}
BEFORE_DEATH_DAYS = 60
VISIT_SLACK_DAYS = 7


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

# (check instance name, severity, threshold, Dagster check name): project overrides of DQD's defaults
PROJECT_OVERRIDES: dict[str, tuple[Severity, float | None, str]] = {
    # age features need a plausible birth year: fatal for us (DQD: characterization, 1 %)
    "plausibleValueLow_person_year_of_birth": ("ERROR", None, "person_year_of_birth_plausible"),
    "plausibleValueHigh_person_year_of_birth": ("ERROR", None, "person_year_of_birth_plausible"),
    # length of stay and the readmission label need visits that end after they start (DQD: 1 %)
    "plausibleStartBeforeEnd_visit_occurrence_visit_start_date": ("ERROR", 0.0, "visit_end_not_before_start"),
    # visit_occurrence repairs an encounter STOP before its START (the collapsed visit needs an
    # order); visit_detail keeps the STOP as delivered, so this is where such input is counted
    # (DQD: characterization, 1 %). Fatal: the encounter's recorded times cannot be trusted.
    "plausibleStartBeforeEnd_visit_detail_visit_detail_start_date": ("ERROR", 0.0, "visit_detail_end_not_before_start"),
}


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
    _level, context, category, subcategory, dqd_severity, text = CHECK_TYPES[check_type]
    name = "_".join(str(p) for p in (check_type, table, fld, suffix) if p not in (None, ""))
    sev, thr, grp = PROJECT_OVERRIDES.get(name, (severity or SEVERITY_OF[dqd_severity], None, group))
    return QualityCheck(
        name=name,
        table=table,
        description=text.format(table=table, field=fld, ref=ref, gender=gender),
        kahn_category=category,
        kahn_subcategory=subcategory,
        severity=sev,  # type: ignore[arg-type]
        threshold_pct=float(threshold if thr is None else thr),
        check_type=check_type,
        field=fld,
        context=context,
        concept_id=concept_id,
        unit_concept_id=unit,
        group=grp,
        params=params,
    )


def _resolve(value, today: dt.date):
    if value == "today+1":
        return today + dt.timedelta(days=1)
    if value == "next_year":
        return today.year + 1
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def default_catalogue(today: dt.date | None = None) -> tuple[QualityCheck, ...]:
    """Every check instance for the CDM tables we build: DQD v2 defaults plus the project's value ranges."""
    today = today or dt.date.today()
    checks: list[QualityCheck] = []
    for table, spec in dqd.TABLE_CHECKS.items():
        checks.append(_instance("cdmTable", table, None, 0, severity=None if spec["required"] else "WARN"))
        for check_type in (
            "measurePersonCompleteness",
            "measureConditionEraCompleteness",
            "measureObservationPeriodOverlap",
        ):
            if check_type in spec:
                checks.append(_instance(check_type, table, None, spec[check_type]))
        for fld, (_datatype, rules) in dqd.FIELD_CHECKS.get(table, {}).items():
            checks.append(_instance("cdmField", table, fld, 0))
            for check_type, rule in rules.items():
                *params, threshold = rule if isinstance(rule, tuple) else (rule,)
                if check_type in ("plausibleValueLow", "plausibleValueHigh"):
                    params = [_resolve(params[0], today)]
                ref = ".".join(str(p) for p in params[:2])
                checks.append(_instance(check_type, table, fld, threshold, ref=ref, params=tuple(params)))
    for table, fld, concept_ids, name, gender, threshold in dqd.GENDER_CHECKS:
        checks.append(
            _instance(
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
        )
    for table, fld, concept_id, name, units, threshold in dqd.UNIT_CHECKS:
        checks.append(
            _instance(
                "plausibleUnitConceptIds",
                table,
                fld,
                threshold,
                ref=f"{name} ({concept_id})",
                params=(tuple(units),),
                concept_id=concept_id,
                suffix=str(concept_id),
            )
        )
    for table, keys in DUPLICATE_RECORD_KEYS.items():
        checks.append(
            _instance(
                "measureDuplicateRecords",
                table,
                None,
                DUPLICATE_RECORD_THRESHOLD,
                ref="(" + ", ".join(keys) + ")",
                params=(keys,),
            )
        )
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
            checks.append(
                replace(
                    check,
                    description=f"{r.label.replace('_', ' ')} (concept {r.concept_id}) "
                    f"{'>=' if check_type.endswith('Low') else '<='} {bound} "
                    f"[{r.source}]",
                )
            )
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


def checks_by_table(catalogue: tuple[QualityCheck, ...]) -> dict[str, list[QualityCheck]]:
    tables: dict[str, list[QualityCheck]] = {}
    for check in catalogue:
        tables.setdefault(check.table, []).append(check)
    return tables


def load_threshold_overrides(path: str | Path | None = None) -> dict[str, float]:
    """Threshold overrides (percent) by check name or glob pattern, from a JSON or YAML file.

    ``path`` defaults to ``$MLHOPS_DQ_THRESHOLDS``; no path means no overrides. Example::

        plausibleValueHigh_measurement_value_as_number_3027018_8541: 5
        "isStandardValidConcept_*": 10
    """
    path = path or os.environ.get("MLHOPS_DQ_THRESHOLDS")
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
    return {str(k): float(v) for k, v in data.items()}


def apply_thresholds(checks, overrides: dict[str, float]):
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


# ---------------------------------------------------------------------------------------------------- compiling
_INTEGER_TYPES = {
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "INT",
    "INT4",
    "INT8",
    "INT2",
}
_NOT_NA_ON_EMPTY_FIELD = {
    "cdmTable",
    "cdmField",
    "isRequired",
    "measureValueCompleteness",
    "custom",
    "plausibleGenderUseDescendants",
    "plausibleUnitConceptIds",
}


def _lit(value) -> str:
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


_N, _G = "dq_rows", "dq_grouping_"  # column names of the vocabulary statement's grouped rows


@dataclass
class _ConceptScope:
    """One row of the concept statement's VALUES list: a concept (and unit, None: any unit) with its bounds."""

    concept_id: int
    unit_concept_id: int | None
    low: float | None = None
    high: float | None = None


@dataclass
class _Plan:
    """SQL terms of one table's checks, per statement: (check index, numerator SQL, denominator SQL).

    The concept-specific checks (plausibleValueLow/High of one concept and unit, plausibleUnitConceptIds) do not
    ride on the scan: as ``count(*) FILTER`` terms they were a third of measurement's scan time (one predicate per
    concept x bound evaluated on every row). They share one grouped statement instead (``concept_sql``):
    ``concept_scopes`` are its VALUES rows, ``concept_slot`` says which row and count each check reads, and
    ``concept_terms`` keep each check's own scan term, run alone when the statement fails to find which errs.
    """

    scan: list[tuple[int, str, str]] = dc_field(default_factory=list)
    join: list[tuple[int, str, str]] = dc_field(default_factory=list)
    joins: dict[str, str] = dc_field(default_factory=dict)
    table_level: list[tuple[int, str, str]] = dc_field(default_factory=list)
    fixed: dict[int, tuple[Status | None, int, int, str | None]] = dc_field(default_factory=dict)
    concept_scopes: list[_ConceptScope] = dc_field(default_factory=list)
    concept_slot: dict[int, tuple[int, Literal["low", "high", "units"]]] = dc_field(default_factory=dict)
    concept_terms: list[tuple[int, str, str]] = dc_field(default_factory=list)
    vocab: list[tuple[int, str, str]] = dc_field(default_factory=list)
    vocab_joins: dict[str, str] = dc_field(default_factory=dict)

    def vocab_from(self, rel: str) -> str:
        """The FROM of the vocabulary checks: each concept field's distinct values with their row counts.

        Joining every row to ``concept`` once per concept field cost more than half of measurement's joined
        scan; the distinct values of a concept field are few, so the table is grouped once per field
        (GROUPING SETS: one pass) and only those values are joined. ``_G<field>`` is 0 on the rows of that
        field's grouping set (the denominator), ``_N`` the rows a value stands for.
        """
        fields = sorted({a.removeprefix("c_") for a in self.vocab_joins})
        grouping = ", ".join(f"GROUPING(t.{f}) AS {_G}{f}" for f in fields)
        sets = ", ".join(f"(t.{f})" for f in fields)
        return (
            f"FROM (SELECT {', '.join(f't.{f}' for f in fields)}, {grouping}, count(*) AS {_N} FROM {rel} t "
            f"GROUP BY GROUPING SETS ({sets})) t {' '.join(self.vocab_joins.values())}"
        )

    def concept_scope(
        self,
        concept_id: int,
        unit_concept_id: int | None,
        slot: Literal["low", "high", "units"],
        bound: float | None = None,
    ) -> int:
        """The VALUES row for a check: shared with a check of the same concept and unit when its slot is free."""
        for k, scope in enumerate(self.concept_scopes):
            if (scope.concept_id, scope.unit_concept_id) != (concept_id, unit_concept_id):
                continue
            if slot == "units":
                return k
            if getattr(scope, slot) is None or getattr(scope, slot) == bound:
                setattr(scope, slot, bound)
                return k
        self.concept_scopes.append(_ConceptScope(concept_id, unit_concept_id))
        if slot != "units":
            setattr(self.concept_scopes[-1], slot, bound)
        return len(self.concept_scopes) - 1

    def concept_sql(self, rel: str) -> str:
        """One pass over the table's rows of the checked concepts, counted per (VALUES row, unit).

        A hash join on the concept keeps only the rows of checked concepts; the unit condition lets a row with
        a NULL unit match a scope of any unit. Types are cast so that PostgreSQL does not read a column of NULLs
        in VALUES as text.
        """

        def num(x: float | None) -> str:
            return f"CAST({'NULL' if x is None else _lit(x)} AS DOUBLE PRECISION)"

        values = ", ".join(
            f"({k}, {s.concept_id}, CAST({'NULL' if s.unit_concept_id is None else s.unit_concept_id} "
            f"AS BIGINT), {num(s.low)}, {num(s.high)})"
            for k, s in enumerate(self.concept_scopes)
        )
        return (
            f"SELECT r.k, t.unit_concept_id, count(*), count(*) FILTER (WHERE t.value_as_number < r.lo), "
            f"count(*) FILTER (WHERE t.value_as_number > r.hi) FROM {rel} t "
            f"JOIN (VALUES {values}) r(k, concept_id, unit_concept_id, lo, hi) "
            "ON t.measurement_concept_id = r.concept_id "
            "AND (r.unit_concept_id IS NULL OR t.unit_concept_id = r.unit_concept_id) "
            "WHERE t.value_as_number IS NOT NULL GROUP BY r.k, t.unit_concept_id"
        )


def _count(predicate: str) -> str:
    return f"count(*) FILTER (WHERE {predicate})"


def _compile(
    checks,
    schema: str,
    table: str,
    columns: dict[str, dict[str, str]],
    concept: str | None,
    concept_ancestor: str | None,
) -> _Plan:
    plan = _Plan()
    cols = columns.get(table, {})
    rel = f"{schema}.{table}"

    def has(tbl: str, *names: str) -> bool:
        return tbl in columns and all(n in columns[tbl] for n in names)

    def visit_join() -> bool:
        """Join each row's visit (its dates); False when the visit table or the row's visit id is absent."""
        if (
            not has("visit_occurrence", "visit_occurrence_id", "visit_start_date", "visit_end_date")
            or "visit_occurrence_id" not in cols
        ):
            return False
        plan.joins.setdefault(
            "v",
            f"LEFT JOIN (SELECT visit_occurrence_id AS k, min(CAST(visit_start_date AS DATE)) AS vs, "
            f"max(CAST(visit_end_date AS DATE)) AS ve FROM {schema}.visit_occurrence "
            "GROUP BY visit_occurrence_id) v ON v.k = t.visit_occurrence_id",
        )
        return True

    def person_join() -> bool:
        """Join each row's person (birth date, gender); False when the person table or the row's person id is absent."""
        if not has("person", "person_id", "year_of_birth", "gender_concept_id") or "person_id" not in cols:
            return False
        birth = "make_date(CAST(year_of_birth AS INTEGER), 1, 1)"
        if has("person", "birth_datetime"):
            birth = f"coalesce(CAST(birth_datetime AS DATE), {birth})"
        plan.joins.setdefault(
            "p",
            f"LEFT JOIN (SELECT person_id AS k, min(CASE WHEN year_of_birth BETWEEN 1 AND 9999 "
            f"THEN {birth} END) AS birth_date, min(gender_concept_id) AS gender_concept_id "
            f"FROM {schema}.person GROUP BY person_id) p ON p.k = t.person_id",
        )
        return True

    # the concept statement reads these columns (plausibleValueLow/High of a concept, plausibleUnitConceptIds)
    by_concept = has(table, "measurement_concept_id", "unit_concept_id", "value_as_number")

    def concept_join(fld: str) -> str:
        alias = f"c_{fld}"
        plan.vocab_joins.setdefault(alias, f"LEFT JOIN {concept} {alias} ON {alias}.concept_id = t.{fld}")
        return alias

    for i, c in enumerate(checks):
        f = f"t.{c.field}" if c.field else ""
        p = c.params
        ct = c.check_type
        if ct == "cdmTable":
            plan.fixed[i] = ("Passed", 0, 1, None)
            continue
        if ct == "cdmField":
            plan.fixed[i] = ("Passed", 0, 1, None) if c.field in cols else ("Failed", 1, 1, "field absent")
            continue
        if c.field and c.field not in cols:
            plan.fixed[i] = ("Not Applicable", 0, 0, "field absent")
            continue
        if ct == "custom":
            plan.scan.append((i, _count(f"({c.denominator}) AND ({c.violation})"), _count(f"({c.denominator})")))
        elif ct == "isRequired" or ct == "measureValueCompleteness":
            plan.scan.append((i, _count(f"{f} IS NULL"), "count(*)"))
        elif ct == "cdmDatatype":
            if cols[c.field].upper() in _INTEGER_TYPES:  # an integer column cannot hold anything else
                plan.scan.append((i, "0", f"count({f})"))
            else:
                plan.scan.append(
                    (
                        i,
                        _count(
                            f"{f} IS NOT NULL AND translate(ltrim(trim(CAST({f} AS VARCHAR)), '-'), "
                            "'0123456789', '') <> ''"
                        ),
                        f"count({f})",
                    )
                )
        elif ct == "isPrimaryKey":
            plan.scan.append((i, f"count({f}) - count(DISTINCT {f})", "count(*)"))
        elif ct in ("standardConceptRecordCompleteness", "sourceConceptRecordCompleteness"):
            plan.scan.append((i, _count(f"{f} = 0"), "count(*)"))
        elif ct == "sourceValueCompleteness":
            std = p[0]
            if std not in cols:
                plan.fixed[i] = ("Not Applicable", 0, 0, f"{std} absent")
                continue
            plan.scan.append((i, f"count(DISTINCT CASE WHEN t.{std} = 0 THEN {f} END)", f"count(DISTINCT {f})"))
        elif ct in ("plausibleValueLow", "plausibleValueHigh"):
            op = "<" if ct.endswith("Low") else ">"
            scope = f"{f} IS NOT NULL"
            if c.concept_id is not None:
                scope += f" AND t.measurement_concept_id = {c.concept_id}"
                if c.unit_concept_id is not None:
                    scope += f" AND t.unit_concept_id = {c.unit_concept_id}"
            term = (i, _count(f"{scope} AND {f} {op} {_lit(p[0])}"), _count(scope))
            if (
                c.concept_id is not None
                and c.field == "value_as_number"
                and by_concept
                and isinstance(p[0], int | float)
                and not isinstance(p[0], bool)
            ):
                slot: Literal["low", "high"] = "low" if ct.endswith("Low") else "high"
                plan.concept_slot[i] = (plan.concept_scope(c.concept_id, c.unit_concept_id, slot, p[0]), slot)
                plan.concept_terms.append(term)
            else:
                plan.scan.append(term)
        elif ct == "plausibleStartBeforeEnd":
            end = p[0]
            if end not in cols:
                plan.fixed[i] = ("Not Applicable", 0, 0, f"{end} absent")
                continue
            both = f"{f} IS NOT NULL AND t.{end} IS NOT NULL"
            plan.scan.append((i, _count(f"{both} AND CAST({f} AS DATE) > CAST(t.{end} AS DATE)"), _count(both)))
        elif ct == "plausibleUnitConceptIds":
            if "unit_concept_id" not in cols or "value_as_number" not in cols:
                plan.fixed[i] = ("Not Applicable", 0, 0, "unit_concept_id or value_as_number absent")
                continue
            scope = f"{f} = {c.concept_id} AND t.value_as_number IS NOT NULL"
            units = ", ".join(str(u) for u in p[0])
            term = (i, _count(f"{scope} AND coalesce(t.unit_concept_id, -1) NOT IN ({units})"), _count(scope))
            if c.field == "measurement_concept_id" and by_concept and c.concept_id is not None:
                plan.concept_slot[i] = (plan.concept_scope(c.concept_id, None, "units"), "units")
                plan.concept_terms.append(term)
            else:
                plan.scan.append(term)
        elif ct in ("isForeignKey", "fkDomain", "fkClass", "isStandardValidConcept"):
            target = p[0] if ct == "isForeignKey" else "concept"
            if target == "concept":
                if concept is None:
                    plan.fixed[i] = ("Not Applicable", 0, 0, "no concept table")
                    continue
                a = concept_join(c.field)
                mapped = f"{f} IS NOT NULL AND {f} <> 0"  # concept 0 ("No matching concept") is in every Athena release
                predicate = {
                    "isForeignKey": f"{mapped} AND {a}.concept_id IS NULL",
                    "fkDomain": f"{mapped} AND {a}.concept_id IS NOT NULL AND {a}.domain_id <> {_lit(p[0] if p else '')}",
                    "fkClass": f"{mapped} AND {a}.concept_id IS NOT NULL AND {a}.concept_class_id <> {_lit(p[0] if p else '')}",
                    "isStandardValidConcept": f"{mapped} AND {a}.concept_id IS NOT NULL AND "
                    f"(coalesce({a}.standard_concept, '') <> 'S' OR {a}.invalid_reason IS NOT NULL)",
                }[ct]
                plan.vocab.append(
                    (i, f"sum(t.{_N}) FILTER (WHERE {predicate})", f"sum(t.{_N}) FILTER (WHERE t.{_G}{c.field} = 0)")
                )
            else:
                key = p[1]
                if not has(target, key):
                    plan.fixed[i] = ("Not Applicable", 0, 0, f"{schema}.{target} absent")
                    continue
                # person_id and visit_occurrence_id reuse the person / visit join of the temporal checks (same
                # keys): one hash join of the table less each (a fifth of measurement's joined scan)
                if (target, key, c.field) == ("person", "person_id", "person_id") and person_join():
                    alias = "p"
                elif (target, key, c.field) == (
                    "visit_occurrence",
                    "visit_occurrence_id",
                    "visit_occurrence_id",
                ) and visit_join():
                    alias = "v"
                else:
                    alias = f"fk_{c.field}"
                    plan.joins.setdefault(
                        alias,
                        f"LEFT JOIN (SELECT DISTINCT {key} AS k FROM {schema}.{target}) "
                        f"{alias} ON {alias}.k = t.{c.field}",
                    )
                plan.join.append((i, _count(f"{f} IS NOT NULL AND {alias}.k IS NULL"), "count(*)"))
        elif ct == "withinVisitDates":
            if not visit_join():
                plan.fixed[i] = ("Not Applicable", 0, 0, "visit_occurrence absent")
                continue
            scope = f"v.k IS NOT NULL AND {f} IS NOT NULL"
            plan.join.append(
                (
                    i,
                    _count(
                        f"{scope} AND (CAST({f} AS DATE) < v.vs - INTERVAL '{VISIT_SLACK_DAYS} days' "
                        f"OR CAST({f} AS DATE) > v.ve + INTERVAL '{VISIT_SLACK_DAYS} days')"
                    ),
                    _count(scope),
                )
            )
        elif ct in ("plausibleAfterBirth", "plausibleGenderUseDescendants"):
            if not person_join():
                plan.fixed[i] = ("Not Applicable", 0, 0, "person absent")
                continue
            if ct == "plausibleAfterBirth":
                scope = f"p.birth_date IS NOT NULL AND {f} IS NOT NULL"
                plan.join.append((i, _count(f"{scope} AND CAST({f} AS DATE) < p.birth_date"), _count(scope)))
            else:
                ids = ", ".join(str(x) for x in p[0])
                if concept_ancestor:
                    alias = f"g_{c.concept_id}"
                    plan.joins.setdefault(
                        alias,
                        f"LEFT JOIN (SELECT DISTINCT descendant_concept_id AS k FROM {concept_ancestor} "
                        f"WHERE ancestor_concept_id IN ({ids})) {alias} ON {alias}.k = {f}",
                    )
                    scope = f"{alias}.k IS NOT NULL"
                else:
                    scope = f"{f} IN ({ids})"
                plan.join.append(
                    (
                        i,
                        _count(f"{scope} AND p.gender_concept_id IS NOT NULL AND p.gender_concept_id <> {p[1]}"),
                        _count(scope),
                    )
                )
        elif ct == "plausibleBeforeDeath":
            if not has("death", "person_id", "death_date") or "person_id" not in cols:
                plan.fixed[i] = ("Not Applicable", 0, 0, "death absent")
                continue
            plan.joins.setdefault(
                "d",
                f"LEFT JOIN (SELECT person_id AS k, min(CAST(death_date AS DATE)) AS death_date "
                f"FROM {schema}.death GROUP BY person_id) d ON d.k = t.person_id",
            )
            scope = f"d.death_date IS NOT NULL AND {f} IS NOT NULL"
            plan.join.append(
                (
                    i,
                    _count(f"{scope} AND CAST({f} AS DATE) > d.death_date + INTERVAL '{BEFORE_DEATH_DAYS} days'"),
                    _count(scope),
                )
            )
        elif ct == "measurePersonCompleteness":
            if not has("person", "person_id") or "person_id" not in cols:
                plan.fixed[i] = ("Not Applicable", 0, 0, "person absent")
                continue
            plan.table_level.append(
                (
                    i,
                    f"(SELECT count(*) FROM {schema}.person p WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {rel} t WHERE t.person_id = p.person_id))",
                    f"(SELECT count(*) FROM {schema}.person)",
                )
            )
        elif ct == "measureConditionEraCompleteness":
            if not has("condition_occurrence", "person_id", "condition_concept_id"):
                plan.fixed[i] = ("Not Applicable", 0, 0, "condition_occurrence absent")
                continue
            persons = f"(SELECT DISTINCT person_id FROM {schema}.condition_occurrence WHERE condition_concept_id <> 0)"
            plan.table_level.append(
                (
                    i,
                    f"(SELECT count(*) FROM {persons} co WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {rel} t WHERE t.person_id = co.person_id))",
                    f"(SELECT count(*) FROM {persons} co)",
                )
            )
        elif ct == "measureObservationPeriodOverlap":
            plan.table_level.append(
                (
                    i,
                    f"(SELECT count(DISTINCT a.observation_period_id) FROM {rel} a JOIN {rel} b "
                    "ON a.person_id = b.person_id AND a.observation_period_id <> b.observation_period_id "
                    "AND a.observation_period_start_date <= b.observation_period_end_date "
                    "AND b.observation_period_start_date <= a.observation_period_end_date)",
                    f"(SELECT count(*) FROM {rel})",
                )
            )
        elif ct == "measureDuplicateRecords":
            keys = [k for k in p[0] if k in cols]
            if "person_id" not in keys:
                plan.fixed[i] = ("Not Applicable", 0, 0, "person_id absent")
                continue
            plan.table_level.append(
                (
                    i,
                    f"(SELECT count(*) FROM {rel}) - (SELECT count(*) FROM "
                    f"(SELECT 1 AS one FROM {rel} GROUP BY {', '.join(keys)}) g)",
                    f"(SELECT count(*) FROM {rel})",
                )
            )
        else:
            raise ValueError(f"unknown check type {ct!r} ({c.name})")
    return plan


def introspect_columns(con, schemas: set[str]) -> dict[tuple[str, str], dict[str, str]]:
    """(schema, table) -> {column: data type} for every table of ``schemas`` (DuckDB and PostgreSQL)."""
    marks = ", ".join("?" for _ in schemas)
    rows = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema IN ({marks})",
        sorted(schemas),
    ).fetchall()
    out: dict[tuple[str, str], dict[str, str]] = {}
    for s, t, c, d in rows:
        out.setdefault((str(s), str(t).lower()), {})[str(c).lower()] = str(d).upper()
    return out


def resolve_concept_relation(con, schema: str, candidates: tuple[str, ...] = ("vocab.concept", "vocab_athena.concept")):
    """The first of ``<schema>.concept`` and ``candidates`` that exists (None: concept checks do not apply)."""
    options = (f"{schema}.concept", *candidates)
    found = introspect_columns(con, {o.split(".")[0] for o in options})
    return next((o for o in options if tuple(o.split(".")) in found), None)


def run_concepts(
    con,
    plan: _Plan,
    rel: str,
    checks: list[QualityCheck],
    sqls: dict[int, str],
    results: dict[int, tuple[int, int]],
    fallback,
) -> None:
    """Run the concept statement and attribute its per-(scope, unit) counts to the concept-specific checks.

    A range check reads its scope's in-range rows (denominator) and those below ``lo`` / above ``hi``; a unit
    check counts the rows of its concept whose unit (NULL read as -1, as DQD does) is not an allowed one.
    ``fallback`` runs each check's own scan term when the statement fails.
    """
    sql = plan.concept_sql(rel)
    for i in plan.concept_slot:
        sqls[i] = sql
    try:
        rows = con.execute(sql).fetchall()
    except (duckdb.Error, psycopg2.Error):
        fallback(plan.concept_terms)
        return
    by_scope: dict[int, list[tuple[int, int, int, int]]] = {}
    for k, unit, n, below, above in rows:
        by_scope.setdefault(int(k), []).append(
            (-1 if unit is None else int(unit), int(n or 0), int(below or 0), int(above or 0))
        )
    for i, (k, slot) in plan.concept_slot.items():
        groups = by_scope.get(k, [])
        den = sum(n for _, n, _, _ in groups)
        if slot == "low":
            num = sum(below for _, _, below, _ in groups)
        elif slot == "high":
            num = sum(above for _, _, _, above in groups)
        else:
            allowed = {int(u) for u in checks[i].params[0]}
            num = sum(n for unit, n, _, _ in groups if unit not in allowed)
        results[i] = (num, den)


def run_table_checks(
    con, table: str, checks: list[QualityCheck], schema: str = "omop", concept_relation: str | None = "auto"
) -> list[CheckOutcome]:
    """Evaluate all checks of one table in at most five statements (see the module docstring; DuckDB or PostgreSQL).

    ``concept_relation`` is the vocabulary's concept table (``vocab.concept``, ``vocab_athena.concept`` or, on a
    site's CDM, ``<schema>.concept``); ``"auto"`` picks the first that exists, None skips concept checks.
    """
    if concept_relation == "auto":
        concept_relation = resolve_concept_relation(con, schema)
    vocab_schema = concept_relation.split(".")[0] if concept_relation else schema
    found = introspect_columns(con, {schema, vocab_schema})
    columns = {t: cols for (s, t), cols in found.items() if s == schema}
    if concept_relation and tuple(concept_relation.split(".")) not in found:
        concept_relation = None
    ancestor = f"{vocab_schema}.concept_ancestor" if (vocab_schema, "concept_ancestor") in found else None
    rel = f"{schema}.{table}"
    intro_sql = (
        f"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '{schema}' "
        f"AND table_name = '{table}'"
    )
    if table not in columns:
        return [
            CheckOutcome(c, "Failed", 1, 1, 100.0, intro_sql, "table absent")
            if c.check_type == "cdmTable"
            else CheckOutcome(c, "Not Applicable", 0, 0, 0.0, intro_sql, "table absent")
            for c in checks
        ]
    plan = _compile(checks, schema, table, columns, concept_relation, ancestor)
    results: dict[int, tuple[int, int]] = {}
    errors: dict[int, str] = {}
    sqls: dict[int, str] = {i: intro_sql for i in plan.fixed}
    # rows and per-field non-null counts ride on the first scan (for Not Applicable on empty tables / fields)
    fields = sorted({c.field for c in checks if c.field and c.field in columns[table]})
    base = ["count(*)"] + [f"count(t.{f})" for f in fields]

    def run_singly(terms, sql_for) -> None:
        """A statement failed: run each of its checks alone, so that only the ones that cannot run are Errors."""
        for i, n, d in terms:
            single = sql_for(f"{n}, {d}")
            sqls[i] = single
            try:
                num, den = con.execute(single).fetchall()[0]
                results[i] = (int(num or 0), int(den or 0))
            except (duckdb.Error, psycopg2.Error) as err:
                errors[i] = str(err).strip()

    def run(terms, sql_for, extra=()):
        select = [*extra] + [x for _, n, d in terms for x in (n, d)]
        if not select:
            return None
        sql = sql_for(", ".join(select))
        for i, _, _ in terms:
            sqls[i] = sql
        try:
            row = con.execute(sql).fetchall()[0]
        except (duckdb.Error, psycopg2.Error):  # a check that cannot run is an Error, not a crash: find which
            run_singly(terms, sql_for)
            return None
        offset = len(extra)
        for k, (i, _, _) in enumerate(terms):
            results[i] = (int(row[offset + 2 * k] or 0), int(row[offset + 2 * k + 1] or 0))
        return row

    base_error = ""
    scan_row = run(plan.scan, lambda s: f"SELECT {s} FROM {rel} t", base)
    if scan_row is None:  # the base counts failed: nothing can be said about emptiness
        try:
            scan_row = con.execute(f"SELECT {', '.join(base)} FROM {rel} t").fetchall()[0]
        except (duckdb.Error, psycopg2.Error) as err:
            scan_row = None
            base_error = str(err).strip()
    n_rows = int(scan_row[0]) if scan_row is not None else None
    non_null = dict(zip(fields, (int(x) for x in scan_row[1 : len(base)]), strict=True)) if scan_row is not None else {}
    if n_rows:  # empty tables need no joined or table-level scan
        joins = " ".join(plan.joins.values())
        run(plan.join, lambda s: f"SELECT {s} FROM {rel} t {joins}")
        run(plan.table_level, lambda s: f"SELECT {s}")
        vocab_from = plan.vocab_from(rel) if plan.vocab else ""
        run(plan.vocab, lambda s: f"SELECT {s} {vocab_from}")
    if n_rows != 0 and plan.concept_terms:
        run_concepts(
            con, plan, rel, checks, sqls, results, lambda terms: run_singly(terms, lambda s: f"SELECT {s} FROM {rel} t")
        )

    outcomes = []
    for i, c in enumerate(checks):
        sql = sqls.get(i, intro_sql)
        if i in plan.fixed:
            status, num, den, note = plan.fixed[i]
            pct = 100.0 * num / den if den else 0.0
            outcomes.append(CheckOutcome(c, status or "Passed", num, den, round(pct, 4), sql, note))
            continue
        if i in errors:
            outcomes.append(CheckOutcome(c, "Error", 0, 0, 0.0, sql, errors[i]))
            continue
        if n_rows is None:
            outcomes.append(CheckOutcome(c, "Error", 0, 0, 0.0, sql, base_error))
            continue
        if n_rows == 0:
            outcomes.append(CheckOutcome(c, "Not Applicable", 0, 0, 0.0, sql, "table empty"))
            continue
        if c.field and non_null.get(c.field, 0) == 0 and c.check_type not in _NOT_NA_ON_EMPTY_FIELD:
            outcomes.append(CheckOutcome(c, "Not Applicable", 0, 0, 0.0, sql, "field empty"))
            continue
        num, den = results[i]
        if den == 0:
            outcomes.append(CheckOutcome(c, "Not Applicable", num, den, 0.0, sql, "no rows to check"))
            continue
        pct = 100.0 * num / den
        outcomes.append(CheckOutcome(c, "Failed" if pct > c.threshold_pct else "Passed", num, den, round(pct, 4), sql))
    return outcomes
