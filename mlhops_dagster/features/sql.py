"""SQL text helpers shared by the cohort, feature and concept SQL.

Every value that reaches the generated SQL goes through one of these: identifiers are quoted,
concept ids forced to ``int`` and strings escaped, so a task file or catalogue cannot inject SQL.
"""

from __future__ import annotations

from collections.abc import Sequence


def quote(identifier: str) -> str:
    """A quoted SQL identifier (a feature id, an exclusion flag, a schema)."""
    return '"' + identifier.replace('"', '""') + '"'


def ids(values: Sequence[int]) -> str:
    """A comma-separated list of integer concept ids for ``IN (...)``."""
    return ", ".join(str(int(v)) for v in values)


def text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def date(expr: str) -> str:
    """``expr`` as a DATE: CDM date columns may arrive as timestamps or text from a site's own CDM."""
    return f"CAST({expr} AS DATE)"
