"""`drift_sensor` and `retraining_schedule`: both request the same retraining job."""

import json

import dagster as dg

from assets.monitoring import drift_report
from jobs import retraining_job
from mlhops_dagster.monitoring.tracking import DRIFT_KEY_TAG, RetrainingPolicy

MAX_REMEMBERED = 500


def _as_float(entry: dg.MetadataValue) -> float:
    """A metadata entry's value as a float (what ``float()`` takes: a number or a numeric string)."""
    value = entry.value
    if not isinstance(value, (int, float, str)):
        raise TypeError(f"float() argument must be a string or a real number, not {type(value).__name__!r}")
    return float(value)


def _acted_on(instance: dg.DagsterInstance, key: str) -> bool:
    """Whether a run (launched by this sensor, by hand or by the demo) already carries this drift decision."""
    return bool(instance.get_run_records(dg.RunsFilter(tags={DRIFT_KEY_TAG: key}), limit=1))


def build_drift_sensor(policy: RetrainingPolicy) -> dg.SensorDefinition:
    @dg.sensor(
        job=retraining_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Requests a retraining run when a drift report's share of drifted features is "
        f"≥ {policy.threshold}, once per extract and champion version: a drift some run already acted on "
        f"(tag {DRIFT_KEY_TAG}, the demo's included) never retrains again, whatever the cursor.",
    )
    def drift_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {"events": None, "requested": []}
        result = context.instance.fetch_materializations(
            drift_report.key, limit=200, cursor=state["events"], ascending=True
        )
        requested: list[str] = state["requested"]
        requests = []
        for record in result.records:
            materialization = record.asset_materialization
            if materialization is None:
                continue
            metadata = materialization.metadata
            if "share_drifted" not in metadata or "champion_version" not in metadata:
                continue
            share = _as_float(metadata["share_drifted"])
            key = policy.decision_key(materialization.partition or "", str(metadata["champion_version"].value))
            if not policy.should_retrain(share) or key in requested or _acted_on(context.instance, key):
                continue
            requested.append(key)
            requests.append(
                dg.RunRequest(
                    run_key=key,
                    tags={
                        DRIFT_KEY_TAG: key,
                        "mlhops/trigger": "drift",
                        "mlhops/extract_id": materialization.partition or "",
                        "mlhops/share_drifted": f"{share:.3f}",
                    },
                )
            )
        cursor = json.dumps({"events": result.cursor, "requested": requested[-MAX_REMEMBERED:]})
        if not requests:
            return dg.SensorResult(skip_reason="no new drift above the threshold", cursor=cursor)
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return drift_sensor


retraining_schedule = dg.ScheduleDefinition(
    name="retraining_schedule",
    job=retraining_job,
    cron_schedule="0 3 * * 1",
    execution_timezone="UTC",
    tags={"mlhops/trigger": "schedule"},
    description="Weekly retraining (Mondays 03:00 UTC), independent of drift. Start it in the UI to enable it.",
)
