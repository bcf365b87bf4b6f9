"""The whole loop on two small generated extracts, as the demo runs it: the integration tier's shared materialisation.

Extract 1 (2016–2021) is ingested and runs the main job; extract 2 (2022–2023, older and sicker,
in Synthea 3.0.0's column shape with unmapped codes and swapped units) is ingested, refreshed,
scored and checked for drift. Searches and DP epochs are trimmed (``TRAINING``): the tests check
what the loop records, not how good the models get.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import dagster as dg

from mlhops_dagster.definitions import build_definitions
from mlhops_dagster.settings import Settings
from mlhops_dagster.synthetic import DRIFT_PRESETS, DefectSpec, generate_extract
from tests.support.synthea_versions import to_exporter_version

FIRST, SECOND = "ex_2016_2021", "ex_2022_2023"
SEARCH_TRIALS = 3
TRAINING = {"search_trials": SEARCH_TRIALS, "dp_epochs": 4}
# ~80 test rows and a trimmed search: a calibration slope estimated on so few is too noisy for the gate's clinical
# bounds (0.8-1.25; 6.3 was seen), so the first version would be rejected and monitoring would have no champion to
# score with (the demo's 2,000 patients pass the default gate). The gate's own rules are tested in tests/unit/modeling.
RUN_CONFIG = {
    "pipeline_job": {
        "ops": {
            "model_promotion": {"config": {"calibration_slope_low": 0.05, "calibration_slope_high": 20.0}},
            **{f"{family}_model": {"config": TRAINING} for family in ("lightgbm", "logistic_regression", "dp_mlp")},
        }
    }
}
MANAGED_LOGGERS = {"python_logs": {"managed_python_loggers": ["mlhops_dagster"], "python_log_level": "INFO"}}
"""As deploy/dagster.yaml: domain loggers reach each run's event log."""


class WholeGraph(NamedTuple):
    settings: Settings
    defs: dg.Definitions
    instance: dg.DagsterInstance
    results: dict[tuple[str, str | None], dg.ExecuteInProcessResult]


def generate_extracts(settings: Settings) -> None:
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


@contextmanager
def materialise_whole_graph(data_dir: Path) -> Iterator[WholeGraph]:
    settings = Settings(data_dir=data_dir, pseudonym_key="integration-test-key-0123456789")
    generate_extracts(settings)
    defs = build_definitions(settings)
    with dg.instance_for_test(overrides=MANAGED_LOGGERS) as instance:
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
        yield WholeGraph(settings, defs, instance, results)
