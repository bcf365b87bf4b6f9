"""The whole graph, materialised in-process on small generated extracts, on a real instance.

Real parts throughout: a DuckDB file, a dbt build, an MLflow sqlite store, Dagster runs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from mlflow.tracking import MlflowClient

from mlhops_dagster.definitions import build_definitions
from mlhops_dagster.demo import run_degraded_challenger
from mlhops_dagster.ehr.generator import DRIFT_PRESETS, UNMAPPED_CONDITION, DefectSpec, generate_extract
from mlhops_dagster.settings import Settings
from tests.support.privacy import mlflow_hits, warehouse_hits
from tests.support.synthea_versions import to_exporter_version

pytestmark = pytest.mark.integration
FIRST, SECOND = "ex_2016_2021", "ex_2022_2023"
# ~80 test rows: a calibration slope estimated on so few is too noisy for the gate's clinical bounds (0.8-1.25),
# so the first version would be rejected and monitoring would have no champion to score with (the demo's 2,000
# patients pass the default gate). The gate's own rules are tested in test_promotion.py.
RUN_CONFIG = {
    "pipeline_job": {
        "ops": {"model_promotion": {"config": {"calibration_slope_low": 0.05, "calibration_slope_high": 5.0}}}
    }
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("data")
    settings = Settings(data_dir=data_dir, pseudonym_key="integration-test-key-0123456789")
    generate_extract(
        settings.landing_dir / FIRST,
        patients=450,
        seed=11,
        sites=2,
        start=dt.date(2016, 1, 1),
        end=dt.date(2021, 12, 31),
    )
    generate_extract(
        settings.landing_dir / SECOND,
        patients=300,
        seed=12,
        sites=2,
        start=dt.date(2022, 1, 1),
        end=dt.date(2023, 12, 31),
        drift=DRIFT_PRESETS["aging"],
        defects=[DefectSpec("unmapped_codes", 0.05), DefectSpec("unit_swaps", 0.3)],
    )
    # Shaped like a real export this project did not write: Synthea 3.0.0 columns, files we do not load.
    to_exporter_version(settings.landing_dir / SECOND, "3.0.0")
    (settings.landing_dir / SECOND / "claims.csv").write_text("Id,PATIENTID\nc1,p1\n")
    defs = build_definitions(settings)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("extracts", [FIRST, SECOND])
        results = {}
        for job, partition in (
            ("ingest_job", FIRST),
            ("pipeline_job", None),
            ("ingest_job", SECOND),
            ("refresh_job", None),
            ("monitoring_job", SECOND),
        ):
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance, partition_key=partition, raise_on_error=False, run_config=RUN_CONFIG.get(job)
            )
            assert result.success, f"{job}[{partition}] failed"
            results[(job, partition)] = result
        yield settings, defs, instance, results


def _count(settings: Settings, sql: str) -> int:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return int(con.execute(sql).fetchall()[0][0])
    finally:
        con.close()


def test_omop_counts_match_the_source(pipeline) -> None:
    settings, *_ = pipeline
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


def test_foreign_exporter_shape_loads_and_unmapped_codes_are_kept(pipeline) -> None:
    settings, _, instance, _ = pipeline
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


def test_quality_checks_ran_and_none_fatal_failed(pipeline) -> None:
    settings, _, instance, results = pipeline
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


def test_a_model_is_registered_with_aliases_and_sane_metrics(pipeline) -> None:
    settings, _, instance, _ = pipeline
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
    assert "| performance | yes | not applicable" in gate["gate"].value
    version_tags = client.get_model_version(settings.model_name, "1").tags
    assert version_tags["gate_decision"] == gate["decision"].value
    assert version_tags["gate_reasons"] == gate["reasons"].value


def test_registered_version_has_a_model_card(pipeline) -> None:
    settings, _, instance, _ = pipeline
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


def test_search_trials_are_child_runs_validated_inside_the_training_split(pipeline) -> None:
    settings, _, instance, _ = pipeline
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    for family in ("lightgbm", "logistic_regression"):
        event = instance.get_latest_materialization_event(dg.AssetKey(f"{family}_model"))
        parent = client.get_run(event.asset_materialization.metadata["mlflow_run_id"].value)
        children = client.search_runs(
            [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
        )
        assert len(children) == parent.data.metrics["search_trials"] == 6
        best = max(children, key=lambda c: c.data.metrics["val_auroc"])
        assert parent.data.metrics["search_best_val_auroc"] == best.data.metrics["val_auroc"]
        assert all(parent.data.params[f"best_{k}"] == v for k, v in best.data.params.items())
        # validation rows come from the end of the training split, never from the test split
        assert parent.data.params["search_validation_end"] <= parent.data.tags["train_index_date_max"][:10]


def test_new_extract_is_scored_and_drift_reported(pipeline) -> None:
    settings, _, instance, _ = pipeline
    assert _count(settings, f"SELECT count(*) FROM monitoring.batch_scores WHERE extract_id = '{SECOND}'") > 0
    assert _count(settings, "SELECT count(*) FROM monitoring.batch_scores WHERE score < 0 OR score > 1") == 0
    event = instance.get_latest_materialization_event(dg.AssetKey("drift_report"))
    metadata = event.asset_materialization.metadata
    assert event.asset_materialization.partition == SECOND
    assert 0.0 <= metadata["share_drifted"].value <= 1.0
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    artifacts = [a.path for a in client.list_artifacts(metadata["mlflow_run_id"].value)]
    assert "drift_report.html" in artifacts


def test_no_raw_identifier_reaches_warehouse_or_mlflow(pipeline) -> None:
    settings, *_ = pipeline
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


def test_failing_fatal_check_blocks_features_and_training(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("blocked")
    settings = Settings(data_dir=data_dir, pseudonym_key="integration-test-key-0123456789")
    folder = settings.landing_dir / "implausible"
    generate_extract(folder, patients=120, seed=21, sites=1, start=dt.date(2018, 1, 1), end=dt.date(2021, 12, 31))
    patients = folder / "patients.csv"
    lines = patients.read_text().splitlines()
    header = lines[0].split(",")
    birth = header.index("BIRTHDATE")
    for i in range(1, 13):  # 12 of 120 born in 1800: 10 % > the 1 % threshold
        fields = lines[i].split(",")
        fields[birth] = "1800-01-01"
        lines[i] = ",".join(fields)
    patients.write_text("\n".join(lines) + "\n")
    defs = build_definitions(settings)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("extracts", ["implausible"])
        assert (
            defs.resolve_job_def("ingest_job")
            .execute_in_process(instance=instance, partition_key="implausible")
            .success
        )
        result = defs.resolve_job_def("pipeline_job").execute_in_process(instance=instance, raise_on_error=False)
        evaluations = {
            e.event_specific_data.check_name: e.event_specific_data
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        }
        failed = evaluations["person_year_of_birth_plausible"]
        assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
        materialized = {
            e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
        }
        assert "omop/person" in materialized
        assert not materialized & {"cohort_features", "lightgbm_model", "model_registration"}

        # Later runs: when a CDM table the features read is updated again, automation requests nothing that
        # reads it until its fatal checks pass (plain eager() would request dqa_report: a dep was updated) ...
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=dg.AssetKey(["omop", "person"])))
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        for key in ("dqa_report", "data_elements", "cohort_features"):
            assert tick.get_num_requested(dg.AssetKey(key)) == 0, key
        # ... and a retraining run launched by a schedule or the drift sensor stops at the features, saying why.
        retrain = defs.resolve_job_def("retraining_job").execute_in_process(instance=instance, raise_on_error=False)
        assert not retrain.success
        failure = next(e for e in retrain.all_events if e.event_type_value == "STEP_FAILURE")
        assert failure.step_key == "cohort_features"
        assert "person.plausibleValueLow_person_year_of_birth" in failure.event_specific_data.error.message
        assert not {
            e.asset_key.to_user_string() for e in retrain.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
        }


def test_mapping_rate_is_metadata_of_the_mapping_rate_asset(pipeline) -> None:
    settings, _, instance, _ = pipeline
    event = instance.get_latest_materialization_event(dg.AssetKey(["omop_int", "int__mapping_rate"]))
    metadata = event.asset_materialization.metadata
    mapped, total = (
        _count(settings, f"SELECT sum({c}) FROM omop_int.int__mapping_rate") for c in ("mapped_rows", "source_rows")
    )
    assert metadata["overall_mapping_rate"].value == pytest.approx(mapped / total, abs=1e-4)
    assert 0.5 < metadata["overall_mapping_rate"].value < 1.0  # the unmapped-codes defect is in the second extract
    assert "| conditions |" in metadata["mapping_rates"].value


def test_data_elements_report_unit_harmonisation_per_run(pipeline) -> None:
    """The clean first extract keeps its lab values; the second's swapped units are converted or set to NULL."""
    settings, _, instance, results = pipeline

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
    assert "| hemoglobin |" in metadata["report"].value
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


def test_degraded_challenger_is_rejected_and_the_champion_stays(pipeline) -> None:
    """Runs last (it adds a version): the demo's second round, a deliberately worse LightGBM, fails the gate."""
    settings, defs, instance, _ = pipeline
    result = run_degraded_challenger(defs, instance)
    assert result.success  # a rejection is a failed check, not a failed run
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
    assert (str(model.aliases["champion"]), str(model.aliases["challenger"])) == ("1", "2")
    version = client.get_model_version(settings.model_name, "2")
    assert version.tags["gate_decision"] == "reject" and version.tags["model_family"] == "lightgbm"
    assert client.get_run(version.run_id).data.tags["training_preset"] == "degraded"
