"""The README and docs/ stay true to the code: the variables settings.py reads, the paths the pages name."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "mlhops_dagster" / "settings.py").read_text()
    return set(re.findall(r'"((?:MLHOPS|DAGSTER)_[A-Z_]*[A-Z])"', source))


def _configuration_table() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1])}


def test_the_configuration_table_lists_exactly_the_variables_settings_reads() -> None:
    read = _variables_read_by_settings()
    assert len(read) > 10  # the pattern found them
    assert _configuration_table() == read


def test_every_repository_path_the_pages_name_exists() -> None:
    """A path in backticks that starts at a top-level folder of the repository must exist (a file or a folder)."""
    tops = ("mlhops_dagster/", "assets/", "resources/", "sensors/", "jobs/", "tests/", "dbt_omop/", "deploy/", "docs/")
    missing = []
    for page in PAGES:
        for path in re.findall(r"`([A-Za-z0-9_./-]+)(?:::[A-Za-z0-9_]+)?`", page.read_text()):
            if path.startswith(tops) and "<" not in path and not (ROOT / path.rstrip("/")).exists():
                missing.append(f"{page.name}: {path}")
    assert not missing, missing
