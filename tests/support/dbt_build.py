"""One way for tests to run `dbt build` on the project: in-process, into a temp target, failing loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt.cli import main as dbt_main

from mlhops_dagster.settings import DBT_PROJECT_DIR


def dbt_build(tmp: Path, env: dict[str, str], target: str | None = None, dbt_vars: dict | None = None) -> None:
    """`dbt build` (seeds, models, tests) with ``env`` set; fails the test naming every failed node."""
    args = [
        "build",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]
    if target:
        args += ["--target", target]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    with pytest.MonkeyPatch.context() as mp:
        for var, value in env.items():
            mp.setenv(var, value)
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        result = dbt_main.dbtRunner().invoke(args)
    failures = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]
    assert result.success, f"dbt build --target {target or 'duckdb'} failed: {result.exception or failures}"
