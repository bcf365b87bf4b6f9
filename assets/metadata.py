"""One way to put a table into Dagster metadata: ``dg.MetadataValue.table`` with a typed ``TableSchema``.

Domain code returns records (dicts or a DataFrame); this turns them into a table the UI sorts and
renders, with floats rounded for reading and numpy scalars and NaN made plain.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

DIGITS = 4
"""Floats are rounded to this many decimals: enough for rates and AUROCs at a glance."""
SIGNIFICANT = 3
"""Floats too small for :data:`DIGITS` (a p-value of 1e-9) keep this many significant digits instead."""


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar: numpy types unwrapped, NaN/NaT/None as None, floats rounded."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return float(f"{value:.{SIGNIFICANT}g}") if 0 < abs(value) < 10**-DIGITS else round(value, DIGITS)
    if isinstance(value, (bool, int, str)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _column_type(values: Sequence[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "float"
    return "string"


def table(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame,
    columns: Sequence[str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> dg.TableMetadataValue:
    """A typed metadata table of ``records``; ``columns`` picks and orders them (default: every key, first seen)."""
    rows: list[dict[str, Any]] = (
        [{str(k): v for k, v in r.items()} for r in records.to_dict("records")]
        if isinstance(records, pd.DataFrame)
        else [dict(r) for r in records]
    )
    if columns is None:
        columns = list(dict.fromkeys(k for row in rows for k in row))
    plain = [{c: _plain(row.get(c)) for c in columns} for row in rows]
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(c, _column_type([r[c] for r in plain]), description=(descriptions or {}).get(c))
            for c in columns
        ]
    )
    return dg.MetadataValue.table(records=[dg.TableRecord(r) for r in plain], schema=schema)
