"""One SQL compiler per check type, registered by name; :func:`compile_checks` turns a table's checks into a plan.

Each compiler maps a check (and what the database holds, a :class:`~mlhops_dagster.quality.plan.CompileContext`)
to its piece of one of the table's shared statements (see :mod:`~mlhops_dagster.quality.plan`): a
``count(*) FILTER`` term of the row scan, a term of the joined scan with the joins it reads, a scalar
subquery of the table-level statement, a term over a concept field's values, a slot of the grouped concept
statement, or an outcome known without SQL. The SQL follows DQD's check definitions; DuckDB and PostgreSQL
both run it.

A new check type is a function decorated ``@check_compiler("<checkType>")`` (and an entry of
:data:`~mlhops_dagster.quality.check_types.CHECK_TYPES` for the catalogue to use it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from mlhops_dagster.quality.catalogue import QualityCheck
from mlhops_dagster.quality.plan import (
    GROUPING,
    ROWS,
    CompileContext,
    ConceptSlot,
    Fixed,
    Join,
    Piece,
    Plan,
    Term,
    count,
    lit,
)

BEFORE_DEATH_DAYS = 60
VISIT_SLACK_DAYS = 7
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

CheckCompiler = Callable[[QualityCheck, CompileContext], Piece]


@dataclass(frozen=True)
class Compiler:
    """A check type's compiler, and how the runner reads a field the check names that is absent or empty.

    ``applies_to_absent_field``: the compiler judges an absent field itself (cdmField fails on it); every
    other check of an absent field is Not Applicable. ``applies_to_empty_field``: the check counts rows
    whatever the field holds (NULLs are its violations, or its rows are chosen by another column), so a
    field with no value is not a reason for Not Applicable.
    """

    compile: CheckCompiler
    applies_to_absent_field: bool = False
    applies_to_empty_field: bool = False


CHECK_COMPILERS: dict[str, Compiler] = {}
"""Registry of check compilers by check type (``QualityCheck.check_type``)."""


def check_compiler(
    check_type: str, *, applies_to_absent_field: bool = False, applies_to_empty_field: bool = False
) -> Callable[[CheckCompiler], CheckCompiler]:
    """Register a compiler under its check type; a second compiler for the same type is an error."""

    def register(compiler: CheckCompiler) -> CheckCompiler:
        if check_type in CHECK_COMPILERS:
            raise ValueError(
                f"check type {check_type!r} has a compiler already ({CHECK_COMPILERS[check_type].compile.__name__})"
            )
        CHECK_COMPILERS[check_type] = Compiler(compiler, applies_to_absent_field, applies_to_empty_field)
        return compiler

    return register


def compiler_for(check: QualityCheck) -> Compiler:
    try:
        return CHECK_COMPILERS[check.check_type]
    except KeyError:
        raise ValueError(
            f"unknown check type {check.check_type!r} ({check.name}); known: {', '.join(sorted(CHECK_COMPILERS))}"
        ) from None


def compile_check(check: QualityCheck, ctx: CompileContext) -> Piece:
    compiler = compiler_for(check)
    if check.field and check.field not in ctx.cols and not compiler.applies_to_absent_field:
        return Fixed("Not Applicable", note="field absent")
    return compiler.compile(check, ctx)


def compile_checks(checks: Sequence[QualityCheck], ctx: CompileContext) -> Plan:
    """The plan of one table's checks: each check's piece on its statement, in check order."""
    plan = Plan()
    for i, check in enumerate(checks):
        plan.add(i, compile_check(check, ctx))
    return plan


def _col(check: QualityCheck) -> str:
    return f"t.{check.field}"


def _not_applicable(why: str) -> Fixed:
    return Fixed("Not Applicable", note=why)


# ------------------------------------------------------------------------------------------- presence and nulls
@check_compiler("cdmTable", applies_to_empty_field=True)
def _cdm_table(check: QualityCheck, ctx: CompileContext) -> Piece:
    """The runner only compiles the checks of a table that exists (an absent table fails before)."""
    return Fixed("Passed", 0, 1)


@check_compiler("cdmField", applies_to_absent_field=True, applies_to_empty_field=True)
def _cdm_field(check: QualityCheck, ctx: CompileContext) -> Piece:
    return Fixed("Passed", 0, 1) if check.field in ctx.cols else Fixed("Failed", 1, 1, "field absent")


@check_compiler("custom", applies_to_empty_field=True)
def _custom(check: QualityCheck, ctx: CompileContext) -> Piece:
    """A hand-written check: its own violation predicate over its own denominator."""
    return Term("scan", count(f"({check.denominator}) AND ({check.violation})"), count(f"({check.denominator})"))


@check_compiler("isRequired", applies_to_empty_field=True)
@check_compiler("measureValueCompleteness", applies_to_empty_field=True)
def _null(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Rows whose field is NULL: a violation of a required field, a measure of a field's completeness."""
    return Term("scan", count(f"{_col(check)} IS NULL"), "count(*)")


@check_compiler("cdmDatatype")
def _cdm_datatype(check: QualityCheck, ctx: CompileContext) -> Piece:
    f = _col(check)
    if ctx.cols[str(check.field)].upper() in _INTEGER_TYPES:  # an integer column cannot hold anything else
        return Term("scan", "0", f"count({f})")
    not_an_integer = f"translate(ltrim(trim(CAST({f} AS VARCHAR)), '-'), '0123456789', '') <> ''"
    return Term("scan", count(f"{f} IS NOT NULL AND {not_an_integer}"), f"count({f})")


@check_compiler("isPrimaryKey")
def _is_primary_key(check: QualityCheck, ctx: CompileContext) -> Piece:
    f = _col(check)
    return Term("scan", f"count({f}) - count(DISTINCT {f})", "count(*)")


@check_compiler("standardConceptRecordCompleteness")
@check_compiler("sourceConceptRecordCompleteness")
def _concept_zero(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Rows mapped to concept 0 ("No matching concept")."""
    return Term("scan", count(f"{_col(check)} = 0"), "count(*)")


@check_compiler("sourceValueCompleteness")
def _source_value_completeness(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Distinct source values whose standard concept field is 0, over the distinct source values."""
    std, f = check.params[0], _col(check)
    if std not in ctx.cols:
        return _not_applicable(f"{std} absent")
    return Term("scan", f"count(DISTINCT CASE WHEN t.{std} = 0 THEN {f} END)", f"count(DISTINCT {f})")


# ------------------------------------------------------------------------------------------- plausible values
def _value_bound(check: QualityCheck, ctx: CompileContext, slot: Literal["low", "high"]) -> Piece:
    """Values below (``low``) or above (``high``) a bound, of one concept (and unit) when the check names one.

    A numeric bound of a measurement concept reads the grouped concept statement; any other rides on the scan.
    """
    f, bound = _col(check), check.params[0]
    scope = f"{f} IS NOT NULL"
    if check.concept_id is not None:
        scope += f" AND t.measurement_concept_id = {check.concept_id}"
        if check.unit_concept_id is not None:
            scope += f" AND t.unit_concept_id = {check.unit_concept_id}"
    term = Term("scan", count(f"{scope} AND {f} {'<' if slot == 'low' else '>'} {lit(bound)}"), count(scope))
    numeric = isinstance(bound, int | float) and not isinstance(bound, bool)
    if check.concept_id is not None and check.field == "value_as_number" and ctx.by_concept and numeric:
        return ConceptSlot(check.concept_id, check.unit_concept_id, slot, bound, term)
    return term


@check_compiler("plausibleValueLow")
def _plausible_value_low(check: QualityCheck, ctx: CompileContext) -> Piece:
    return _value_bound(check, ctx, "low")


@check_compiler("plausibleValueHigh")
def _plausible_value_high(check: QualityCheck, ctx: CompileContext) -> Piece:
    return _value_bound(check, ctx, "high")


@check_compiler("plausibleStartBeforeEnd")
def _plausible_start_before_end(check: QualityCheck, ctx: CompileContext) -> Piece:
    end, f = check.params[0], _col(check)
    if end not in ctx.cols:
        return _not_applicable(f"{end} absent")
    both = f"{f} IS NOT NULL AND t.{end} IS NOT NULL"
    return Term("scan", count(f"{both} AND CAST({f} AS DATE) > CAST(t.{end} AS DATE)"), count(both))


@check_compiler("plausibleUnitConceptIds", applies_to_empty_field=True)
def _plausible_unit_concept_ids(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Rows of the concept with a value whose unit (NULL read as -1, as DQD does) is not an allowed one."""
    if "unit_concept_id" not in ctx.cols or "value_as_number" not in ctx.cols:
        return _not_applicable("unit_concept_id or value_as_number absent")
    scope = f"{_col(check)} = {check.concept_id} AND t.value_as_number IS NOT NULL"
    units = ", ".join(str(u) for u in check.params[0])
    term = Term("scan", count(f"{scope} AND coalesce(t.unit_concept_id, -1) NOT IN ({units})"), count(scope))
    if check.field == "measurement_concept_id" and ctx.by_concept and check.concept_id is not None:
        return ConceptSlot(check.concept_id, None, "units", None, term)
    return term


# ------------------------------------------------------------------------------------------- the vocabulary
def _vocabulary_term(check: QualityCheck, ctx: CompileContext, violation: Callable[[str], str]) -> Piece:
    """A term over the concept field's distinct values joined to ``concept`` (alias ``c_<field>``).

    Concept 0 ("No matching concept") is in every Athena release and is never a violation.
    """
    if ctx.concept is None:
        return _not_applicable("no concept table")
    f, alias = _col(check), f"c_{check.field}"
    join = Join(alias, f"LEFT JOIN {ctx.concept} {alias} ON {alias}.concept_id = t.{check.field}")
    predicate = f"{f} IS NOT NULL AND {f} <> 0 AND {violation(alias)}"
    return Term(
        "vocab",
        f"sum(t.{ROWS}) FILTER (WHERE {predicate})",
        f"sum(t.{ROWS}) FILTER (WHERE t.{GROUPING}{check.field} = 0)",
        (join,),
    )


@check_compiler("isForeignKey")
def _is_foreign_key(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Values absent from the referenced table: concepts on the vocabulary statement, other keys on the joined scan.

    person_id and visit_occurrence_id reuse the person / visit join of the temporal checks (same keys): one
    hash join of the table less each (a fifth of measurement's joined scan).
    """
    target, key = check.params[0], check.params[1]
    if target == "concept":
        return _vocabulary_term(check, ctx, lambda a: f"{a}.concept_id IS NULL")
    if not ctx.has(target, key):
        return _not_applicable(f"{ctx.schema}.{target} absent")
    shared = {("person", "person_id"): ctx.person_join, ("visit_occurrence", "visit_occurrence_id"): ctx.visit_join}
    join = shared[(target, key)]() if (target, key) in shared and check.field == key else None
    if join is None:
        alias = f"fk_{check.field}"
        join = Join(
            alias,
            f"LEFT JOIN (SELECT DISTINCT {key} AS k FROM {ctx.schema}.{target}) {alias} ON {alias}.k = t.{check.field}",
        )
    return Term("join", count(f"{_col(check)} IS NOT NULL AND {join.alias}.k IS NULL"), "count(*)", (join,))


@check_compiler("fkDomain")
def _fk_domain(check: QualityCheck, ctx: CompileContext) -> Piece:
    domain = lit(check.params[0] if check.params else "")
    return _vocabulary_term(check, ctx, lambda a: f"{a}.concept_id IS NOT NULL AND {a}.domain_id <> {domain}")


@check_compiler("fkClass")
def _fk_class(check: QualityCheck, ctx: CompileContext) -> Piece:
    klass = lit(check.params[0] if check.params else "")
    return _vocabulary_term(check, ctx, lambda a: f"{a}.concept_id IS NOT NULL AND {a}.concept_class_id <> {klass}")


@check_compiler("isStandardValidConcept")
def _is_standard_valid_concept(check: QualityCheck, ctx: CompileContext) -> Piece:
    return _vocabulary_term(
        check,
        ctx,
        lambda a: (
            f"{a}.concept_id IS NOT NULL AND "
            f"(coalesce({a}.standard_concept, '') <> 'S' OR {a}.invalid_reason IS NOT NULL)"
        ),
    )


# ------------------------------------------------------------------------------------------- the joined scan
@check_compiler("withinVisitDates")
def _within_visit_dates(check: QualityCheck, ctx: CompileContext) -> Piece:
    visit = ctx.visit_join()
    if visit is None:
        return _not_applicable("visit_occurrence absent")
    f = _col(check)
    scope = f"v.k IS NOT NULL AND {f} IS NOT NULL"
    outside = (
        f"CAST({f} AS DATE) < v.vs - INTERVAL '{VISIT_SLACK_DAYS} days' "
        f"OR CAST({f} AS DATE) > v.ve + INTERVAL '{VISIT_SLACK_DAYS} days'"
    )
    return Term("join", count(f"{scope} AND ({outside})"), count(scope), (visit,))


@check_compiler("plausibleAfterBirth")
def _plausible_after_birth(check: QualityCheck, ctx: CompileContext) -> Piece:
    person = ctx.person_join()
    if person is None:
        return _not_applicable("person absent")
    f = _col(check)
    scope = f"p.birth_date IS NOT NULL AND {f} IS NOT NULL"
    return Term("join", count(f"{scope} AND CAST({f} AS DATE) < p.birth_date"), count(scope), (person,))


@check_compiler("plausibleGenderUseDescendants", applies_to_empty_field=True)
def _plausible_gender_use_descendants(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Records of the concepts (or their descendants, with concept_ancestor) for persons of the other gender."""
    person = ctx.person_join()
    if person is None:
        return _not_applicable("person absent")
    f, (concept_ids, gender) = _col(check), check.params
    ids = ", ".join(str(x) for x in concept_ids)
    joins: tuple[Join, ...] = (person,)
    if ctx.concept_ancestor:
        alias = f"g_{check.concept_id}"
        joins += (
            Join(
                alias,
                f"LEFT JOIN (SELECT DISTINCT descendant_concept_id AS k FROM {ctx.concept_ancestor} "
                f"WHERE ancestor_concept_id IN ({ids})) {alias} ON {alias}.k = {f}",
            ),
        )
        scope = f"{alias}.k IS NOT NULL"
    else:
        scope = f"{f} IN ({ids})"
    other = f"p.gender_concept_id IS NOT NULL AND p.gender_concept_id <> {gender}"
    return Term("join", count(f"{scope} AND {other}"), count(scope), joins)


@check_compiler("plausibleBeforeDeath")
def _plausible_before_death(check: QualityCheck, ctx: CompileContext) -> Piece:
    if not ctx.has("death", "person_id", "death_date") or "person_id" not in ctx.cols:
        return _not_applicable("death absent")
    death = Join(
        "d",
        f"LEFT JOIN (SELECT person_id AS k, min(CAST(death_date AS DATE)) AS death_date "
        f"FROM {ctx.schema}.death GROUP BY person_id) d ON d.k = t.person_id",
    )
    f = _col(check)
    scope = f"d.death_date IS NOT NULL AND {f} IS NOT NULL"
    late = f"CAST({f} AS DATE) > d.death_date + INTERVAL '{BEFORE_DEATH_DAYS} days'"
    return Term("join", count(f"{scope} AND {late}"), count(scope), (death,))


# ------------------------------------------------------------------------------------------- table level
@check_compiler("measurePersonCompleteness")
def _measure_person_completeness(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Persons with no record in the table, over all persons."""
    if not ctx.has("person", "person_id") or "person_id" not in ctx.cols:
        return _not_applicable("person absent")
    return Term(
        "table_level",
        f"(SELECT count(*) FROM {ctx.schema}.person p WHERE NOT EXISTS "
        f"(SELECT 1 FROM {ctx.rel} t WHERE t.person_id = p.person_id))",
        f"(SELECT count(*) FROM {ctx.schema}.person)",
    )


@check_compiler("measureConditionEraCompleteness")
def _measure_condition_era_completeness(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Persons with a mapped condition but no condition era, over persons with a mapped condition."""
    if not ctx.has("condition_occurrence", "person_id", "condition_concept_id"):
        return _not_applicable("condition_occurrence absent")
    persons = f"(SELECT DISTINCT person_id FROM {ctx.schema}.condition_occurrence WHERE condition_concept_id <> 0)"
    return Term(
        "table_level",
        f"(SELECT count(*) FROM {persons} co WHERE NOT EXISTS "
        f"(SELECT 1 FROM {ctx.rel} t WHERE t.person_id = co.person_id))",
        f"(SELECT count(*) FROM {persons} co)",
    )


@check_compiler("measureObservationPeriodOverlap")
def _measure_observation_period_overlap(check: QualityCheck, ctx: CompileContext) -> Piece:
    rel = ctx.rel
    return Term(
        "table_level",
        f"(SELECT count(DISTINCT a.observation_period_id) FROM {rel} a JOIN {rel} b "
        "ON a.person_id = b.person_id AND a.observation_period_id <> b.observation_period_id "
        "AND a.observation_period_start_date <= b.observation_period_end_date "
        "AND b.observation_period_start_date <= a.observation_period_end_date)",
        f"(SELECT count(*) FROM {rel})",
    )


@check_compiler("measureDuplicateRecords")
def _measure_duplicate_records(check: QualityCheck, ctx: CompileContext) -> Piece:
    """Rows beyond the first of each group of identical key columns (those of the table that exist)."""
    keys = [k for k in check.params[0] if k in ctx.cols]
    if "person_id" not in keys:
        return _not_applicable("person_id absent")
    return Term(
        "table_level",
        f"(SELECT count(*) FROM {ctx.rel}) - (SELECT count(*) FROM "
        f"(SELECT 1 AS one FROM {ctx.rel} GROUP BY {', '.join(keys)}) g)",
        f"(SELECT count(*) FROM {ctx.rel})",
    )
