"""What the whole graph left behind, read back: the session's one materialisation (``whole_graph`` in conftest).

Real parts throughout: a DuckDB file, a dbt build, an MLflow sqlite store, Dagster runs. Every test
here only reads, except the last one, which adds a version (the demo's degraded challenger).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from mlflow.tracking import MlflowClient

from mlhops_dagster.demo import drift_decision_tags, run_degraded_challenger
from mlhops_dagster.monitoring.tracking import RetrainingPolicy
from mlhops_dagster.settings import Settings
from mlhops_dagster.synthetic import UNMAPPED_CONDITION
from sensors.retraining import build_drift_sensor
from tests.support.privacy import mlflow_hits, warehouse_hits
from tests.support.whole_graph import FIRST, SEARCH_TRIALS, SECOND, WholeGraph

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("whole_graph")]


def _count(settings: Settings, sql: str) -> int:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return int(con.execute(sql).fetchall()[0][0])
    finally:
        con.close()


def test_omop_counts_match_the_source(whole_graph: WholeGraph) -> None:
    settings, *_ = whole_graph
    landing = settings.landing_dir
    source_patients = sum(len((landing / e / "patients.csv").read_text().splitlines()) - 1 for e in (FIRST, SECOND))
    source_encounters = sum(len((landing / e / "encounters.csv").read_text().splitlines()) - 1 for e in (FIRST, SECOND))
    assert _count(settings, "SELECT count(*) FROM raw.quarantine") == 0
    assert _count(settings, "SELECT count(*) FROM omop.person") == source_patients
    # One visit_detail per encounter; visits collapse (inpatient stays, same-day ER visits).
    assert _count(settings, "SELECT count(*) FROM omop.visit_detail") == source_encounters
    assert _count(settings, "SELECT count(*) FROM omop.visit_occurrence") <= source_encounters
    conditions = _count(settings, "SELECT count(*) FROM raw.conditions")
    routed = _count(settings, "SELECT count(*) FROM omop.condition_occurrence") + _count(
        settings, "SELECT count(*) FROM omop.observation WHERE observation_source_value IN ('162864005', '160903007')"
    )
    assert routed == conditions
    assert _count(settings, "SELECT count(*) FROM omop.observation WHERE observation_concept_id = 4060985") > 0


def test_foreign_exporter_shape_loads_and_unmapped_codes_are_kept(whole_graph: WholeGraph) -> None:
    settings, _, instance, _ = whole_graph
    event = instance.get_latest_materialization_event(dg.AssetKey("raw_ehr_extract"))
    assert event.asset_materialization.partition == SECOND
    assert "claims.csv" in event.asset_materialization.metadata["ignored_files"].value
    unmapped = _count(
        settings,
        "SELECT count(*) FROM omop.condition_occurrence WHERE condition_concept_id = 0 "
        f"AND condition_source_value = '{UNMAPPED_CONDITION[0]}'",
    )
    assert unmapped > 0
    assert unmapped == _count(settings, f"SELECT count(*) FROM raw.conditions WHERE code = '{UNMAPPED_CONDITION[0]}'")
    assert _count(settings, f"SELECT count(*) FROM raw.payer_transitions WHERE extract_id = '{SECOND}'") > 0


def test_quality_checks_ran_and_none_fatal_failed(whole_graph: WholeGraph) -> None:
    settings, _, instance, results = whole_graph
    evaluations = [
        e for e in results[("pipeline_job", None)].all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    names = {e.event_specific_data.check_name for e in evaluations}
    assert {"person_year_of_birth_plausible", "visit_end_not_before_start", "plausible_value_heart_rate"} <= names
    reconciled = next(
        e.event_specific_data for e in evaluations if e.event_specific_data.check_name == "no_source_rows_lost"
    )
    assert reconciled.passed and reconciled.metadata["lost_rows"].value == 0
    assert (
        _count(settings, "SELECT count(*) FROM quality.check_results WHERE severity = 'ERROR' AND status = 'Failed'")
        == 0
    )


def test_a_model_is_registered_with_aliases_and_sane_metrics(whole_graph: WholeGraph) -> None:
    settings, _, instance, _ = whole_graph
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    model = client.get_registered_model(settings.model_name)
    assert str(model.aliases.get("champion")) == str(model.aliases.get("challenger")) == "1"
    # registration set only `challenger`; `champion` came from the gate (performance not applicable: no champion)
    registration = instance.get_latest_materialization_event(dg.AssetKey("model_registration"))
    assert registration.asset_materialization.metadata["aliases"].value == "challenger"
    assert "no champion yet" in client.get_model_version(settings.model_name, "1").tags["decision"]
    run = client.get_run(client.get_model_version(settings.model_name, "1").run_id)
    for metric in ("test_auroc", "test_auprc", "test_brier"):
        assert 0.0 <= run.data.metrics[metric] <= 1.0
    assert run.data.tags["data_fingerprint"] and run.data.tags["dagster_run_id"]
    # the run links back to the Dagster run and asset that made it (the address is MLHOPS_DAGSTER_UI_URL)
    family = run.data.tags["model_family"]
    assert run.data.tags["dagster_run_url"] == f"{settings.dagster_ui_url}/runs/{run.data.tags['dagster_run_id']}"
    assert run.data.tags["dagster_asset_url"] == f"{settings.dagster_ui_url}/assets/{family}_model"
    assert run.data.tags["dagster_run_url"] in run.data.tags["mlflow.note.content"]
    dp_event = instance.get_latest_materialization_event(dg.AssetKey("dp_mlp_model"))
    epsilon = dp_event.asset_materialization.metadata["dp_epsilon_spent"].value
    assert 0 < epsilon <= 3.0 * 1.05
    # the full clinical evaluation reached MLflow, and the gate decided on the first version (nothing to beat)
    for metric in ("test_calibration_slope", "test_e_avg", "test_ece", "test_fixed_sensitivity", "test_scaled_brier"):
        assert metric in run.data.metrics, metric
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/subgroups.csv", "evaluation/net_benefit.csv"} <= artifacts
    gate = instance.get_latest_materialization_event(dg.AssetKey("model_promotion")).asset_materialization.metadata
    assert gate["decision"].value == "promote" and gate["champion_version"].value == 1
    rules = {r.data["rule"]: r.data for r in gate["gate"].records}
    assert rules["performance"]["passed"] is True and rules["performance"]["detail"].startswith("not applicable")
    version_tags = client.get_model_version(settings.model_name, "1").tags
    assert version_tags["gate_decision"] == gate["decision"].value
    assert version_tags["gate_reasons"] == gate["reasons"].value


def test_registered_version_has_a_model_card(whole_graph: WholeGraph) -> None:
    settings, _, instance, _ = whole_graph
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    version = client.get_model_version(settings.model_name, "1")
    artifacts = {a.path for a in client.list_artifacts(version.run_id, "model_card")}
    assert {"model_card/model_card.md", "model_card/model_card.html"} <= artifacts
    card = client.download_artifacts(version.run_id, "model_card/model_card.md")
    text = Path(card).read_text(encoding="utf-8")
    for expected in (
        "## Intended use",
        "## Ethical considerations",
        "## Lineage",
        FIRST,
        "readmission_30d",
        version.run_id,
        client.get_run(version.run_id).data.tags["data_fingerprint"],
    ):
        assert expected in text, expected
    assert "Model card: " in version.description and "model_card.html" in version.description
    metadata = instance.get_latest_materialization_event(
        dg.AssetKey("model_registration")
    ).asset_materialization.metadata
    assert metadata["model_card"].value == text and metadata["model_card_html"].value.endswith("model_card.html")


def test_search_trials_are_child_runs_validated_inside_the_training_split(whole_graph: WholeGraph) -> None:
    settings, _, instance, _ = whole_graph
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    for family in ("lightgbm", "logistic_regression"):
        event = instance.get_latest_materialization_event(dg.AssetKey(f"{family}_model"))
        parent = client.get_run(event.asset_materialization.metadata["mlflow_run_id"].value)
        children = client.search_runs(
            [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
        )
        assert len(children) == parent.data.metrics["search_trials"] == SEARCH_TRIALS
        assert {c.data.tags["dagster_run_url"] for c in children} == {parent.data.tags["dagster_run_url"]}
        link = event.asset_materialization.metadata["mlflow_run"].value  # and Dagster links to MLflow
        assert link == f"{settings.mlflow_ui_url}/#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}"
        best = max(children, key=lambda c: c.data.metrics["val_auroc"])
        assert parent.data.metrics["search_best_val_auroc"] == best.data.metrics["val_auroc"]
        assert all(parent.data.params[f"best_{k}"] == v for k, v in best.data.params.items())
        # validation rows come from the end of the training split, never from the test split
        assert parent.data.params["search_validation_end"] <= parent.data.tags["train_index_date_max"][:10]


def test_new_extract_is_scored_and_drift_reported(whole_graph: WholeGraph) -> None:
    settings, _, instance, _ = whole_graph
    assert _count(settings, f"SELECT count(*) FROM monitoring.batch_scores WHERE extract_id = '{SECOND}'") > 0
    assert _count(settings, "SELECT count(*) FROM monitoring.batch_scores WHERE score < 0 OR score > 1") == 0
    event = instance.get_latest_materialization_event(dg.AssetKey("drift_report"))
    metadata = event.asset_materialization.metadata
    assert event.asset_materialization.partition == SECOND
    assert 0.0 <= metadata["share_drifted"].value <= 1.0
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    artifacts = [a.path for a in client.list_artifacts(metadata["mlflow_run_id"].value)]
    assert "drift_report.html" in artifacts
    drift_run = client.get_run(metadata["mlflow_run_id"].value)
    assert drift_run.data.tags["dagster_run_url"] == f"{settings.dagster_ui_url}/runs/{event.run_id}"
    assert drift_run.data.tags["dagster_asset_url"] == f"{settings.dagster_ui_url}/assets/drift_report"


def test_no_raw_identifier_reaches_warehouse_or_mlflow(whole_graph: WholeGraph) -> None:
    settings, *_ = whole_graph
    header, first_patient = (settings.landing_dir / FIRST / "patients.csv").read_text().splitlines()[:2]
    values = dict(zip(header.split(","), first_patient.split(","), strict=False))
    needles = [values["Id"], values["SSN"], f"{values['FIRST']} {values['LAST']}", values["ADDRESS"]]
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        for needle in needles:
            assert not warehouse_hits(con, needle), needle
            assert not mlflow_hits(settings.mlflow_dir, needle), needle
    finally:
        con.close()


def test_mapping_rate_is_metadata_of_the_mapping_rate_asset(whole_graph: WholeGraph) -> None:
    settings, _, instance, _ = whole_graph
    event = instance.get_latest_materialization_event(dg.AssetKey(["omop_int", "int__mapping_rate"]))
    metadata = event.asset_materialization.metadata
    mapped, total = (
        _count(settings, f"SELECT sum({c}) FROM omop_int.int__mapping_rate") for c in ("mapped_rows", "source_rows")
    )
    assert metadata["overall_mapping_rate"].value == pytest.approx(mapped / total, abs=1e-4)
    assert 0.5 < metadata["overall_mapping_rate"].value < 1.0  # the unmapped-codes defect is in the second extract
    assert "conditions" in {r.data["source_table"] for r in metadata["mapping_rates"].records}


def test_data_elements_report_unit_harmonisation_per_run(whole_graph: WholeGraph) -> None:
    """The clean first extract keeps its lab values; the second's swapped units are converted or set to NULL."""
    settings, _, instance, results = whole_graph

    def element_check(job: str) -> dg.AssetCheckEvaluation:
        return next(
            e.event_specific_data
            for e in results[(job, None)].all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and e.event_specific_data.check_name == "element_values_usable"
        )

    assert element_check("pipeline_job").passed
    after_swaps = element_check("refresh_job")
    assert not after_swaps.passed and "hemoglobin" in after_swaps.metadata["below"].value  # mg/dL: no conversion
    metadata = instance.get_latest_materialization_event(dg.AssetKey("data_elements")).asset_materialization.metadata
    assert metadata["values_set_to_null"].value > 0 and metadata["values_converted"].value > 0
    assert "hemoglobin" in {r.data["element_id"] for r in metadata["labs_and_vitals"].records}
    runs = {r.run_id: job for (job, _), r in results.items() if job in ("pipeline_job", "refresh_job")}
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT run_id, rows_unit_unknown, rows_converted FROM quality.data_elements "
            "WHERE element_id = 'hemoglobin' OR element_id = 'glucose' ORDER BY element_id"
        ).fetchall()
    finally:
        con.close()
    by_job = {}
    for run_id, unknown, converted in rows:
        by_job.setdefault(runs[run_id], []).append((unknown, converted))
    assert by_job["pipeline_job"] == [(0, 0), (0, 0)]  # glucose, hemoglobin: clean extract
    (glucose_unknown, glucose_converted), (hb_unknown, _) = by_job["refresh_job"]
    assert glucose_converted > 0 and hb_unknown > 0 and glucose_unknown == 0


def test_domain_progress_reaches_the_run_logs(whole_graph: WholeGraph) -> None:
    """Domain modules log with `logging`; as managed python loggers their progress is in each run's event log."""
    _, _, instance, results = whole_graph
    messages = [record.user_message for record in instance.all_logs(results[("ingest_job", FIRST)].run_id)]
    assert any(f"{FIRST}: patients.csv staged and checked" in m for m in messages)
    assert any(m.startswith(f"{FIRST}: ") and " rows read, " in m for m in messages)


def test_degraded_challenger_is_rejected_and_the_champion_stays(whole_graph: WholeGraph) -> None:
    """Runs last (it adds a version): the demo's second round, a deliberately worse LightGBM, fails the gate."""
    settings, defs, instance, _ = whole_graph
    drift_sensor = build_drift_sensor(RetrainingPolicy(threshold=0.0))  # every drift report asks for retraining
    before = drift_sensor(dg.build_sensor_context(instance=instance))
    assert [r.run_key for r in before.run_requests] == [RetrainingPolicy.decision_key(SECOND, "1")]
    result = run_degraded_challenger(defs, instance, tags=drift_decision_tags(instance, SECOND))
    assert result.success  # a rejection is a failed check, not a failed run
    # the round acted on SECOND's drift: a sensor starting afresh (the UI opened after the demo) requests nothing
    after = drift_sensor(dg.build_sensor_context(instance=instance))
    assert not after.run_requests
    check = next(
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == "promotion_gate"
    )
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    gate = instance.get_latest_materialization_event(dg.AssetKey("model_promotion")).asset_materialization.metadata
    assert gate["decision"].value == "reject" and gate["challenger_version"].value == 2
    assert gate["champion_version"].value == 1 and not gate["champion_moved"].value
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    model = client.get_registered_model(settings.model_name)
    assert (
        str(model.aliases["champion"]) == "1" and "challenger" not in model.aliases
    )  # rejected: no longer in the running
    version = client.get_model_version(settings.model_name, "2")
    assert version.tags["gate_decision"] == "reject" and version.tags["model_family"] == "lightgbm"
    assert client.get_run(version.run_id).data.tags["training_preset"] == "degraded"
