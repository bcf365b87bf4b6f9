"""`make demo`: two synthetic extracts through the whole governed loop, on the embedded default.

Extract 1 (2016–2021) is ingested and runs the main job (OMOP → checks → features →
training → evaluation → registration → promotion gate); extract 2 (2022–2023, an older and
sicker population) is ingested, the data layers are refreshed, and it is scored and checked
for drift. Last, a deliberately degraded LightGBM (preset ``degraded``) goes through
evaluation, registration and the gate, which rejects it: the champion stays.
Runs are recorded in the Dagster instance under the data dir, so the UI shows them.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any, TextIO

EXTRACTS = (
    ("synthea_2016_2021", 1, dt.date(2016, 1, 1), dt.date(2021, 12, 31), "none"),
    ("synthea_2022_2023", 2, dt.date(2022, 1, 1), dt.date(2023, 12, 31), "aging"),
)

# The demo prints its own progress; Dagster's event log stays complete in the instance and the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@contextmanager
def logs_to(path: Path) -> Iterator[TextIO]:
    """Send everything written to this process's stdout and stderr to ``path`` (dbt's output, Dagster's console,
    warnings and progress bars, subprocesses included) and yield the terminal, for the demo's own lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    try:
        with open(path, "a", encoding="utf-8") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield terminal
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        os.close(saved[0])
        os.close(saved[1])
        terminal.close()


def stage_of_steps(defs: Any) -> dict[str, str]:
    """Step key -> stage (the asset group; checks are the quality stage), to report a run stage by stage."""
    import dagster as dg

    stages = {}
    for assets_def in defs.assets or []:
        if isinstance(assets_def, dg.AssetsDefinition) and assets_def.is_executable:
            stages[assets_def.node_def.name] = "/".join(sorted(set(assets_def.group_names_by_key.values())))
    for checks_def in defs.asset_checks or []:
        stages[checks_def.node_def.name] = "quality"
    return stages


def stage_durations(instance: Any, run_id: str, stages: dict[str, str]) -> dict[str, float]:
    """Seconds each stage's steps took in a run, stages in the order they started (in-process: one step at a time)."""
    stats = sorted(instance.get_run_step_stats(run_id), key=lambda s: s.start_time or 0.0)
    durations: dict[str, float] = {}
    for step in stats:
        stage = stages.get(step.step_key, step.step_key)
        durations[stage] = durations.get(stage, 0.0) + ((step.end_time or 0.0) - (step.start_time or 0.0))
    return durations


def _run(
    defs, job_name: str, instance, terminal: TextIO, stages: dict[str, str], partition_key: str | None = None
) -> None:
    label = f"{job_name}" + (f"[{partition_key}]" if partition_key else "")
    print(f"  {label} ...", file=terminal)
    started = time.perf_counter()
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance,
        partition_key=partition_key,
        raise_on_error=False,
        run_config=QUIET,
    )
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        raise SystemExit(f"{label} failed: {failures[:3]}")
    _report(terminal, label, time.perf_counter() - started, result.run_id, instance, stages)


def _report(terminal: TextIO, label: str, seconds: float, run_id: str, instance: Any, stages: dict[str, str]) -> None:
    print(f"  {label}: ok in {seconds:.1f}s (run {run_id[:8]})", file=terminal)
    durations = stage_durations(instance, run_id, stages)
    if len(durations) > 1:
        for stage, took in durations.items():
            print(f"      {stage:<11} {took:6.1f}s", file=terminal)


DEGRADED_ROUND = ("lightgbm_model", "lightgbm_evaluation", "model_registration", "model_promotion")


def run_degraded_challenger(defs, instance, run_config: dict | None = None, tags: dict[str, str] | None = None):
    """Train one deliberately worse LightGBM (preset ``degraded``) and send it through evaluation, registration and
    the promotion gate, in one retraining-job run; returns the run's result (not raised on failure)."""
    import dagster as dg

    config = {**(run_config or {}), "ops": {"lightgbm_model": {"config": {"preset": "degraded"}}}}
    return defs.resolve_job_def("retraining_job").execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(k) for k in DEGRADED_ROUND],
        run_config=config,
        raise_on_error=False,
        tags=tags,
    )


def drift_decision_tags(instance: Any, partition: str) -> dict[str, str]:
    """Tags saying that a run acts on the latest drift report of ``partition``: the drift sensor then never
    retrains on it again, as after a retraining it had requested itself (the demo's retraining round)."""
    import dagster as dg

    from mlhops_dagster.monitoring.tracking import DRIFT_KEY_TAG, RetrainingPolicy

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("drift_report"), asset_partitions=[partition]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    version = materialization.metadata["champion_version"].value if materialization else None
    if version is None:
        return {"mlhops/trigger": "demo"}
    return {DRIFT_KEY_TAG: RetrainingPolicy.decision_key(partition, str(version)), "mlhops/trigger": "demo"}


def run_demo(patients: int = 2000) -> int:
    from mlhops_dagster.settings import load_settings

    settings = load_settings()
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "logs" / f"demo-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.log"
    with logs_to(log_path) as terminal:
        _demo(settings, patients, terminal, log_path)
    return 0


def _demo(settings: Any, patients: int, terminal: TextIO, log_path: Path) -> None:
    """The demo's steps; its own lines go to ``terminal``, everything else to the log file."""
    import dagster as dg

    from mlhops_dagster.definitions import build_definitions
    from mlhops_dagster.demo_summary import print_summary
    from mlhops_dagster.ehr.ingest import is_complete_extract
    from mlhops_dagster.synthetic import DRIFT_PRESETS, generate_extract

    started = time.perf_counter()
    if not settings.pseudonym_key:
        print(
            f"MLHOPS_PSEUDONYM_KEY is not set: pseudonymising with a generated local key "
            f"({settings.local_key_file}); production sets it from a secret store.",
            file=terminal,
        )
    print(f"Data dir: {settings.data_dir}\nFull log: {log_path}", file=terminal)
    for name, seed, start, end, drift in EXTRACTS:
        folder = settings.landing_dir / name
        if not is_complete_extract(folder):
            rows = generate_extract(
                folder, patients=patients, seed=seed, sites=3, start=start, end=end, drift=DRIFT_PRESETS[drift]
            )
            print(
                f"  generated {name}: {rows.get('patients')} patients, {rows.get('encounters')} encounters",
                file=terminal,
            )
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    instance.add_dynamic_partitions("extracts", [name for name, *_ in EXTRACTS])
    first, second = EXTRACTS[0][0], EXTRACTS[1][0]
    stages = stage_of_steps(defs)
    _run(defs, "ingest_job", instance, terminal, stages, first)
    _run(defs, "pipeline_job", instance, terminal, stages)
    _run(defs, "ingest_job", instance, terminal, stages, second)
    _run(defs, "refresh_job", instance, terminal, stages)
    _run(defs, "monitoring_job", instance, terminal, stages, second)
    print("  degraded lightgbm challenger → gate ...", file=terminal)
    round_started = time.perf_counter()
    result = run_degraded_challenger(defs, instance, QUIET, tags=drift_decision_tags(instance, second))
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        raise SystemExit(f"degraded challenger round failed: {failures[:3]}")
    label = "degraded lightgbm challenger → gate"
    _report(terminal, label, time.perf_counter() - round_started, result.run_id, instance, stages)
    with redirect_stdout(terminal):
        print_summary(settings, elapsed=time.perf_counter() - started, log_path=log_path)
