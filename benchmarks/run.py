"""`make bench`: end-to-end data-path timings on a generated extract (not timed tests).

Measures, for N patients: generating the extract, raw ingest, the OMOP dbt project, the
data-quality checks, the feature build, and the floor. Prints one JSON object; pass
--patients to scale (default 10,000).

The floor is DuckDB reading the same CSV files once, every column parsed (the fastest of three
such reads, so that the page cache's state does not move it): for each file one
``SELECT count(col_1), ..., count(col_n) FROM read_csv(file)`` with DuckDB's type detection,
so every value of every column (not only the allow-listed ones the ingest keeps) is
tokenised and converted to its detected type, and nothing is materialised. (A bare
``count(*)`` lets the reader skip converting columns, and materialising the rows would
measure table inserts, not reading.)

The dbt project is parsed once (``dbt_parse_s``, a deployment's one-time preparation), then
runs three times on the ingested warehouse, each a separate `dbt` process:
``dbt build`` (seeds, models and data tests together, as the pipeline runs it: the total),
then ``dbt run`` (models only) and ``dbt test`` (data tests only), so model and test time are
reported apart. For each, ``*_s`` is the wall time of the process and ``*_exec_s`` dbt's own
execution time from ``run_results.json``; the difference is dbt's startup (Python imports,
partial parse, connection), reported for the build as ``dbt_startup_s``. ``dbt_slowest``
lists the slowest nodes of the build (node execution times overlap when dbt runs threads).
``omop_over_floor`` = the build's wall time / the floor.

``reconciliation_s`` is the pipeline's row reconciliation (``no_source_rows_lost``: every loaded
raw row followed into the CDM through the event lineage view ``omop_int.int__events``, which
recomputes the event ids), with ``reconciliation_lost_rows`` (0 on a correct build).

The data-quality checks (``mlhops_dagster.quality.checks``: the OHDSI DQD check types, ~1,300
instances, a handful of SQL statements per CDM table) are timed per table: ``quality_checks_s``
is the total, ``checks_by_table_s`` the slowest tables. ``checks_full_scan_s`` is their floor:
one plain full scan of every checked table that exists, every column read once
(``SELECT count(*), min(col_1), ..., min(col_n) FROM omop.<table>``; ``min``, not ``count``,
because DuckDB answers ``count(col)`` of a column without NULLs from its statistics, without
reading it). ``checks_over_full_scan`` = ``quality_checks_s`` / ``checks_full_scan_s``: how many
full scans' worth of work the checks cost. ``data_elements_s`` is the ML-DQA element report
(unit harmonisation and plausibility rules counted per lab and vital, diagnosis and medication
groups); ``features_s`` includes the same harmonisation, which the feature SQL applies.

Peak memory (MB): generator, ingest and every dbt command run in child processes, and each
child's own peak RSS comes from ``os.wait4`` (``*_peak_rss_mb``); ``peak_rss_mb`` has the
``resource.getrusage`` maxima of this process (``self``: floor, checks, features) and of its
largest child (``children``), and their sum (an upper bound: the peaks need not coincide).
On Linux a child's peak includes this process's RSS when it was started, which stays small
because the heavy steps run in children.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlhops_dagster.ehr.contract import FILES  # noqa: E402
from mlhops_dagster.ehr.ingest import ingest_extract  # noqa: E402
from mlhops_dagster.features import build_cohort_features  # noqa: E402
from mlhops_dagster.omop.reconciliation import reconcile  # noqa: E402
from mlhops_dagster.quality.catalogue import checks_by_table, default_catalogue  # noqa: E402
from mlhops_dagster.quality.elements import summarise_concept_sets, summarise_measurement_elements  # noqa: E402
from mlhops_dagster.quality.runner import run_table_checks  # noqa: E402
from mlhops_dagster.settings import load_settings  # noqa: E402
from mlhops_dagster.synthetic import generate_extract  # noqa: E402


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return round(time.perf_counter() - started, 2), value


def _child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess, int]:
    """Run a child process; its wall time, its output and its own peak RSS in MB (from os.wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = round(time.perf_counter() - started, 2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return wall, subprocess.CompletedProcess(args, proc.returncode, out.read(), err.read()), usage.ru_maxrss // 1024


def _peak_rss_mb() -> dict[str, int]:
    # ru_maxrss is in KiB on Linux.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return {"self": own, "children": children, "sum_upper_bound": own + children}


def read_floor(extract: Path) -> int:
    """DuckDB reads every CSV of the extract once, parsing every column; returns the row count."""
    con = duckdb.connect()
    total = 0
    for spec in FILES:
        path = extract / spec.file_name
        if not path.exists():
            continue
        columns = [row[0] for row in con.execute("DESCRIBE SELECT * FROM read_csv(?)", [str(path)]).fetchall()]
        counts = ", ".join("count(" + '"' + c.replace('"', '""') + '"' + ")" for c in columns)
        total += con.execute(f"SELECT count(*), {counts} FROM read_csv(?)", [str(path)]).fetchall()[0][0]
    con.close()
    return total


def floor_seconds(extract: Path, reads: int = 3) -> tuple[float, int]:
    """The fastest of ``reads`` reads of the extract (the floor is the least the read can take: a
    single read varied from 3.6 s to 5.0 s at 100k with the page cache's state) and its rows."""
    timings = [_timed(lambda: read_floor(extract)) for _ in range(reads)]
    return min(seconds for seconds, _ in timings), timings[0][1]


def full_scan(con: duckdb.DuckDBPyConnection, tables: list[str], schema: str = "omop") -> int:
    """One plain scan of each existing table, every column read once (the checks' floor); returns the rows."""
    present = {
        t
        for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
        ).fetchall()
    }
    total = 0
    for table in sorted(set(tables) & present):
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                [schema, table],
            ).fetchall()
        ]
        reads = "".join(', min("' + c.replace('"', '""') + '")' for c in columns)
        total += con.execute(f"SELECT count(*){reads} FROM {schema}.{table}").fetchall()[0][0]
    return total


def time_checks(con: duckdb.DuckDBPyConnection) -> tuple[float, dict[str, float]]:
    """All data-quality checks, table by table: the total and each table's seconds."""
    by_table: dict[str, float] = {}
    for table, checks in checks_by_table(default_catalogue()).items():
        by_table[table], _ = _timed(lambda table=table, checks=checks: run_table_checks(con, table, checks))
    return round(sum(by_table.values()), 2), by_table


def _dbt_args(command: str, work: Path) -> list[str]:
    return [
        str(Path(sys.executable).parent / "dbt"),
        command,
        "--project-dir",
        str(ROOT / "dbt_omop"),
        "--profiles-dir",
        str(ROOT / "dbt_omop"),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--quiet",
    ]


def run_dbt(command: str, work: Path, env: dict[str, str]) -> dict:
    """One `dbt <command>` process: wall time, dbt's execution time, peak RSS and per-node results.

    The commands share one target folder with the parse that precedes them, so each parses
    partially, as the pipeline's invocations do.
    """
    target = work / "target"
    wall, proc, peak_mb = _child(_dbt_args(command, work), env)
    if proc.returncode != 0:
        raise SystemExit(f"dbt {command} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    results = json.loads((target / "run_results.json").read_text())
    nodes = [(r["unique_id"], r["execution_time"]) for r in results["results"]]
    by_type: dict[str, dict] = {}
    for unique_id, seconds in nodes:
        kind = by_type.setdefault(unique_id.split(".")[0], {"nodes": 0, "exec_sum_s": 0.0})
        kind["nodes"] += 1
        kind["exec_sum_s"] = round(kind["exec_sum_s"] + seconds, 2)
    return {
        "wall_s": wall,
        "exec_s": round(results["elapsed_time"], 2),
        "peak_rss_mb": peak_mb,
        "by_type": by_type,
        "slowest": [(uid.split(".", 2)[-1], round(s, 2)) for uid, s in sorted(nodes, key=lambda n: -n[1])[:8]],
    }


def _step(args: argparse.Namespace) -> None:
    """Child-process steps (their memory is measured apart from this process): prints JSON."""
    if args.step == "generate":
        seconds, rows = _timed(
            lambda: generate_extract(
                Path(args.extract),
                patients=args.patients,
                seed=1,
                sites=5,
                start=dt.date(2016, 1, 1),
                end=dt.date(2021, 12, 31),
            )
        )
        print(json.dumps({"seconds": seconds, "rows": rows}))
    else:
        # the cap the pipeline's warehouse resource puts on its connections (Settings.duckdb_memory_limit)
        limit = load_settings().duckdb_memory_limit
        con = duckdb.connect(args.warehouse, config={"memory_limit": limit} if limit else {})
        seconds, load = _timed(lambda: ingest_extract(con, Path(args.extract), "bench", "benchmark-key-0123456789"))
        con.close()
        print(json.dumps({"seconds": seconds, "rows_loaded": load.rows_loaded}))


def _run_step(step: str, patients: int, extract: Path, warehouse: Path) -> tuple[dict, int]:
    args = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--step",
        step,
        "--patients",
        str(patients),
        "--extract",
        str(extract),
        "--warehouse",
        str(warehouse),
    ]
    _, proc, peak_mb = _child(args)
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--step", choices=("generate", "ingest"), help=argparse.SUPPRESS)
    parser.add_argument("--extract", help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", help=argparse.SUPPRESS)
    parser.add_argument("--keep", metavar="DIR", help="keep the extract and the ingested warehouse in DIR")
    parser.add_argument(
        "--reuse",
        metavar="DIR",
        help="skip generate+ingest: reuse DIR written by --keep "
        "(the warehouse is copied, DIR stays untouched; the floor is measured again)",
    )
    args = parser.parse_args()
    if args.step:
        _step(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        extract, warehouse = work / "extract", work / "warehouse.duckdb"
        report: dict = {"patients": args.patients, "cores": os.cpu_count()}
        if args.reuse:
            kept = Path(args.reuse)
            extract = kept / "extract"
            shutil.copyfile(kept / "warehouse.duckdb", warehouse)
            report.update(json.loads((kept / "report.json").read_text()))
            report["reused"] = str(kept)
            # the floor is re-measured beside the build it is compared with (same machine load)
            report["floor_read_csv_once_s"], report["floor_rows"] = floor_seconds(extract)
        else:
            if args.keep:
                extract = Path(args.keep) / "extract"
            generated, report["generate_peak_rss_mb"] = _run_step("generate", args.patients, extract, warehouse)
            report["generate_s"], report["rows"] = generated["seconds"], generated["rows"]
            report["csv_mb"] = round(sum(p.stat().st_size for p in extract.glob("*.csv")) / 1e6, 1)
            report["floor_read_csv_once_s"], report["floor_rows"] = floor_seconds(extract)
            ingested, report["ingest_peak_rss_mb"] = _run_step("ingest", args.patients, extract, warehouse)
            report["ingest_s"], report["rows_loaded"] = ingested["seconds"], ingested["rows_loaded"]
            if args.keep:
                shutil.copyfile(warehouse, Path(args.keep) / "warehouse.duckdb")
                (Path(args.keep) / "report.json").write_text(json.dumps(report))
        env = {**os.environ, "MLHOPS_WAREHOUSE_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        # A deployment parses the project once (`make manifest`, dagster-dbt's prepare step) and every
        # dbt invocation of the pipeline starts from that parse (dagster-dbt copies its
        # partial_parse.msgpack into the invocation's target folder): time the parse apart.
        report["dbt_parse_s"], _, _ = _child(_dbt_args("parse", work), env)
        build = run_dbt("build", work, env)
        models = run_dbt("run", work, env)
        tests = run_dbt("test", work, env)
        report["omop_dbt_build_s"] = build["wall_s"]
        report["dbt_build_exec_s"] = build["exec_s"]
        report["dbt_startup_s"] = round(build["wall_s"] - build["exec_s"], 2)
        report["dbt_run_s"], report["dbt_run_exec_s"] = models["wall_s"], models["exec_s"]
        report["dbt_test_s"], report["dbt_test_exec_s"] = tests["wall_s"], tests["exec_s"]
        report["dbt_build_peak_rss_mb"] = build["peak_rss_mb"]
        report["dbt_run_peak_rss_mb"], report["dbt_test_peak_rss_mb"] = models["peak_rss_mb"], tests["peak_rss_mb"]
        report["dbt_build_nodes"] = build["by_type"]
        report["dbt_slowest"] = build["slowest"]
        report["dbt_slowest_tests"] = tests["slowest"][:5]
        # capped as the pipeline's warehouse resource caps its connections (Settings.duckdb_memory_limit)
        limit = load_settings().duckdb_memory_limit
        con = duckdb.connect(str(warehouse), config={"memory_limit": limit} if limit else {})
        report["reconciliation_s"], reconciled = _timed(lambda: reconcile(con))
        report["reconciliation_lost_rows"] = reconciled.lost_rows
        report["quality_checks_s"], by_table = time_checks(con)
        report["checks_by_table_s"] = dict(sorted(by_table.items(), key=lambda kv: -kv[1])[:6])
        report["checks_full_scan_s"], _ = _timed(lambda: full_scan(con, list(by_table)))
        report["checks_over_full_scan"] = round(report["quality_checks_s"] / max(report["checks_full_scan_s"], 1e-9), 1)
        report["data_elements_s"], _ = _timed(
            lambda: (summarise_measurement_elements(con, "omop"), summarise_concept_sets(con, "omop"))
        )
        report["features_s"], features = _timed(lambda: build_cohort_features(con))
        report["cohort_rows"] = len(features)
        report["omop_rows"] = {
            t: con.execute(f"SELECT count(*) FROM omop.{t}").fetchall()[0][0]
            for t in ("person", "visit_occurrence", "measurement", "condition_occurrence")
        }
        con.close()
        report["omop_over_floor"] = round(report["omop_dbt_build_s"] / max(report["floor_read_csv_once_s"], 1e-9), 1)
        report["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
