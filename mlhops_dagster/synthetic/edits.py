"""Reading and rewriting cells of the in-memory tables, in each column's own format (defect
injection edits the generated tables before they are written)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlhops_dagster.synthetic.arrays import decoded
from mlhops_dagster.synthetic.timeline import DAY, dates, timestamps


def plain_column(table: pa.Table, column: str) -> pa.Array:
    """One column as a single plain (not dictionary-encoded) array."""
    return decoded(table.column(column)).combine_chunks()


def set_rows(table: pa.Table, column: str, rows: np.ndarray, values: pa.Array | pa.Scalar) -> pa.Table:
    """``table`` with ``column`` replaced at positions ``rows`` by ``values`` (in row order) or
    by one scalar."""
    current = plain_column(table, column)
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    if isinstance(values, pa.Scalar):
        changed = pc.if_else(pa.array(mask), values.cast(current.type), current)
    else:
        changed = pc.replace_with_mask(current, pa.array(mask), values.cast(current.type))
    return table.set_column(table.schema.get_field_index(column), column, changed)


def moments(table: pa.Table, column: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds of a date or ``YYYY-MM-DDTHH:MM:SSZ`` column at ``rows``, and which are set."""
    values = plain_column(table, column).take(pa.array(rows, type=pa.int64()))
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    if pa.types.is_date32(values.type):
        days = values.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        return days.astype(np.int64) * DAY, valid
    parsed = pc.strptime(values, format="%Y-%m-%dT%H:%M:%SZ", unit="s")
    return parsed.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), valid


def set_moments(
    table: pa.Table, column: str, rows: np.ndarray, seconds: np.ndarray, valid: np.ndarray | None = None
) -> pa.Table:
    """Write epoch seconds back into a date or timestamp column, in that column's format."""
    valid = np.ones(len(rows), dtype=bool) if valid is None else valid
    dated = pa.types.is_date32(table.schema.field(column).type)
    values = dates(seconds, valid) if dated else timestamps(seconds, valid)
    return set_rows(table, column, rows, values)
