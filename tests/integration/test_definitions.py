"""A snapshot of the whole graph: a change to any asset, check, job, sensor or schedule shows in review.

The snapshot (``tests/integration/snapshots/definitions.json``) records, per asset key, its group,
kinds, owners, upstream keys, partitioning, automation condition and check names; and the jobs,
sensors and schedules. After an intended change, refresh it with ``make update-snapshot`` and
review the diff like code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets.keys import MAPPING_RATE_KEY, cdm_key
from assets.quality import CATALOGUE_TABLES, CHECKED_TABLES
from mlhops_dagster.definitions import build_definitions
from mlhops_dagster.settings import Settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def snapshot(defs: dg.Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    checks: dict[str, list[str]] = {}
    for check_key in graph.asset_check_keys:
        checks.setdefault(check_key.asset_key.to_user_string(), []).append(check_key.name)
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        condition = node.automation_condition
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": type(partitions).__name__ if partitions else None,
            "automation": (condition.get_label() or type(condition).__name__) if condition else None,
            "executable": node.is_executable,
            "has_description": bool(node.description),
            "checks": sorted(checks.get(key.to_user_string(), [])),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "sensors": {
            s.name: {"status": s.default_status.value, "jobs": sorted(j.name for j in s.jobs) if s.has_jobs else []}
            for s in defs.sensors or []
        },
        "schedules": {
            s.name: {"cron": s.cron_schedule, "status": s.default_status.value, "job": s.job_name}
            for s in defs.schedules or []
        },
    }


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    return build_definitions(Settings(data_dir=tmp_path_factory.mktemp("defs")))


def test_definitions_match_the_snapshot(definitions: dg.Definitions, request: pytest.FixtureRequest) -> None:
    current = snapshot(definitions)
    if request.config.getoption("--update-snapshot"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == expected, "the graph changed: review it and run `make update-snapshot` if intended"


def test_every_asset_is_described_grouped_and_kinded(definitions: dg.Definitions) -> None:
    assets = snapshot(definitions)["assets"]
    executable = {k: a for k, a in assets.items() if a["executable"]}
    assert all(a["group"] and a["group"] != "default" for a in executable.values())
    assert [k for k, a in executable.items() if not a["has_description"]] == []
    assert [k for k, a in executable.items() if not a["kinds"]] == []


def test_keys_known_without_dbt_are_the_dbt_assets_keys(definitions: dg.Definitions) -> None:
    """``assets.keys`` computes CDM keys without parsing dbt: they must be exactly what dagster-dbt gives."""
    graph = definitions.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    assert {cdm_key(t) for t in (*CATALOGUE_TABLES, *CHECKED_TABLES)} <= keys
    assert MAPPING_RATE_KEY in keys
    assert "dbt" in graph.get(cdm_key("person")).kinds
