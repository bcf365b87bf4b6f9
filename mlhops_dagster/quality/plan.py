"""What a check compiles to, and how one table's checks group into at most five SQL statements.

A compiler (:mod:`~mlhops_dagster.quality.compilers`) turns a check into one piece:

- a :class:`Term` (numerator and denominator SQL) on one of the shared statements: ``scan`` (one
  pass over the table, ``count(*) FILTER`` per check), ``join`` (the table LEFT JOINed to what the
  checks need: each :class:`Join` is added once, in check order), ``table_level`` (scalar
  subqueries) or ``vocab`` (each concept field's distinct values joined to ``concept``);
- a :class:`ConceptSlot`: a read of the grouped concept statement (value bounds of one concept and
  unit, plausible units), with the check's own scan term for when that statement fails;
- a :class:`Fixed` outcome, known without running SQL (the table is present, a field or a relation
  the check needs is absent).

:class:`Plan` collects the pieces of a table's checks in order; the runner executes its statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

from mlhops_dagster.quality.catalogue import Status

Statement = Literal["scan", "join", "table_level", "vocab"]
Slot = Literal["low", "high", "units"]
IndexedTerm = tuple[int, str, str]
"""(check index, numerator SQL, denominator SQL): a check's two terms on a statement."""

ROWS, GROUPING = "dq_rows", "dq_grouping_"
"""Column names of the vocabulary statement's grouped rows: the rows a value stands for, its grouping set."""


def lit(value: Any) -> str:
    """A SQL literal of a bound: dates as DATE literals, strings quoted, numbers as Python writes them."""
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def count(predicate: str) -> str:
    return f"count(*) FILTER (WHERE {predicate})"


@dataclass(frozen=True)
class Join:
    """A relation joined to the table's rows in the joined scan (or to a concept field's values)."""

    alias: str
    sql: str


@dataclass(frozen=True)
class Term:
    """A check's numerator and denominator on a shared statement, with the joins they read."""

    statement: Statement
    numerator: str
    denominator: str
    joins: tuple[Join, ...] = ()


@dataclass(frozen=True)
class Fixed:
    """An outcome known without running SQL (``note`` says why, when it is not Passed)."""

    status: Status
    num: int = 0
    den: int = 0
    note: str | None = None


@dataclass(frozen=True)
class ConceptSlot:
    """A read of the concept statement: the row of (concept, unit) and the count (``slot``) the check needs.

    ``fallback`` is the check's own scan term, run alone when the concept statement fails.
    """

    concept_id: int
    unit_concept_id: int | None
    slot: Slot
    bound: float | None
    fallback: Term


Piece = Term | Fixed | ConceptSlot


@dataclass(frozen=True)
class CompileContext:
    """What the compilers know of the database: the CDM's tables and columns, the vocabulary's relations."""

    schema: str
    table: str
    columns: Mapping[str, Mapping[str, str]]  # CDM table -> {column: data type}
    concept: str | None  # the vocabulary's concept relation; None: concept checks do not apply
    concept_ancestor: str | None = None

    @property
    def rel(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def cols(self) -> Mapping[str, str]:
        return self.columns.get(self.table, {})

    def has(self, table: str, *names: str) -> bool:
        return table in self.columns and all(n in self.columns[table] for n in names)

    @property
    def by_concept(self) -> bool:
        """The concept statement reads these columns (plausibleValueLow/High of a concept, plausibleUnitConceptIds)."""
        return self.has(self.table, "measurement_concept_id", "unit_concept_id", "value_as_number")

    def visit_join(self) -> Join | None:
        """Each row's visit (its dates); None when the visit table or the row's visit id is absent."""
        if (
            not self.has("visit_occurrence", "visit_occurrence_id", "visit_start_date", "visit_end_date")
            or "visit_occurrence_id" not in self.cols
        ):
            return None
        return Join(
            "v",
            f"LEFT JOIN (SELECT visit_occurrence_id AS k, min(CAST(visit_start_date AS DATE)) AS vs, "
            f"max(CAST(visit_end_date AS DATE)) AS ve FROM {self.schema}.visit_occurrence "
            "GROUP BY visit_occurrence_id) v ON v.k = t.visit_occurrence_id",
        )

    def person_join(self) -> Join | None:
        """Each row's person (birth date, gender); None when the person table or the row's person id is absent."""
        if not self.has("person", "person_id", "year_of_birth", "gender_concept_id") or "person_id" not in self.cols:
            return None
        birth = "make_date(CAST(year_of_birth AS INTEGER), 1, 1)"
        if self.has("person", "birth_datetime"):
            birth = f"coalesce(CAST(birth_datetime AS DATE), {birth})"
        return Join(
            "p",
            f"LEFT JOIN (SELECT person_id AS k, min(CASE WHEN year_of_birth BETWEEN 1 AND 9999 "
            f"THEN {birth} END) AS birth_date, min(gender_concept_id) AS gender_concept_id "
            f"FROM {self.schema}.person GROUP BY person_id) p ON p.k = t.person_id",
        )


@dataclass
class ConceptScope:
    """One row of the concept statement's VALUES list: a concept (and unit, None: any unit) with its bounds."""

    concept_id: int
    unit_concept_id: int | None
    low: float | None = None
    high: float | None = None


@dataclass
class Plan:
    """The pieces of one table's checks, by statement, in check order.

    The concept-specific checks (plausibleValueLow/High of one concept and unit, plausibleUnitConceptIds) do not
    ride on the scan: as ``count(*) FILTER`` terms they were a third of measurement's scan time (one predicate per
    concept x bound evaluated on every row). They share one grouped statement instead (:meth:`concept_sql`):
    ``concept_scopes`` are its VALUES rows, ``concept_slot`` says which row and count each check reads, and
    ``concept_terms`` keep each check's own scan term, run alone when the statement fails to find which errs.
    """

    terms: dict[Statement, list[IndexedTerm]] = dc_field(
        default_factory=lambda: {"scan": [], "join": [], "table_level": [], "vocab": []}
    )
    joins: dict[str, str] = dc_field(default_factory=dict)
    vocab_joins: dict[str, str] = dc_field(default_factory=dict)
    fixed: dict[int, Fixed] = dc_field(default_factory=dict)
    concept_scopes: list[ConceptScope] = dc_field(default_factory=list)
    concept_slot: dict[int, tuple[int, Slot]] = dc_field(default_factory=dict)
    concept_terms: list[IndexedTerm] = dc_field(default_factory=list)

    def add(self, index: int, piece: Piece) -> None:
        """Put check ``index``'s piece on its statement (joins and concept rows shared with earlier checks)."""
        if isinstance(piece, Fixed):
            self.fixed[index] = piece
        elif isinstance(piece, ConceptSlot):
            scope = self.concept_scope(piece.concept_id, piece.unit_concept_id, piece.slot, piece.bound)
            self.concept_slot[index] = (scope, piece.slot)
            self.concept_terms.append((index, piece.fallback.numerator, piece.fallback.denominator))
        else:
            joins = self.vocab_joins if piece.statement == "vocab" else self.joins
            for join in piece.joins:
                joins.setdefault(join.alias, join.sql)
            self.terms[piece.statement].append((index, piece.numerator, piece.denominator))

    def join_sql(self) -> str:
        return " ".join(self.joins.values())

    def vocab_from(self, rel: str) -> str:
        """The FROM of the vocabulary checks: each concept field's distinct values with their row counts.

        Joining every row to ``concept`` once per concept field cost more than half of measurement's joined
        scan; the distinct values of a concept field are few, so the table is grouped once per field
        (GROUPING SETS: one pass) and only those values are joined. ``GROUPING<field>`` is 0 on the rows of that
        field's grouping set (the denominator), ``ROWS`` the rows a value stands for.
        """
        fields = sorted({a.removeprefix("c_") for a in self.vocab_joins})
        grouping = ", ".join(f"GROUPING(t.{f}) AS {GROUPING}{f}" for f in fields)
        sets = ", ".join(f"(t.{f})" for f in fields)
        return (
            f"FROM (SELECT {', '.join(f't.{f}' for f in fields)}, {grouping}, count(*) AS {ROWS} FROM {rel} t "
            f"GROUP BY GROUPING SETS ({sets})) t {' '.join(self.vocab_joins.values())}"
        )

    def concept_scope(self, concept_id: int, unit_concept_id: int | None, slot: Slot, bound: float | None) -> int:
        """The VALUES row for a check: shared with a check of the same concept and unit when its slot is free."""
        for k, scope in enumerate(self.concept_scopes):
            if (scope.concept_id, scope.unit_concept_id) != (concept_id, unit_concept_id):
                continue
            if slot == "units":
                return k
            if getattr(scope, slot) is None or getattr(scope, slot) == bound:
                setattr(scope, slot, bound)
                return k
        self.concept_scopes.append(ConceptScope(concept_id, unit_concept_id))
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
            return f"CAST({'NULL' if x is None else lit(x)} AS DOUBLE PRECISION)"

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
