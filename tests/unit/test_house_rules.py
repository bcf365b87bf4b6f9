"""House rules a reviewer should not have to check by eye: modules read in one sitting, functions fit on a screen."""

from __future__ import annotations

import ast
from pathlib import Path

from mlhops_dagster.settings import PROJECT_ROOT

PACKAGES = ("mlhops_dagster", "assets", "resources", "sensors", "jobs")
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 100


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (PROJECT_ROOT / package).rglob("*.py"))


def test_no_module_is_over_800_lines() -> None:
    long = {
        p.relative_to(PROJECT_ROOT).as_posix(): n
        for p in _sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_100_lines() -> None:
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PROJECT_ROOT).as_posix()}:{node.lineno} {node.name}"] = length
    assert long == {}
