"""Running a table's checks: at most five SQL statements on DuckDB or PostgreSQL, and DQD's status semantics.

:func:`run_table_checks` introspects the database, compiles the table's checks
(:mod:`~mlhops_dagster.quality.compilers`) and runs the plan's statements:

- one scan of the table with a ``count(*) FILTER (WHERE ...)`` aggregate per row-level
  check (isRequired, cdmDatatype, isPrimaryKey, completeness, plausible values without a
  concept, start before end), which also counts the rows and each field's values;
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
  condition era completeness, observation period overlap, duplicate records).

Each outcome keeps the statement that produced it; when a statement fails, its checks run
one by one, so that only the ones that cannot run are Errors.

Status semantics follow DQD: Not Applicable when the table (or field, or a relation the
check needs) is absent or empty, Error when the SQL failed (message kept), Failed when the
violating percentage exceeds the threshold, else Passed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import duckdb
import psycopg2

from mlhops_dagster.quality.catalogue import CheckOutcome, QualityCheck
from mlhops_dagster.quality.compilers import compile_checks, compiler_for
from mlhops_dagster.quality.introspection import introspect_columns, resolve_concept_relation
from mlhops_dagster.quality.plan import CompileContext, IndexedTerm, Plan

logger = logging.getLogger(__name__)

SQL_ERRORS = (duckdb.Error, psycopg2.Error)
"""A check whose SQL fails is an Error outcome, not a crash."""
SqlFor = Callable[[str], str]
"""A statement with its select list left open: the terms to compute go in."""


@dataclass
class TableRun:
    """One table's statements as they run: per check index the SQL that produced it, its counts or its error."""

    con: Any
    sqls: dict[int, str]
    results: dict[int, tuple[int, int]] = dc_field(default_factory=dict)
    errors: dict[int, str] = dc_field(default_factory=dict)
    statements: int = 0

    def fetch(self, sql: str) -> list[tuple]:
        self.statements += 1
        return self.con.execute(sql).fetchall()

    def run_singly(self, terms: Sequence[IndexedTerm], sql_for: SqlFor) -> None:
        """A statement failed: run each of its checks alone, so that only the ones that cannot run are Errors."""
        for i, n, d in terms:
            single = sql_for(f"{n}, {d}")
            self.sqls[i] = single
            try:
                num, den = self.fetch(single)[0]
                self.results[i] = (int(num or 0), int(den or 0))
            except SQL_ERRORS as err:
                self.errors[i] = str(err).strip()

    def run(self, terms: Sequence[IndexedTerm], sql_for: SqlFor, extra: Sequence[str] = ()) -> tuple | None:
        """All ``terms`` (after the ``extra`` columns) in one statement; its row, or None when it did not run."""
        select = [*extra] + [x for _, n, d in terms for x in (n, d)]
        if not select:
            return None
        sql = sql_for(", ".join(select))
        for i, _, _ in terms:
            self.sqls[i] = sql
        try:
            row = self.fetch(sql)[0]
        except SQL_ERRORS:  # find which check cannot run
            self.run_singly(terms, sql_for)
            return None
        offset = len(extra)
        for k, (i, _, _) in enumerate(terms):
            self.results[i] = (int(row[offset + 2 * k] or 0), int(row[offset + 2 * k + 1] or 0))
        return row


@dataclass(frozen=True)
class _BaseCounts:
    """The table's rows and each checked field's non-null values (None: the scan failed, ``error`` says why)."""

    rows: int | None
    non_null: dict[str, int]
    error: str = ""


def run_concepts(run: TableRun, plan: Plan, rel: str, checks: Sequence[QualityCheck]) -> None:
    """Run the concept statement and attribute its per-(scope, unit) counts to the concept-specific checks.

    A range check reads its scope's in-range rows (denominator) and those below ``lo`` / above ``hi``; a unit
    check counts the rows of its concept whose unit (NULL read as -1, as DQD does) is not an allowed one.
    When the statement fails, each check's own scan term runs alone.
    """
    sql = plan.concept_sql(rel)
    for i in plan.concept_slot:
        run.sqls[i] = sql
    try:
        rows = run.fetch(sql)
    except SQL_ERRORS:
        run.run_singly(plan.concept_terms, lambda s: f"SELECT {s} FROM {rel} t")
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
        run.results[i] = (num, den)


def compile_context(con: Any, schema: str, table: str, concept_relation: str | None) -> CompileContext:
    """The CDM's tables and columns and the vocabulary's relations, as the compilers need them."""
    if concept_relation == "auto":
        concept_relation = resolve_concept_relation(con, schema)
    vocab_schema = concept_relation.split(".")[0] if concept_relation else schema
    found = introspect_columns(con, {schema, vocab_schema})
    columns = {t: cols for (s, t), cols in found.items() if s == schema}
    if concept_relation and tuple(concept_relation.split(".")) not in found:
        concept_relation = None
    ancestor = f"{vocab_schema}.concept_ancestor" if (vocab_schema, "concept_ancestor") in found else None
    return CompileContext(schema, table, columns, concept_relation, ancestor)


def _scan(run: TableRun, plan: Plan, rel: str, fields: list[str]) -> _BaseCounts:
    """The row-level scan; the row and per-field non-null counts ride on it (for Not Applicable on empty data)."""
    base = ["count(*)"] + [f"count(t.{f})" for f in fields]
    row = run.run(plan.terms["scan"], lambda s: f"SELECT {s} FROM {rel} t", base)
    if row is None:  # the scan failed: without the base counts nothing can be said about emptiness
        try:
            row = run.fetch(f"SELECT {', '.join(base)} FROM {rel} t")[0]
        except SQL_ERRORS as err:
            return _BaseCounts(None, {}, str(err).strip())
    return _BaseCounts(int(row[0]), dict(zip(fields, (int(x) for x in row[1 : len(base)]), strict=True)))


def _outcome(i: int, check: QualityCheck, plan: Plan, run: TableRun, base: _BaseCounts, sql: str) -> CheckOutcome:
    """DQD's status of check ``i`` from what its statement (or the plan) says."""
    if i in plan.fixed:
        fixed = plan.fixed[i]
        pct = 100.0 * fixed.num / fixed.den if fixed.den else 0.0
        return CheckOutcome(check, fixed.status, fixed.num, fixed.den, round(pct, 4), sql, fixed.note)
    if i in run.errors:
        return CheckOutcome(check, "Error", 0, 0, 0.0, sql, run.errors[i])
    if base.rows is None:
        return CheckOutcome(check, "Error", 0, 0, 0.0, sql, base.error)
    if base.rows == 0:
        return CheckOutcome(check, "Not Applicable", 0, 0, 0.0, sql, "table empty")
    if check.field and base.non_null.get(check.field, 0) == 0 and not compiler_for(check).applies_to_empty_field:
        return CheckOutcome(check, "Not Applicable", 0, 0, 0.0, sql, "field empty")
    num, den = run.results[i]
    if den == 0:
        return CheckOutcome(check, "Not Applicable", num, den, 0.0, sql, "no rows to check")
    pct = 100.0 * num / den
    return CheckOutcome(check, "Failed" if pct > check.threshold_pct else "Passed", num, den, round(pct, 4), sql)


def _evaluate(
    con: Any, ctx: CompileContext, checks: Sequence[QualityCheck], intro_sql: str
) -> tuple[list[CheckOutcome], int]:
    """The outcomes of a present table's checks, and how many statements they took."""
    plan = compile_checks(checks, ctx)
    run = TableRun(con, sqls={i: intro_sql for i in plan.fixed})
    base = _scan(run, plan, ctx.rel, sorted({c.field for c in checks if c.field and c.field in ctx.cols}))
    if base.rows:  # empty tables need no joined or table-level scan
        run.run(plan.terms["join"], lambda s: f"SELECT {s} FROM {ctx.rel} t {plan.join_sql()}")
        run.run(plan.terms["table_level"], lambda s: f"SELECT {s}")
        vocab_from = plan.vocab_from(ctx.rel) if plan.terms["vocab"] else ""
        run.run(plan.terms["vocab"], lambda s: f"SELECT {s} {vocab_from}")
    if base.rows != 0 and plan.concept_terms:
        run_concepts(run, plan, ctx.rel, checks)
    return [_outcome(i, c, plan, run, base, run.sqls.get(i, intro_sql)) for i, c in enumerate(checks)], run.statements


def run_table_checks(
    con: Any,
    table: str,
    checks: Sequence[QualityCheck],
    schema: str = "omop",
    concept_relation: str | None = "auto",
) -> list[CheckOutcome]:
    """Evaluate all checks of one table in at most five statements (see the module docstring; DuckDB or PostgreSQL).

    ``concept_relation`` is the vocabulary's concept table (``vocab.concept``, ``vocab_athena.concept`` or, on a
    site's CDM, ``<schema>.concept``); ``"auto"`` picks the first that exists, None skips concept checks.
    """
    started = time.perf_counter()
    ctx = compile_context(con, schema, table, concept_relation)
    intro_sql = (
        f"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '{schema}' "
        f"AND table_name = '{table}'"
    )
    if table not in ctx.columns:
        outcomes = [
            CheckOutcome(c, "Failed", 1, 1, 100.0, intro_sql, "table absent")
            if c.check_type == "cdmTable"
            else CheckOutcome(c, "Not Applicable", 0, 0, 0.0, intro_sql, "table absent")
            for c in checks
        ]
        statements = 0
    else:
        outcomes, statements = _evaluate(con, ctx, checks, intro_sql)
    counts = Counter(o.status for o in outcomes)
    logger.info(
        "data-quality checks on %s.%s: %d checks, %d statements: %d passed, %d failed, %d not applicable, "
        "%d error (%.2f s)",
        schema,
        table,
        len(checks),
        statements,
        counts["Passed"],
        counts["Failed"],
        counts["Not Applicable"],
        counts["Error"],
        time.perf_counter() - started,
    )
    return outcomes
