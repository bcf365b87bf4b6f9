"""docs/data-quality.md stays true to the code: its check-type, override and value-range tables."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from mlhops_dagster.quality.catalogue import PROJECT_OVERRIDES, default_catalogue
from mlhops_dagster.quality.check_types import CHECK_TYPES
from mlhops_dagster.quality.plausibility import VALUE_RANGES

DOC = Path(__file__).resolve().parents[3] / "docs" / "data-quality.md"


def _rows(section: str) -> list[list[str]]:
    """The body rows of the first table under the ``## section`` heading, cells stripped of backticks."""
    text = DOC.read_text().split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in text.splitlines() if line.startswith("|")][2:]
    return [[cell.strip().strip("`*") for cell in line.strip("|").split("|")] for line in lines]


def test_the_check_type_table_lists_every_type_with_its_counts() -> None:
    catalogue = default_catalogue(dt.date(2026, 1, 1))
    instances = Counter(c.check_type for c in catalogue)
    errors = Counter(c.check_type for c in catalogue if c.severity == "ERROR")
    rows = _rows("Check types")
    total = rows.pop()
    documented = {r[0]: r for r in rows}
    assert list(documented) == list(CHECK_TYPES)
    for name, t in CHECK_TYPES.items():
        level, category, sub, context, severity, n, n_error = documented[name][1:]
        assert (level, category, sub, context, severity) == (
            t.level,
            t.kahn_category,
            t.kahn_subcategory or "—",
            t.context,
            t.dqd_severity,
        ), name
        assert (int(n), int(n_error)) == (instances[name], errors[name]), name
    assert (int(total[-2]), int(total[-1])) == (len(catalogue), sum(errors.values()))
    assert f"**{len(catalogue):,} checks**" in DOC.read_text()


def test_the_override_and_value_range_tables_match_the_code() -> None:
    overrides = {r[0]: r[1:] for r in _rows("Project overrides")}
    assert set(overrides) == set(PROJECT_OVERRIDES)
    for name, o in PROJECT_OVERRIDES.items():
        threshold = "DQD default" if o.threshold_pct is None else str(o.threshold_pct)
        assert overrides[name] == [o.severity, threshold, o.group], name
    ranges = [(r[0], int(r[1]), r[2], float(r[3]), float(r[4])) for r in _rows("Plausible value ranges")]
    assert ranges == [
        (r.label, r.concept_id, "—" if r.unit_concept_id is None else str(r.unit_concept_id), r.low, r.high)
        for r in VALUE_RANGES
    ]
