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


def _warehouse_file(path, statements: str) -> str:
    import duckdb

    con = duckdb.connect(str(path))
    for statement in statements.split(";"):
        if statement.strip():
            con.execute(statement)
    con.close()
    return str(path)


def test_check_results_and_the_report_carry_metadata_tables_and_the_resources_thresholds(tmp_path) -> None:
    """A table's checks, the mapping-rate check and `dqa_report` on the tiny CDM: breakdowns, rates and summaries
    are typed tables; the thresholds file named by the resource changes the check's outcome."""
    import dagster as dg

    from assets.keys import MAPPING_RATE_KEY, cdm_key
    from assets.quality import build_dqa_report, build_mapping_rate_check, quality_checks
    from resources import DataQualityResource, WarehouseResource
    from tests.support.quality_cdm import TINY_CDM

    mapping = (
        "CREATE SCHEMA omop_int; CREATE TABLE omop_int.int__mapping_rate AS SELECT * FROM (VALUES "
        "('conditions', 'Condition', 10, 6), ('drugs', 'Drug', 10, 10)) t(source_table, target_domain, source_rows, "
        "mapped_rows)"
    )
    warehouse = WarehouseResource(path=_warehouse_file(tmp_path / "w.duckdb", TINY_CDM + ";" + mapping))
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text("isPrimaryKey_person_person_id: 20\n")  # 1 of 7 persons repeats an id: 14 %
    dqa = DataQualityResource(report_dir=str(tmp_path / "quality"), thresholds_file=str(thresholds))
    person = next(c for c in quality_checks if c.node_def.name == "dqa_person")
    rate_check = build_mapping_rate_check(0.9)
    job = dg.define_asset_job(
        "checks", selection=dg.AssetSelection.checks_for_assets(cdm_key("person"), MAPPING_RATE_KEY)
    )
    defs = dg.Definitions(
        assets=[dg.AssetSpec(cdm_key("person")), dg.AssetSpec(MAPPING_RATE_KEY)],
        asset_checks=[person, rate_check],
        jobs=[job],
        resources={"warehouse": warehouse, "dqa": dqa},
    )
    evaluations = {
        e.check_name: e
        for e in defs.resolve_job_def("checks").execute_in_process(raise_on_error=False).get_asset_check_evaluations()
    }
    primary_key = evaluations["isPrimaryKey"]
    assert primary_key.passed and primary_key.metadata["threshold_pct"].value == 20.0
    [row] = primary_key.metadata["breakdown"].records
    assert (row.data["check"], row.data["status"], row.data["num_violated"], row.data["num_denominator"]) == (
        "isPrimaryKey_person_person_id",
        "Passed",
        1,
        7,
    )
    breakdown = evaluations["cdmField"].metadata["breakdown"]
    assert len(breakdown.records) == evaluations["cdmField"].metadata["instances"].value
    assert breakdown.records[0].data["status"] == "Failed"  # worst first: month_of_birth is absent
    rates = evaluations["mapping_rate_above_threshold"].metadata["rates"]
    assert [(r.data["source_table"], r.data["rate"], r.data["below_threshold"]) for r in rates.records] == [
        ("conditions", 0.6, True),
        ("drugs", 1.0, False),
    ]
    report = dg.materialize([build_dqa_report(["person"])], resources={"warehouse": warehouse, "dqa": dqa})
    metadata = report.asset_materializations_for_node("dqa_report")[0].metadata
    categories = {r.data["kahn_category"]: r.data for r in metadata["kahn_categories"].records}
    assert categories["total"]["failed"] == metadata["checks_failed"].value > 0
    worst = [r.data for r in metadata["worst_failures"].records]
    assert worst and all(r["status"] in ("Failed", "Error") and r["table"] == "person" for r in worst)


def test_data_elements_metadata_tables(tmp_path) -> None:
    import dagster as dg
    import duckdb

    from assets.data_elements import data_elements
    from resources import DataQualityResource, WarehouseResource
    from tests.support.quality_cdm import element_cdm

    path = tmp_path / "w.duckdb"
    source = element_cdm()
    source.execute(f"ATTACH '{path}' AS w")
    source.execute("CREATE SCHEMA w.omop")
    for table in ("measurement", "person", "condition_occurrence", "drug_exposure", "observation"):
        source.execute(f"CREATE TABLE w.omop.{table} AS SELECT * FROM omop.{table}")
    source.execute("DETACH w")
    resources = {"warehouse": WarehouseResource(path=str(path)), "dqa": DataQualityResource()}
    result = dg.materialize([data_elements], resources=resources)
    metadata = result.asset_materializations_for_node("data_elements")[0].metadata
    labs = [r.data for r in metadata["labs_and_vitals"].records]
    assert labs[0]["element_id"] == "glucose" and labs[0]["rows_unit_unknown"] == 1  # most values set to NULL first
    groups = {r.data["element_id"]: r.data for r in metadata["concept_groups"].records}
    assert (groups["hypertension"]["rows"], groups["hypertension"]["persons"]) == (3, 2)
    table = metadata["elements_table"]
    assert [c.name for c in table.schema.columns][:3] == ["element_id", "unit", "rows"]
    assert {c.name: c.type for c in table.schema.columns}["rows"] == "int"
    assert duckdb.connect(str(path)).execute("SELECT count(*) FROM quality.data_elements").fetchall()[0][0] > 0
