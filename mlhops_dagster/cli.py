"""`mlhops` command line: generate synthetic extracts and run the demo."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from err


def parse_defects(text: str | None, default_rate: float) -> list:
    """``kind[,kind]`` or ``kind:rate[,kind:rate]`` (mixed is fine) -> ``DefectSpec`` list;
    a kind without a rate gets ``default_rate``. Raises ValueError naming a bad item."""
    from mlhops_dagster.synthetic import DefectSpec

    specs = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        kind, _, rate = item.partition(":")
        try:
            value = float(rate) if rate.strip() else default_rate
        except ValueError as err:
            raise ValueError(f"defect {item!r}: rate {rate!r} is not a number") from err
        specs.append(DefectSpec(kind.strip(), value))
    return specs


def _show_progress() -> None:
    """Print the package's INFO progress on stderr (stdout stays the JSON summary); other
    libraries keep their WARNING default. Done when a command runs, never at import."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mlhops_dagster").setLevel(logging.INFO)


def _generate(args: argparse.Namespace) -> int:
    from mlhops_dagster.synthetic import DEFECTS_MANIFEST, DRIFT_PRESETS, generate_extract

    _show_progress()
    if args.start >= args.end:
        print(f"error: --start {args.start} must be before --end {args.end}", file=sys.stderr)
        return 2
    try:
        defects = parse_defects(args.defects, args.defect_rate)
    except ValueError as err:
        print(f"error: --defects: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    rows = generate_extract(
        out,
        patients=args.patients,
        seed=args.seed,
        sites=args.sites,
        start=args.start,
        end=args.end,
        drift=DRIFT_PRESETS[args.drift],
        defects=defects,
    )
    summary: dict = {"out": str(args.out), "rows": rows}
    if defects:
        summary["defects"] = json.loads((out / DEFECTS_MANIFEST).read_text(encoding="utf-8"))["defects"]
    print(json.dumps(summary))
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Run the demo, then end the process without interpreter teardown: DuckDB's bindings (nanobind) print a
    ~60-line leak report there for objects a library keeps alive until exit, which reads like a crash. The
    demo's files, runs and summary are written and flushed by then."""
    from mlhops_dagster.demo import run_demo

    code = run_demo(patients=args.patients)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def _rollback(args: argparse.Namespace) -> int:
    from mlhops_dagster.modeling.registry import ModelRegistry
    from mlhops_dagster.settings import load_settings

    settings = load_settings()
    registry = ModelRegistry(settings.mlflow_tracking_uri, args.model or settings.model_name, settings.model_name)
    try:
        result = registry.rollback()
    except LookupError as err:
        print(f"mlhops rollback: {err}", file=sys.stderr)
        return 1
    print(result.message)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from mlhops_dagster.synthetic import DEFECT_INJECTORS, DRIFT_PRESETS

    parser = argparse.ArgumentParser(prog="mlhops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser(
        "generate",
        help="write a synthetic Synthea-format extract folder",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    gen.add_argument("--patients", type=int, default=2000, help="patients in the extract")
    gen.add_argument("--seed", type=int, default=1, help="random seed: the same seed writes the same files")
    gen.add_argument("--sites", type=int, default=3, help="hospitals (organizations and their providers)")
    gen.add_argument(
        "--out", required=True, help="the extract folder to write (required; e.g. data/landing/<extract_id>)"
    )
    gen.add_argument("--start", type=_date, default=dt.date(2016, 1, 1), help="first day of the extract (YYYY-MM-DD)")
    gen.add_argument("--end", type=_date, default=dt.date(2021, 12, 31), help="last day of the extract (YYYY-MM-DD)")
    gen.add_argument(
        "--drift", choices=sorted(DRIFT_PRESETS), default="none", help="shift the population (monitoring demos)"
    )
    gen.add_argument(
        "--defects",
        metavar="KIND[:RATE][,KIND[:RATE]]",
        help="inject data-quality defects (what each did goes to _defects.json); "
        f"kinds: {', '.join(sorted(DEFECT_INJECTORS))}",
    )
    gen.add_argument(
        "--defect-rate",
        type=float,
        default=0.01,
        metavar="R",
        help="share of eligible rows each defect without its own :RATE corrupts",
    )
    gen.set_defaults(func=_generate)
    demo = sub.add_parser("demo", help="generate two extracts and run the whole pipeline on them")
    demo.add_argument("--patients", type=int, default=2000, help="patients in each of the two extracts")
    demo.set_defaults(func=_demo)
    rollback = sub.add_parser(
        "rollback", help="move the registered model's `champion` alias back to the version that held it before"
    )
    rollback.add_argument("--model", help="registered model name (default: the configured MLHOPS_MODEL_NAME)")
    rollback.set_defaults(func=_rollback)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
