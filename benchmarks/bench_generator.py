"""Time the synthetic extract generator end to end (tables + CSV writing); print one JSON line.

    python benchmarks/bench_generator.py --patients 100000

The extract goes to a temporary folder that is removed afterwards; ``mb`` is its size on
disk. Target: 100,000 patients in under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from mlhops_dagster.synthetic import DRIFT_PRESETS, generate_extract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sites", type=int, default=3)
    parser.add_argument("--drift", choices=sorted(DRIFT_PRESETS), default="none")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_generator_") as folder:
        started = time.perf_counter()
        rows = generate_extract(
            Path(folder), patients=args.patients, seed=args.seed, sites=args.sites, drift=DRIFT_PRESETS[args.drift]
        )
        seconds = time.perf_counter() - started
        size = sum(f.stat().st_size for f in Path(folder).iterdir())
    print(
        json.dumps(
            {
                "patients": args.patients,
                "seconds": round(seconds, 2),
                "rows": rows,
                "mb": round(size / 1e6, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "cpus": len(os.sched_getaffinity(0)),
            }
        )
    )


if __name__ == "__main__":
    main()
