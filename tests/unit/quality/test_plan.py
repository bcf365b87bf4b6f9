"""A table's plan: pieces grouped by statement, joins and concept rows shared between checks, in check order."""

from __future__ import annotations

from mlhops_dagster.quality.plan import ConceptSlot, Fixed, Join, Plan, Term


def _slot(concept: int, unit: int | None, slot, bound) -> ConceptSlot:
    return ConceptSlot(concept, unit, slot, bound, Term("scan", f"n{concept}", f"d{concept}"))


def test_terms_go_to_their_statement_and_joins_are_added_once_in_first_seen_order() -> None:
    plan = Plan()
    person, visit = Join("p", "LEFT JOIN person p"), Join("v", "LEFT JOIN visit v")
    plan.add(0, Term("join", "a", "b", (person,)))
    plan.add(1, Term("scan", "c", "d"))
    plan.add(2, Term("join", "e", "f", (visit, person)))
    plan.add(3, Term("vocab", "g", "h", (Join("c_x", "LEFT JOIN concept c_x"),)))
    plan.add(4, Fixed("Not Applicable", note="field absent"))
    assert plan.terms == {
        "scan": [(1, "c", "d")],
        "join": [(0, "a", "b"), (2, "e", "f")],
        "table_level": [],
        "vocab": [(3, "g", "h")],
    }
    assert plan.join_sql() == "LEFT JOIN person p LEFT JOIN visit v"
    assert list(plan.vocab_joins) == ["c_x"] and plan.fixed == {4: Fixed("Not Applicable", note="field absent")}
    assert "GROUPING(t.x) AS dq_grouping_x" in plan.vocab_from("omop.m")


def test_low_and_high_of_one_concept_and_unit_share_a_values_row() -> None:
    plan = Plan()
    plan.add(0, _slot(1, 10, "low", 5.0))
    plan.add(1, _slot(1, 10, "high", 50.0))
    plan.add(2, _slot(1, None, "units", None))  # any unit: a row of its own
    plan.add(3, _slot(1, 10, "low", 6.0))  # another low bound: another row
    plan.add(4, _slot(1, None, "low", 1.0))  # shares the any-unit row
    assert plan.concept_slot == {0: (0, "low"), 1: (0, "high"), 2: (1, "units"), 3: (2, "low"), 4: (1, "low")}
    assert [(s.concept_id, s.unit_concept_id, s.low, s.high) for s in plan.concept_scopes] == [
        (1, 10, 5.0, 50.0),
        (1, None, 1.0, None),
        (1, 10, 6.0, None),
    ]
    assert [i for i, _, _ in plan.concept_terms] == [0, 1, 2, 3, 4]
    sql = plan.concept_sql("omop.measurement")
    assert "(0, 1, CAST(10 AS BIGINT), CAST(5.0 AS DOUBLE PRECISION), CAST(50.0 AS DOUBLE PRECISION))" in sql
    assert "(1, 1, CAST(NULL AS BIGINT), CAST(1.0 AS DOUBLE PRECISION), CAST(NULL AS DOUBLE PRECISION))" in sql
