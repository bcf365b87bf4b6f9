"""What the database holds: tables and columns (information_schema), and where the vocabulary's concept table is.

Shared by the check runner (which checks apply) and the data elements (which optional columns exist);
portable SQL, DuckDB and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

CONCEPT_CANDIDATES = ("vocab.concept", "vocab_athena.concept")
"""The vocabulary's concept table when the CDM schema has none: the demo seeds', then Athena's."""


def introspect_columns(con: Any, schemas: Collection[str]) -> dict[tuple[str, str], dict[str, str]]:
    """(schema, table) -> {column: data type} for every table of ``schemas`` (DuckDB and PostgreSQL)."""
    marks = ", ".join("?" for _ in schemas)
    rows = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema IN ({marks})",
        sorted(schemas),
    ).fetchall()
    out: dict[tuple[str, str], dict[str, str]] = {}
    for s, t, c, d in rows:
        out.setdefault((str(s), str(t).lower()), {})[str(c).lower()] = str(d).upper()
    return out


def resolve_concept_relation(con: Any, schema: str, candidates: tuple[str, ...] = CONCEPT_CANDIDATES) -> str | None:
    """The first of ``<schema>.concept`` and ``candidates`` that exists (None: concept checks do not apply)."""
    options = (f"{schema}.concept", *candidates)
    found = introspect_columns(con, {o.split(".")[0] for o in options})
    return next((o for o in options if tuple(o.split(".")) in found), None)
