"""A fatal data-quality failure stops the loop: features and models are not built, now or by a later retraining."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from mlhops_dagster.definitions import build_definitions
from mlhops_dagster.settings import Settings
from mlhops_dagster.synthetic import generate_extract

pytestmark = pytest.mark.integration


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
