"""Settings every tier shares, and the tier markers (``unit``, ``dbt``, ``integration``) taken from the folder.

- ``tests/unit/<domain>/`` mirrors ``mlhops_dagster/<domain>/``: no dbt, no Dagster instance, no services;
- ``tests/dbt/`` builds the dbt project (``dbt build`` on hand-made or generated raw tables);
- ``tests/integration/`` materialises Dagster graphs, and holds what needs PostgreSQL;
- ``tests/support/`` holds the helpers and hand-made data they share.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
# dagster-dbt runs the `dbt` executable: make the one beside this interpreter findable.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

TESTS = Path(__file__).parent
TIERS = ("unit", "dbt", "integration")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshot", action="store_true", help="rewrite tests/integration/snapshots/definitions.json"
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(item.path).relative_to(TESTS).parts[0]
        if tier in TIERS:
            item.add_marker(tier)
        # With `-n 2 --dist loadgroup` a module's tests stay on one worker (its module fixtures are built once);
        # modules that read the session's whole-graph run share the group "whole_graph".
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(Path(item.path).relative_to(TESTS).as_posix()))
