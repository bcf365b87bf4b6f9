"""The data-quality checks as Dagster definitions: which checks block, and what `dqa_report` waits for."""

from __future__ import annotations


def test_fatal_checks_of_every_built_table_gate_the_report_and_only_error_specs_block() -> None:
    """On a CDM we build, a fatal failure on any table (visit_detail, location, ...) blocks dqa_report and so the
    features; on a site's own CDM only the tables the features read are checked and gate it."""
    import dagster as dg

    from assets.keys import cdm_key
    from assets.quality import CHECKED_TABLES, dqa_report, own_cdm_dqa_report, quality_checks

    deps = {k for k in dqa_report.asset_deps[dqa_report.key]}
    assert {cdm_key("visit_detail"), cdm_key("location"), cdm_key("person")} <= deps
    assert {k for k in own_cdm_dqa_report.asset_deps[own_cdm_dqa_report.key]} == {cdm_key(t) for t in CHECKED_TABLES}
    specs = [spec for checks in quality_checks for spec in checks.check_specs]
    blocking = {spec.name for spec in specs if spec.blocking}
    assert "visit_detail_end_not_before_start" in blocking and "person_year_of_birth_plausible" in blocking
    assert not blocking & {"measureDuplicateRecords", "plausibleUnitConceptIds", "fkDomain"}  # WARN never blocks
    assert isinstance(dqa_report.automation_conditions_by_key[dqa_report.key], dg.AutomationCondition)
