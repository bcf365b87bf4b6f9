"""The compiler registry: one compiler per check type, each contributing its piece to the right statement."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mlhops_dagster.quality.catalogue import QualityCheck
from mlhops_dagster.quality.check_types import CHECK_TYPES
from mlhops_dagster.quality.compilers import (
    CHECK_COMPILERS,
    check_compiler,
    compile_check,
    compile_checks,
    compiler_for,
)
from mlhops_dagster.quality.plan import CompileContext, ConceptSlot, Fixed, Term
from mlhops_dagster.quality.runner import compile_context, run_table_checks
from tests.support.quality_cdm import CATALOGUE, dqd_cdm


def _check(table: str, name: str) -> QualityCheck:
    return next(c for c in CATALOGUE[table] if c.name == name)


def _ctx(table: str, concept: str | None = "vocab.concept", ancestor: str | None = None) -> CompileContext:
    return replace(compile_context(dqd_cdm(), "omop", table, concept), concept_ancestor=ancestor)


def test_every_check_type_has_exactly_one_compiler() -> None:
    assert set(CHECK_COMPILERS) == set(CHECK_TYPES) | {"custom"}  # custom: a hand-written predicate
    for checks in CATALOGUE.values():
        for check in checks:
            assert compiler_for(check) is CHECK_COMPILERS[check.check_type]


def test_a_second_compiler_for_a_type_is_refused() -> None:
    before = CHECK_COMPILERS["isRequired"]
    with pytest.raises(ValueError, match="'isRequired' has a compiler already"):
        check_compiler("isRequired")(lambda check, ctx: Fixed("Passed"))
    assert CHECK_COMPILERS["isRequired"] is before


def test_an_unknown_check_type_is_a_clear_error() -> None:
    check = replace(_check("person", "isRequired_person_person_id"), check_type="isRequird", name="typo")
    with pytest.raises(ValueError, match=r"unknown check type 'isRequird' \(typo\); known: .*isRequired"):
        compile_check(check, _ctx("person"))
    with pytest.raises(ValueError, match="unknown check type 'isRequird'"):
        run_table_checks(dqd_cdm(), "person", [check])


def test_only_checks_that_count_nulls_or_presence_apply_to_an_empty_field() -> None:
    """An all-NULL field is 100 % violation for isRequired, but Not Applicable for a value check."""
    assert {t for t, c in CHECK_COMPILERS.items() if c.applies_to_empty_field} == {
        "cdmTable",
        "cdmField",
        "isRequired",
        "measureValueCompleteness",
        "custom",
        "plausibleGenderUseDescendants",
        "plausibleUnitConceptIds",
    }
    assert {t for t, c in CHECK_COMPILERS.items() if c.applies_to_absent_field} == {"cdmField"}


def test_each_compiler_contributes_to_its_statement() -> None:
    ctx = _ctx("condition_occurrence")
    required = compile_check(_check("condition_occurrence", "isRequired_condition_occurrence_person_id"), ctx)
    assert required == Term("scan", "count(*) FILTER (WHERE t.person_id IS NULL)", "count(*)")
    person_fk = compile_check(_check("condition_occurrence", "isForeignKey_condition_occurrence_person_id"), ctx)
    assert isinstance(person_fk, Term) and person_fk.statement == "join" and [j.alias for j in person_fk.joins] == ["p"]
    concept_fk = compile_check(
        _check("condition_occurrence", "isForeignKey_condition_occurrence_condition_concept_id"), ctx
    )
    assert isinstance(concept_fk, Term) and concept_fk.statement == "vocab"
    assert [j.alias for j in concept_fk.joins] == ["c_condition_concept_id"]
    persons = compile_check(_check("condition_occurrence", "measurePersonCompleteness_condition_occurrence"), ctx)
    assert isinstance(persons, Term) and persons.statement == "table_level" and persons.numerator.startswith("(SELECT")
    absent = compile_check(_check("condition_occurrence", "isForeignKey_condition_occurrence_provider_id"), ctx)
    assert absent == Fixed("Not Applicable", note="field absent")
    field = compile_check(_check("person", "cdmField_person_month_of_birth"), _ctx("person"))
    assert field == Fixed("Failed", 1, 1, "field absent")
    no_vocab = compile_check(
        _check("condition_occurrence", "fkDomain_condition_occurrence_condition_concept_id"),
        _ctx("condition_occurrence", None),
    )
    assert no_vocab == Fixed("Not Applicable", note="no concept table")


def test_concept_checks_read_the_concept_statement_and_keep_a_scan_fallback() -> None:
    ctx = _ctx("measurement")
    high = compile_check(_check("measurement", "plausibleValueHigh_measurement_value_as_number_3027018_8541"), ctx)
    assert isinstance(high, ConceptSlot) and (high.concept_id, high.unit_concept_id, high.slot) == (
        3027018,
        8541,
        "high",
    )
    assert high.fallback.statement == "scan" and "t.unit_concept_id = 8541" in high.fallback.numerator
    units = compile_check(
        _check("measurement", "plausibleUnitConceptIds_measurement_measurement_concept_id_3027018"), ctx
    )
    assert isinstance(units, ConceptSlot) and units.slot == "units" and units.unit_concept_id is None


def test_gender_checks_use_descendants_when_concept_ancestor_is_there() -> None:
    check = _check(
        "condition_occurrence", "plausibleGenderUseDescendants_condition_occurrence_condition_concept_id_4090861"
    )
    plain = compile_check(check, _ctx("condition_occurrence"))
    assert isinstance(plain, Term) and "t.condition_concept_id IN (" in plain.denominator
    with_ancestor = compile_check(check, _ctx("condition_occurrence", ancestor="vocab.concept_ancestor"))
    assert isinstance(with_ancestor, Term) and [j.alias for j in with_ancestor.joins] == ["p", "g_4090861"]
    assert "vocab.concept_ancestor" in with_ancestor.joins[1].sql


def test_a_custom_check_rides_on_the_scan() -> None:
    custom = QualityCheck(
        name="custom_person_born_before_1965",
        table="person",
        description="persons born before 1965",
        kahn_category="Plausibility",
        kahn_subcategory="Atemporal",
        severity="WARN",
        threshold_pct=10.0,
        violation="t.year_of_birth < 1965",
        denominator="t.year_of_birth IS NOT NULL",
    )
    plan = compile_checks([custom], _ctx("person"))
    assert [i for i, _, _ in plan.terms["scan"]] == [0]
    [outcome] = run_table_checks(dqd_cdm(), "person", [custom])
    assert (outcome.status, outcome.num_violated, outcome.num_denominator) == ("Failed", 1, 7)
