"""The check catalogue: instances of the DQD check types, the project's overrides, threshold overrides from a file."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mlhops_dagster.quality.catalogue import (
    PROJECT_OVERRIDES,
    _split_mixed_groups,
    apply_thresholds,
    default_catalogue,
    load_threshold_overrides,
    spec_groups,
)
from mlhops_dagster.quality.check_types import CHECK_TYPES
from mlhops_dagster.quality.runner import run_table_checks
from tests.support.quality_cdm import CATALOGUE, TODAY, empty_cdm


def test_catalogue_is_per_table_and_names_are_unique() -> None:
    catalogue = default_catalogue(TODAY)
    assert len({c.name for c in catalogue}) == len(catalogue) > 1000
    for table, checks in CATALOGUE.items():
        by_spec: dict[str, set[str]] = {}
        for c in checks:
            by_spec.setdefault(c.spec_name, set()).add(c.severity)
        assert all(len(s) == 1 for s in by_spec.values()), table  # one severity per Dagster check
        assert len(by_spec) <= 50, table


def test_instances_carry_their_check_type() -> None:
    """Kahn category, subcategory and context come from the check type; severity too unless the project says."""
    catalogue = default_catalogue(TODAY)
    assert {c.check_type for c in catalogue} == set(CHECK_TYPES)
    for c in catalogue:
        kind = CHECK_TYPES[c.check_type]
        assert (c.kahn_category, c.kahn_subcategory, c.context) == (
            kind.kahn_category,
            kind.kahn_subcategory,
            kind.context,
        ), c.name
    fatal = next(c for c in catalogue if c.name == "isRequired_person_person_id")
    assert fatal.severity == "ERROR" and fatal.description == "person.person_id is not null"
    optional_table = next(c for c in catalogue if c.name == "cdmTable_location")  # DQD: not a required table
    assert optional_table.severity == "WARN"


def test_project_overrides_set_severity_threshold_and_group() -> None:
    by_name = {c.name: c for c in default_catalogue(TODAY)}
    assert set(PROJECT_OVERRIDES) <= set(by_name)
    visit = by_name["plausibleStartBeforeEnd_visit_occurrence_visit_start_date"]
    assert (visit.severity, visit.threshold_pct, visit.spec_name) == ("ERROR", 0.0, "visit_end_not_before_start")
    birth = by_name["plausibleValueLow_person_year_of_birth"]  # DQD's threshold kept
    assert (birth.severity, birth.threshold_pct, birth.spec_name) == ("ERROR", 1.0, "person_year_of_birth_plausible")
    # DQD's other plausibleStartBeforeEnd checks keep their default (WARN, 1 %, the check type's group)
    other = by_name["plausibleStartBeforeEnd_condition_occurrence_condition_start_date"]
    assert (other.severity, other.threshold_pct, other.spec_name) == ("WARN", 1.0, "plausibleStartBeforeEnd")


def test_warn_instances_of_a_fatal_group_report_apart() -> None:
    """A Dagster check has one severity: WARN instances of a group that has ERROR ones move to ``<group>_warn``."""
    fatal = next(c for c in CATALOGUE["person"] if c.name == "plausibleValueLow_person_year_of_birth")
    warn = replace(fatal, name="plausibleValueLow_person_other", severity="WARN")
    elsewhere = replace(warn, table="death")  # another table's group of the same name is another Dagster check
    split = _split_mixed_groups([fatal, warn, elsewhere])
    assert [c.spec_name for c in split] == [
        "person_year_of_birth_plausible",
        "person_year_of_birth_plausible_warn",
        "person_year_of_birth_plausible",
    ]
    assert set(spec_groups(split[:2])) == {"person_year_of_birth_plausible", "person_year_of_birth_plausible_warn"}


def test_threshold_overrides_from_a_file_by_name_and_glob(tmp_path) -> None:
    con = empty_cdm()
    con.execute("INSERT INTO omop.person SELECT i, CASE WHEN i < 3 THEN 1700 ELSE 1960 END, 8507 FROM range(100) t(i)")
    checks = CATALOGUE["person"]
    low = next(
        o for o in run_table_checks(con, "person", checks) if o.check.name == "plausibleValueLow_person_year_of_birth"
    )
    assert low.status == "Failed"  # 3 % > 1 %
    path = tmp_path / "thresholds.yaml"
    path.write_text("plausibleValueLow_person_year_of_birth: 5\n")
    relaxed = apply_thresholds(checks, load_threshold_overrides(path))
    low = next(
        o for o in run_table_checks(con, "person", relaxed) if o.check.name == "plausibleValueLow_person_year_of_birth"
    )
    assert (low.status, low.check.threshold_pct) == ("Passed", 5.0)
    as_json = tmp_path / "t.json"
    as_json.write_text(json.dumps({"plausibleValue*_person_*": 0.5}))
    tightened = apply_thresholds(checks, load_threshold_overrides(as_json))
    assert {c.threshold_pct for c in tightened if c.check_type.startswith("plausibleValue")} == {0.5}


def test_thresholds_come_only_from_the_path_given(tmp_path, monkeypatch) -> None:
    """settings.py reads MLHOPS_DQ_THRESHOLDS and the resource passes the path: the loader reads no variable."""
    path = tmp_path / "thresholds.yaml"
    path.write_text("plausibleValueLow_person_year_of_birth: 5\n")
    monkeypatch.setenv("MLHOPS_DQ_THRESHOLDS", str(path))
    assert load_threshold_overrides(None) == {} and load_threshold_overrides("") == {}
    path.write_text("- not a mapping\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_threshold_overrides(path)
