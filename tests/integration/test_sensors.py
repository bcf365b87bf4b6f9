"""Sensors and schedule, evaluated with build_sensor_context on a real (ephemeral) instance."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from assets.monitoring import drift_report
from assets.raw import raw_ehr_extract
from mlhops_dagster.monitoring.tracking import DRIFT_KEY_TAG, RetrainingPolicy
from resources import ExtractLandingResource
from sensors.extracts import new_extract_sensor
from sensors.retraining import build_drift_sensor, retraining_schedule


@pytest.fixture()
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _landing(tmp_path: Path) -> ExtractLandingResource:
    return ExtractLandingResource(landing_dir=str(tmp_path / "landing"), local_key_file=str(tmp_path / "key"))


def test_new_folder_gives_one_run_request_and_a_partition(tmp_path: Path, instance) -> None:
    landing = tmp_path / "landing"
    (landing / "extract_a").mkdir(parents=True)
    (landing / "extract_a" / "_SUCCESS").touch()
    (landing / "still_copying").mkdir()
    (landing / "still_copying" / "patients.csv").write_text("Id\n")
    context = dg.build_sensor_context(instance=instance, resources={"landing": _landing(tmp_path)})
    result = new_extract_sensor(context)
    assert [r.partition_key for r in result.run_requests] == ["extract_a"]
    assert result.dynamic_partitions_requests[0].partition_keys == ["extract_a"]
    instance.add_dynamic_partitions("extracts", ["extract_a"])
    again = new_extract_sensor(
        dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"landing": _landing(tmp_path)})
    )
    assert not again.run_requests and not again.dynamic_partitions_requests
    assert json.loads(result.cursor).keys() == {"extract_a"}


def test_an_extract_ingested_before_the_sensor_ran_is_not_ingested_again(tmp_path: Path, instance) -> None:
    folder = tmp_path / "landing" / "loaded_by_demo"
    folder.mkdir(parents=True)
    (folder / "_SUCCESS").touch()
    instance.add_dynamic_partitions("extracts", ["loaded_by_demo"])
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=raw_ehr_extract.key, partition="loaded_by_demo")
    )
    result = new_extract_sensor(dg.build_sensor_context(instance=instance, resources={"landing": _landing(tmp_path)}))
    assert not result.run_requests
    assert "loaded_by_demo" in json.loads(result.cursor)


def _report_drift(instance, partition: str, share: float, fingerprint: str, champion: str = "1") -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=drift_report.key,
            partition=partition,
            metadata={"share_drifted": share, "drift_fingerprint": fingerprint, "champion_version": champion},
        )
    )


def test_one_retraining_per_extract_and_champion_version(instance) -> None:
    """Re-scoring an extract for the same champion (a slightly different share, a new fingerprint) is the same
    decision; a new champion version makes a new one."""
    instance.add_dynamic_partitions("extracts", ["e1", "e2"])
    sensor = build_drift_sensor(RetrainingPolicy(threshold=0.3))
    key = RetrainingPolicy.decision_key
    _report_drift(instance, "e1", 0.1, "small")
    _report_drift(instance, "e2", 0.6, "big")
    _report_drift(instance, "e2", 0.6, "big")  # the same drift materialised again
    first = sensor(dg.build_sensor_context(instance=instance))
    assert [r.run_key for r in first.run_requests] == [key("e2", "1")]
    assert first.run_requests[0].tags["mlhops/extract_id"] == "e2"
    assert first.run_requests[0].tags[DRIFT_KEY_TAG] == key("e2", "1")
    _report_drift(instance, "e2", 0.59, "re-scored")  # e2 re-scored for champion v1: the share moved a little
    second = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert not second.run_requests
    _report_drift(instance, "e2", 0.7, "against v2", champion="2")
    third = sensor(dg.build_sensor_context(instance=instance, cursor=second.cursor))
    assert [r.run_key for r in third.run_requests] == [key("e2", "2")]


@dg.asset
def _retrained() -> None:
    """Stands for a retraining run: only its tags matter to the sensor."""


def test_a_drift_some_run_acted_on_never_retrains_whatever_the_cursor(instance) -> None:
    """The demo (or an operator) already retrained on e2's drift: a sensor starting with an empty cursor, as when
    the UI is first opened, requests nothing for it, and still requests the drift nobody acted on."""
    instance.add_dynamic_partitions("extracts", ["e2", "e3"])
    _report_drift(instance, "e2", 0.8, "demo")
    _report_drift(instance, "e3", 0.5, "new")
    acted = dg.materialize(
        [_retrained], instance=instance, tags={DRIFT_KEY_TAG: RetrainingPolicy.decision_key("e2", "1")}
    )
    assert acted.success
    result = build_drift_sensor(RetrainingPolicy(threshold=0.3))(dg.build_sensor_context(instance=instance))
    assert [r.run_key for r in result.run_requests] == [RetrainingPolicy.decision_key("e3", "1")]


def test_retraining_schedule_targets_the_retraining_job() -> None:
    assert retraining_schedule.cron_schedule == "0 3 * * 1"
    assert retraining_schedule.job_name == "retraining_job"
    assert build_drift_sensor(RetrainingPolicy()).job_name == "retraining_job"
