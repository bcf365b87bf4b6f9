"""`new_extract_sensor`: a complete folder in the landing directory becomes a partition and an ingest run."""

import json
import re
from pathlib import Path

import dagster as dg

from assets.raw import extract_partitions, raw_ehr_extract
from jobs import ingest_job
from mlhops_dagster.ehr.contract import SUCCESS_MARKER
from mlhops_dagster.ehr.ingest import is_complete_extract
from resources import ExtractLandingResource

VALID_EXTRACT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _delivery_stamp(folder: Path) -> int:
    """When the extract was (re)delivered: the marker's mtime, else the newest CSV's."""
    marker = folder / SUCCESS_MARKER
    files = [marker] if marker.exists() else list(folder.glob("*.csv"))
    return max(int(p.stat().st_mtime) for p in files)


def _ingested_since(instance: dg.DagsterInstance, extract_id: str, stamp: int) -> bool:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=raw_ehr_extract.key, asset_partitions=[extract_id], after_timestamp=float(stamp)
        ),
        limit=1,
    ).records
    return bool(records)


def _extract_partitions_name() -> str:
    """The name the extract partitions are stored under (a named ``DynamicPartitionsDefinition``)."""
    name = extract_partitions.name
    if name is None:
        raise dg.DagsterInvariantViolationError("extract_partitions must be a named DynamicPartitionsDefinition")
    return name


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition and requests an ingest run for each complete extract folder "
    "(a `_SUCCESS` marker or all required files); a re-delivered folder is ingested again.",
)
def new_extract_sensor(context: dg.SensorEvaluationContext, landing: ExtractLandingResource) -> dg.SensorResult:
    seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
    landing_dir = Path(landing.landing_dir)
    if not landing_dir.is_dir():
        return dg.SensorResult(skip_reason=f"landing folder {landing_dir} does not exist yet")
    existing = set(context.instance.get_dynamic_partitions(_extract_partitions_name()))
    new_partitions, requests = [], []
    for folder in sorted(p for p in landing_dir.iterdir() if p.is_dir()):
        if not VALID_EXTRACT_ID.match(folder.name):
            context.log.warning(f"ignoring landing folder {folder.name!r}: use letters, digits, '_', '-' or '.'")
            continue
        if not is_complete_extract(folder):
            continue
        stamp = _delivery_stamp(folder)
        if seen.get(folder.name) == stamp:
            continue
        seen[folder.name] = stamp
        if folder.name in existing and _ingested_since(context.instance, folder.name, stamp):
            continue  # loaded already (e.g. by `make demo` before the sensor first ran)
        if folder.name not in existing:
            new_partitions.append(folder.name)
        requests.append(dg.RunRequest(partition_key=folder.name, run_key=f"extract-{folder.name}-{stamp}"))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[extract_partitions.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps(seen, sort_keys=True),
    )
