"""`mlhops` command line: generate synthetic extracts and run the demo."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from err


def _generate(args: argparse.Namespace) -> int:
    from mlhops_dagster.ehr.generator import DRIFT_PRESETS, generate_extract

    if args.start >= args.end:
        print(f"error: --start {args.start} must be before --end {args.end}", file=sys.stderr)
        return 2
    rows = generate_extract(Path(args.out), patients=args.patients, seed=args.seed, sites=args.sites,
                            start=args.start, end=args.end, drift=DRIFT_PRESETS[args.drift])
    print(json.dumps({"out": str(args.out), "rows": rows}))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from mlhops_dagster.demo import run_demo

    return run_demo(patients=args.patients)


def build_parser() -> argparse.ArgumentParser:
    from mlhops_dagster.ehr.generator import DRIFT_PRESETS

    parser = argparse.ArgumentParser(prog="mlhops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a synthetic Synthea-format extract folder")
    gen.add_argument("--patients", type=int, default=2000)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--sites", type=int, default=3)
    gen.add_argument("--out", required=True)
    gen.add_argument("--start", type=_date, default=dt.date(2016, 1, 1))
    gen.add_argument("--end", type=_date, default=dt.date(2021, 12, 31))
    gen.add_argument("--drift", choices=sorted(DRIFT_PRESETS), default="none",
                     help="shift the population (monitoring demos)")
    gen.set_defaults(func=_generate)
    demo = sub.add_parser("demo", help="generate two extracts and run the whole pipeline on them")
    demo.add_argument("--patients", type=int, default=2000)
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
