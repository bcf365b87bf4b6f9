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
import time

EXTRACTS = (
    ("synthea_2016_2021", 1, dt.date(2016, 1, 1), dt.date(2021, 12, 31), "none"),
    ("synthea_2022_2023", 2, dt.date(2022, 1, 1), dt.date(2023, 12, 31), "aging"),
)

# The demo prints its own progress; Dagster's event log stays complete in the instance and the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _run(defs, job_name: str, instance, partition_key: str | None = None) -> None:
    started = time.perf_counter()
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance,
        partition_key=partition_key,
        raise_on_error=False,
        run_config=QUIET,
    )
    label = f"{job_name}" + (f"[{partition_key}]" if partition_key else "")
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        raise SystemExit(f"{label} failed: {failures[:3]}")
    print(f"  {label}: ok in {time.perf_counter() - started:.1f}s (run {result.run_id[:8]})")


DEGRADED_ROUND = ("lightgbm_model", "lightgbm_evaluation", "model_registration", "model_promotion")


def run_degraded_challenger(defs, instance, run_config: dict | None = None):
    """Train one deliberately worse LightGBM (preset ``degraded``) and send it through evaluation, registration and
    the promotion gate, in one retraining-job run; returns the run's result (not raised on failure)."""
    import dagster as dg

    config = {**(run_config or {}), "ops": {"lightgbm_model": {"config": {"preset": "degraded"}}}}
    return defs.resolve_job_def("retraining_job").execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(k) for k in DEGRADED_ROUND],
        run_config=config,
        raise_on_error=False,
    )


def run_demo(patients: int = 2000) -> int:
    from mlhops_dagster.settings import load_settings

    settings = load_settings()
    settings.dagster_home.mkdir(parents=True, exist_ok=True)

    import dagster as dg

    from mlhops_dagster.definitions import build_definitions
    from mlhops_dagster.demo_summary import print_summary
    from mlhops_dagster.ehr.ingest import is_complete_extract
    from mlhops_dagster.synthetic import DRIFT_PRESETS, generate_extract

    started = time.perf_counter()
    if not settings.pseudonym_key:
        print(
            f"MLHOPS_PSEUDONYM_KEY is not set: pseudonymising with a generated local key "
            f"({settings.local_key_file}); production sets it from a secret store."
        )
    print(f"Data dir: {settings.data_dir}")
    for name, seed, start, end, drift in EXTRACTS:
        folder = settings.landing_dir / name
        if not is_complete_extract(folder):
            rows = generate_extract(
                folder, patients=patients, seed=seed, sites=3, start=start, end=end, drift=DRIFT_PRESETS[drift]
            )
            print(f"  generated {name}: {rows.get('patients')} patients, {rows.get('encounters')} encounters")
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    instance.add_dynamic_partitions("extracts", [name for name, *_ in EXTRACTS])
    first, second = EXTRACTS[0][0], EXTRACTS[1][0]
    _run(defs, "ingest_job", instance, first)
    _run(defs, "pipeline_job", instance)
    _run(defs, "ingest_job", instance, second)
    _run(defs, "refresh_job", instance)
    _run(defs, "monitoring_job", instance, second)
    round_started = time.perf_counter()
    result = run_degraded_challenger(defs, instance, QUIET)
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        raise SystemExit(f"degraded challenger round failed: {failures[:3]}")
    print(
        f"  degraded lightgbm challenger → gate: ok in {time.perf_counter() - round_started:.1f}s "
        f"(run {result.run_id[:8]})"
    )
    print_summary(settings, elapsed=time.perf_counter() - started)
    return 0
