"""`make bench`: end-to-end data-path timings on a generated extract (not timed tests).

Measures, for N patients: generating the extract, raw ingest, the OMOP dbt build, the
data-quality checks, the feature build, and the floor — DuckDB reading the same CSVs once.
Prints one JSON object; pass --patients to scale (default 10,000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlhops_dagster.ehr.contract import FILES  # noqa: E402
from mlhops_dagster.ehr.generator import generate_extract  # noqa: E402
from mlhops_dagster.ehr.ingest import ingest_extract  # noqa: E402
from mlhops_dagster.features.readmission import build_readmission_features  # noqa: E402
from mlhops_dagster.quality.checks import checks_by_table, default_catalogue, run_table_checks  # noqa: E402


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return round(time.perf_counter() - started, 2), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        extract, warehouse = work / "extract", work / "warehouse.duckdb"
        report: dict = {"patients": args.patients, "cores": os.cpu_count()}
        report["generate_s"], rows = _timed(lambda: generate_extract(
            extract, patients=args.patients, seed=1, sites=5, start=dt.date(2016, 1, 1), end=dt.date(2021, 12, 31)))
        report["rows"] = rows
        report["csv_mb"] = round(sum(p.stat().st_size for p in extract.glob("*.csv")) / 1e6, 1)

        def floor() -> int:
            con = duckdb.connect()
            total = 0
            for spec in FILES:
                path = extract / spec.file_name
                if path.exists():
                    total += con.execute(f"SELECT count(*) FROM read_csv('{path}', all_varchar=true)").fetchall()[0][0]
            return total

        report["floor_read_csv_once_s"], _ = _timed(floor)
        con = duckdb.connect(str(warehouse))
        report["ingest_s"], load = _timed(lambda: ingest_extract(con, extract, "bench", "benchmark-key-0123456789"))
        report["rows_loaded"] = load.rows_loaded
        con.close()
        env = {**os.environ, "MLHOPS_WAREHOUSE_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        dbt = [str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", str(ROOT / "dbt_omop"),
               "--profiles-dir", str(ROOT / "dbt_omop"), "--target-path", str(work / "target"),
               "--log-path", str(work / "logs"), "--quiet"]
        report["omop_dbt_build_s"], proc = _timed(lambda: subprocess.run(dbt, env=env, capture_output=True, text=True))
        if proc.returncode != 0:
            raise SystemExit(f"dbt build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        con = duckdb.connect(str(warehouse))
        catalogue = checks_by_table(default_catalogue())
        report["quality_checks_s"], _ = _timed(
            lambda: [run_table_checks(con, table, checks) for table, checks in catalogue.items()])
        report["features_s"], features = _timed(lambda: build_readmission_features(con))
        report["cohort_rows"] = len(features)
        report["omop_rows"] = {t: con.execute(f"SELECT count(*) FROM omop.{t}").fetchall()[0][0]
                               for t in ("person", "visit_occurrence", "measurement", "condition_occurrence")}
        con.close()
        report["omop_over_floor"] = round(report["omop_dbt_build_s"] / max(report["floor_read_csv_once_s"], 1e-9), 1)
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
